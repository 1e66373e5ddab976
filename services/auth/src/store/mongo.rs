//! The MongoDB store: collections `users`, `refresh_tokens` and
//! `signing_keys` in the service's own database. Indexes are created
//! idempotently on connect. Every write waits for a journaled majority, since
//! a lost user, a lost revocation or a lost key would all be visible bugs.

use std::time::Duration;

use async_trait::async_trait;
use mongodb::bson::{DateTime, doc};
use mongodb::options::{
    ClientOptions, CollectionOptions, IndexOptions, ReturnDocument, WriteConcern,
};
use mongodb::{Client, Collection, IndexModel};
use serde::{Deserialize, Serialize};

use super::{SigningKeyRecord, Store, UserRecord};
use crate::error::Error;
use crate::validation::username_key;

const CURRENT_KEY_SLOT: &str = "current";

#[derive(Debug, Serialize, Deserialize)]
struct UserDoc {
    #[serde(rename = "_id")]
    id: String,
    username: String,
    /// The uniqueness key: the name lower-cased.
    username_lower: String,
    password_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    avatar_media_id: Option<String>,
    created_at: i64,
}

impl From<UserDoc> for UserRecord {
    fn from(d: UserDoc) -> UserRecord {
        UserRecord {
            id: d.id,
            username: d.username,
            password_hash: d.password_hash,
            avatar_media_id: d.avatar_media_id,
            created_at_ms: d.created_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct RefreshTokenDoc {
    hash: String,
    user_id: String,
    /// A BSON date so the TTL index can expire it.
    expires_at: DateTime,
}

#[derive(Debug, Serialize, Deserialize)]
struct SigningKeyDoc {
    #[serde(rename = "_id")]
    slot: String,
    key_id: String,
    private_key_pem: String,
    created_at: i64,
}

pub struct MongoStore {
    users: Collection<UserDoc>,
    refresh_tokens: Collection<RefreshTokenDoc>,
    signing_keys: Collection<SigningKeyDoc>,
}

impl MongoStore {
    /// Connects and makes sure the indexes exist.
    pub async fn connect(uri: &str, database: &str) -> Result<MongoStore, Error> {
        let mut options = ClientOptions::parse(uri).await?;
        options.app_name.get_or_insert_with(|| "chat-auth".into());
        let client = Client::with_options(options)?;
        let db = client.database(database);
        let mut durable = WriteConcern::majority();
        durable.journal = Some(true);
        let opts = CollectionOptions::builder().write_concern(durable).build();
        let store = MongoStore {
            users: db.collection_with_options("users", opts.clone()),
            refresh_tokens: db.collection_with_options("refresh_tokens", opts.clone()),
            signing_keys: db.collection_with_options("signing_keys", opts),
        };
        store.ensure_indexes().await?;
        Ok(store)
    }

    async fn ensure_indexes(&self) -> Result<(), Error> {
        let unique = |name: &str| {
            IndexOptions::builder()
                .unique(true)
                .name(name.to_owned())
                .build()
        };
        self.users
            .create_index(
                IndexModel::builder()
                    .keys(doc! { "username_lower": 1 })
                    .options(unique("username_lower_unique"))
                    .build(),
            )
            .await?;
        self.refresh_tokens
            .create_index(
                IndexModel::builder()
                    .keys(doc! { "hash": 1 })
                    .options(unique("hash_unique"))
                    .build(),
            )
            .await?;
        self.refresh_tokens
            .create_index(
                IndexModel::builder()
                    .keys(doc! { "expires_at": 1 })
                    .options(
                        IndexOptions::builder()
                            .expire_after(Duration::ZERO)
                            .name("expires_at_ttl".to_owned())
                            .build(),
                    )
                    .build(),
            )
            .await?;
        Ok(())
    }
}

use chat_common::mongo::is_duplicate_key;

#[async_trait]
impl Store for MongoStore {
    async fn ping(&self) -> Result<(), Error> {
        self.users
            .client()
            .database("admin")
            .run_command(doc! { "ping": 1 })
            .await?;
        Ok(())
    }

    async fn create_user(&self, user: &UserRecord) -> Result<(), Error> {
        let d = UserDoc {
            id: user.id.clone(),
            username: user.username.clone(),
            username_lower: username_key(&user.username),
            password_hash: user.password_hash.clone(),
            avatar_media_id: user.avatar_media_id.clone(),
            created_at: user.created_at_ms,
        };
        match self.users.insert_one(&d).await {
            Ok(_) => Ok(()),
            Err(e) if is_duplicate_key(&e) => Err(Error::UsernameTaken),
            Err(e) => Err(e.into()),
        }
    }

    async fn find_user_by_id(&self, id: &str) -> Result<Option<UserRecord>, Error> {
        Ok(self
            .users
            .find_one(doc! { "_id": id })
            .await?
            .map(Into::into))
    }

    async fn find_user_by_username(&self, username: &str) -> Result<Option<UserRecord>, Error> {
        Ok(self
            .users
            .find_one(doc! { "username_lower": username_key(username) })
            .await?
            .map(Into::into))
    }

    async fn set_avatar(
        &self,
        user_id: &str,
        avatar_media_id: Option<&str>,
    ) -> Result<Option<UserRecord>, Error> {
        let update = match avatar_media_id {
            Some(media) => doc! { "$set": { "avatar_media_id": media } },
            None => doc! { "$unset": { "avatar_media_id": "" } },
        };
        Ok(self
            .users
            .find_one_and_update(doc! { "_id": user_id }, update)
            .return_document(ReturnDocument::After)
            .await?
            .map(Into::into))
    }

    async fn insert_refresh_token(
        &self,
        hash: &str,
        user_id: &str,
        expires_at_ms: i64,
    ) -> Result<(), Error> {
        let d = RefreshTokenDoc {
            hash: hash.to_owned(),
            user_id: user_id.to_owned(),
            expires_at: DateTime::from_millis(expires_at_ms),
        };
        self.refresh_tokens.insert_one(&d).await?;
        Ok(())
    }

    async fn consume_refresh_token(
        &self,
        hash: &str,
        now_ms: i64,
    ) -> Result<Option<String>, Error> {
        // The TTL monitor runs only once a minute, so expiry is also filtered here.
        let filter = doc! { "hash": hash, "expires_at": { "$gt": DateTime::from_millis(now_ms) } };
        Ok(self
            .refresh_tokens
            .find_one_and_delete(filter)
            .await?
            .map(|d| d.user_id))
    }

    async fn revoke_refresh_token(&self, hash: &str) -> Result<(), Error> {
        self.refresh_tokens
            .delete_one(doc! { "hash": hash })
            .await?;
        Ok(())
    }

    async fn signing_key_get_or_init(
        &self,
        candidate: &SigningKeyRecord,
    ) -> Result<SigningKeyRecord, Error> {
        let d = SigningKeyDoc {
            slot: CURRENT_KEY_SLOT.to_owned(),
            key_id: candidate.key_id.clone(),
            private_key_pem: candidate.private_key_pem.clone(),
            created_at: candidate.created_at_ms,
        };
        // Losing the insert race is the normal case for all but one replica.
        match self.signing_keys.insert_one(&d).await {
            Ok(_) => {}
            Err(e) if is_duplicate_key(&e) => {}
            Err(e) => return Err(e.into()),
        }
        let stored = self
            .signing_keys
            .find_one(doc! { "_id": CURRENT_KEY_SLOT })
            .await?
            .ok_or_else(|| Error::Corrupt("signing key vanished right after insert".into()))?;
        Ok(SigningKeyRecord {
            key_id: stored.key_id,
            private_key_pem: stored.private_key_pem,
            created_at_ms: stored.created_at,
        })
    }
}
