//! The metadata store: one record per uploaded file. The bytes live in S3
//! under the record's id; this store only knows about them.

use async_trait::async_trait;

use crate::error::Error;

pub mod embedded;
pub mod mongo;

pub use embedded::EmbeddedStore;
pub use mongo::MongoStore;

/// What the file is for; decides which content types are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Avatar,
    Attachment,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Avatar => "avatar",
            Purpose::Attachment => "attachment",
        }
    }

    pub fn parse(s: &str) -> Option<Purpose> {
        match s {
            "avatar" => Some(Purpose::Avatar),
            "attachment" => Some(Purpose::Attachment),
            _ => None,
        }
    }
}

/// One stored file's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRecord {
    /// UUIDv7; also the object key in the bucket.
    pub id: String,
    /// Username of the uploader, as registered.
    pub owner: String,
    /// Sanitised display name.
    pub name: String,
    pub content_type: String,
    pub size: u64,
    /// Lower-case hex SHA-256 of the bytes.
    pub sha256: String,
    /// Unix milliseconds.
    pub created_at: i64,
    pub purpose: Purpose,
}

#[async_trait]
pub trait Store: Send + Sync {
    /// Adds a record; [`Error::AlreadyExists`] when the id is taken.
    async fn insert(&self, record: &MediaRecord) -> Result<(), Error>;
    /// A cheap round trip to the storage, for health: `Ok` when it answers.
    async fn ping(&self) -> Result<(), Error>;
    async fn get(&self, id: &str) -> Result<Option<MediaRecord>, Error>;
    /// Removes a record; returns whether one existed.
    async fn delete(&self, id: &str) -> Result<bool, Error>;
}

/// A stored purpose that no version of this service writes means the data
/// was edited by hand; reading it is an error rather than a guess.
fn parse_stored_purpose(id: &str, purpose: &str) -> Result<Purpose, Error> {
    Purpose::parse(purpose)
        .ok_or_else(|| Error::Corrupt(format!("media {id} has unknown purpose {purpose:?}")))
}
