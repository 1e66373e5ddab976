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

/// A signing key, stored once for every replica.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    /// The JWT `kid`.
    pub key_id: String,
    /// Ed25519 private key, PKCS#8 PEM.
    pub private_key_pem: String,
    pub created_at_ms: i64,
}

/// One login: what its refresh tokens and access tokens belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// UUIDv7; the access tokens' `sid`.
    pub id: String,
    pub user_id: String,
    pub created_at_ms: i64,
    /// The start or the latest refresh.
    pub last_used_at_ms: i64,
    pub user_agent: String,
    pub ended_at_ms: Option<i64>,
    pub end_reason: Option<String>,
}

/// A refresh token to store, by its hash, for a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefreshToken {
    pub hash: String,
    pub expires_at_ms: i64,
}

/// What presenting a refresh token did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token was live: it is now used, the new one replaces it, and the
    /// session (as returned) was used now.
    Rotated(SessionRecord),
    /// The token had been used before: its session, live until now, is
    /// ended with the reason `replayed`.
    Replayed(SessionRecord),
    /// Unknown, expired, or of a session that already ended.
    Invalid,
}

/// Ending reasons, as clients see them in `sessionEnded`.
pub mod reason {
    pub const LOGOUT: &str = "logout";
    pub const PASSWORD: &str = "password";
    pub const REVOKED: &str = "revoked";
    pub const REPLAYED: &str = "replayed";
    pub const EXPIRED: &str = "expired";
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

    /// Replaces the password hash; `false` when there is no such user.
    async fn set_password_hash(&self, user_id: &str, password_hash: &str) -> Result<bool, Error>;

    /// Stores a new live session with its first refresh token.
    async fn create_session(
        &self,
        session: &SessionRecord,
        token: &NewRefreshToken,
    ) -> Result<(), Error>;

    /// Presents the refresh token `hash` at `now_ms`, in one atomic step: a
    /// live token is marked used and `next` stored for the same session; a
    /// used one ends its session (`replayed`); an expired one ends its
    /// session (`expired`). Of two concurrent calls with one live hash, at
    /// most one gets [`Rotation::Rotated`].
    async fn rotate_refresh_token(
        &self,
        hash: &str,
        next: &NewRefreshToken,
        now_ms: i64,
    ) -> Result<Rotation, Error>;

    /// The session a refresh token (used or not) belongs to.
    async fn session_of_refresh_token(&self, hash: &str) -> Result<Option<SessionRecord>, Error>;

    async fn find_session(&self, id: &str) -> Result<Option<SessionRecord>, Error>;

    /// Ends a live session; returns it ended, or `None` when it was not live
    /// (unknown or already ended). Its refresh tokens stop working.
    async fn end_session(
        &self,
        id: &str,
        reason: &str,
        now_ms: i64,
    ) -> Result<Option<SessionRecord>, Error>;

    /// Ends every live session of the user but `except`; returns those ended.
    async fn end_user_sessions(
        &self,
        user_id: &str,
        except: Option<&str>,
        reason: &str,
        now_ms: i64,
    ) -> Result<Vec<SessionRecord>, Error>;

    /// The user's sessions neither ended nor idle since before
    /// `idle_before_ms`, most recently used first.
    async fn list_live_sessions(
        &self,
        user_id: &str,
        idle_before_ms: i64,
    ) -> Result<Vec<SessionRecord>, Error>;

    /// Sessions ended at or after `since_ms`, oldest ending first.
    async fn ended_sessions_since(&self, since_ms: i64) -> Result<Vec<SessionRecord>, Error>;

    /// Ends (`expired`) the live sessions last used before `idle_before_ms`.
    async fn end_idle_sessions(
        &self,
        idle_before_ms: i64,
        now_ms: i64,
    ) -> Result<Vec<SessionRecord>, Error>;

    /// The live signing keys, current first; none before the first
    /// [`Store::signing_keys_get_or_init`]. A read: what a running service
    /// polls to pick up a rotation made elsewhere.
    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, Error>;

    /// The live signing keys, current first. Stores `candidate` as the
    /// current key when there is none (insert-if-absent, so replicas
    /// starting together agree).
    async fn signing_keys_get_or_init(
        &self,
        candidate: &SigningKeyRecord,
    ) -> Result<Vec<SigningKeyRecord>, Error>;

    /// Makes `next` current and the current key the previous one (the
    /// older previous key is dropped); returns the live keys, current first.
    async fn rotate_signing_key(
        &self,
        next: &SigningKeyRecord,
    ) -> Result<Vec<SigningKeyRecord>, Error>;
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
