//! What the auth service keeps, behind one small trait with two backends:
//! [`embedded::EmbeddedStore`] (a SQLite file) and [`mongo::MongoStore`].
//! Both guarantee the same things, checked by `tests/store_conformance.rs`.

use std::sync::Arc;

use async_trait::async_trait;

use crate::config::Config;
use crate::error::Error;

pub mod embedded;
pub mod mongo;

/// A registered user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// UUIDv7.
    pub id: String,
    /// As registered (case kept).
    pub username: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    pub avatar_media_id: Option<String>,
    /// Unix milliseconds.
    pub created_at_ms: i64,
}

/// The token-signing key, stored once for every replica.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    /// The JWT `kid`.
    pub key_id: String,
    /// Ed25519 private key, PKCS#8 PEM.
    pub private_key_pem: String,
    pub created_at_ms: i64,
}

#[async_trait]
pub trait Store: Send + Sync {
    /// Inserts a user. Names are unique ignoring case: a clash with an
    /// existing name (even one racing in concurrently) is
    /// [`Error::UsernameTaken`].
    async fn create_user(&self, user: &UserRecord) -> Result<(), Error>;

    /// A cheap round trip to the storage, for health: `Ok` when it answers.
    async fn ping(&self) -> Result<(), Error>;

    async fn find_user_by_id(&self, id: &str) -> Result<Option<UserRecord>, Error>;

    /// Looks a name up ignoring case.
    async fn find_user_by_username(&self, username: &str) -> Result<Option<UserRecord>, Error>;

    /// Sets (`Some`) or clears (`None`) the avatar; returns the updated user,
    /// or `None` when there is no such user.
    async fn set_avatar(
        &self,
        user_id: &str,
        avatar_media_id: Option<&str>,
    ) -> Result<Option<UserRecord>, Error>;

    /// Remembers a refresh token by its hash until `expires_at_ms`.
    async fn insert_refresh_token(
        &self,
        hash: &str,
        user_id: &str,
        expires_at_ms: i64,
    ) -> Result<(), Error>;

    /// Atomically removes the token and returns its user id, if it exists and
    /// has not expired by `now_ms`. Of two concurrent calls with one hash, at
    /// most one gets `Some`.
    async fn consume_refresh_token(&self, hash: &str, now_ms: i64)
    -> Result<Option<String>, Error>;

    /// Removes the token if present; absent tokens are not an error.
    async fn revoke_refresh_token(&self, hash: &str) -> Result<(), Error>;

    /// Stores `candidate` unless a key is already stored, and returns the
    /// stored one. Insert-if-absent, so replicas starting together agree.
    async fn signing_key_get_or_init(
        &self,
        candidate: &SigningKeyRecord,
    ) -> Result<SigningKeyRecord, Error>;
}

/// `MONGO_URI` set → MongoDB, otherwise the SQLite file under `DATA_DIR`.
pub async fn open(config: &Config) -> Result<Arc<dyn Store>, Error> {
    match &config.mongo_uri {
        Some(uri) => {
            tracing::info!(database = %config.mongo_db, "auth store: MongoDB");
            Ok(Arc::new(
                mongo::MongoStore::connect(uri, &config.mongo_db).await?,
            ))
        }
        None => {
            let path = config.sqlite_path();
            tracing::info!(path = %path.display(), "auth store: embedded SQLite");
            Ok(Arc::new(embedded::EmbeddedStore::open(&path).await?))
        }
    }
}
