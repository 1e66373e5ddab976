//! The MongoDB store: collection `media` in the service's own database,
//! writes acknowledged by a majority and journaled.

use async_trait::async_trait;
use mongodb::bson::doc;
use mongodb::options::{Acknowledgment, CollectionOptions, IndexOptions, WriteConcern};
use mongodb::{Client, Collection, IndexModel};
use serde::{Deserialize, Serialize};

use super::{MediaRecord, Store, parse_stored_purpose};
use crate::error::Error;

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MediaDoc {
    #[serde(rename = "_id")]
    id: String,
    owner: String,
    name: String,
    content_type: String,
    size: i64,
    sha256: String,
    created_at: i64,
    purpose: String,
}

pub struct MongoStore {
    media: Collection<MediaDoc>,
}

impl MongoStore {
    /// Connects and creates the indexes (idempotent).
    pub async fn connect(uri: &str, database: &str) -> Result<MongoStore, Error> {
        let client = Client::with_uri_str(uri).await?;
        let concern = WriteConcern::builder()
            .w(Acknowledgment::Majority)
            .journal(true)
            .build();
        let media = client.database(database).collection_with_options(
            "media",
            CollectionOptions::builder().write_concern(concern).build(),
        );
        media
            .create_index(
                IndexModel::builder()
                    .keys(doc! { "owner": 1 })
                    .options(IndexOptions::builder().name("owner".to_owned()).build())
                    .build(),
            )
            .await?;
        Ok(MongoStore { media })
    }
}

#[async_trait]
impl Store for MongoStore {
    async fn ping(&self) -> Result<(), Error> {
        self.media
            .client()
            .database("admin")
            .run_command(doc! { "ping": 1 })
            .await?;
        Ok(())
    }

    async fn insert(&self, record: &MediaRecord) -> Result<(), Error> {
        let doc = MediaDoc {
            id: record.id.clone(),
            owner: record.owner.clone(),
            name: record.name.clone(),
            content_type: record.content_type.clone(),
            size: i64::try_from(record.size)
                .map_err(|_| Error::InvalidArgument("File size is out of range".into()))?,
            sha256: record.sha256.clone(),
            created_at: record.created_at,
            purpose: record.purpose.as_str().to_owned(),
        };
        match self.media.insert_one(doc).await {
            Ok(_) => Ok(()),
            Err(e) if chat_common::mongo::is_duplicate_key(&e) => {
                Err(Error::AlreadyExists(record.id.clone()))
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn get(&self, id: &str) -> Result<Option<MediaRecord>, Error> {
        let Some(doc) = self.media.find_one(doc! { "_id": id }).await? else {
            return Ok(None);
        };
        Ok(Some(MediaRecord {
            purpose: parse_stored_purpose(&doc.id, &doc.purpose)?,
            id: doc.id,
            owner: doc.owner,
            name: doc.name,
            content_type: doc.content_type,
            size: doc.size.max(0) as u64,
            sha256: doc.sha256,
            created_at: doc.created_at,
        }))
    }

    async fn delete(&self, id: &str) -> Result<bool, Error> {
        let result = self.media.delete_one(doc! { "_id": id }).await?;
        Ok(result.deleted_count > 0)
    }
}
