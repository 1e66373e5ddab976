//! The embedded store: one SQLite file (`DATA_DIR/auth.sqlite3`) in WAL mode.
//! Calls run on the blocking pool; each is a single statement or a
//! transaction, so SQLite's own locking gives the atomicity the trait asks for.
//! Statements are prepared once and reused from the connection's cache.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, ErrorCode, OptionalExtension, Row, params};

use super::{SigningKeyRecord, Store, UserRecord};
use crate::error::Error;
use crate::validation::username_key;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS users (
    id              TEXT PRIMARY KEY,
    username        TEXT NOT NULL,
    username_key    TEXT NOT NULL UNIQUE,
    password_hash   TEXT NOT NULL,
    avatar_media_id TEXT,
    created_at      INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS refresh_tokens (
    hash       TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS refresh_tokens_expires_at ON refresh_tokens (expires_at);
CREATE TABLE IF NOT EXISTS signing_keys (
    slot            TEXT PRIMARY KEY,
    key_id          TEXT NOT NULL,
    private_key_pem TEXT NOT NULL,
    created_at      INTEGER NOT NULL
) STRICT;
";

/// The user columns, as a literal so each statement is one `concat!`-ed
/// constant: no formatting per call, and a stable statement-cache key.
macro_rules! user_columns {
    () => {
        "id, username, password_hash, avatar_media_id, created_at"
    };
}

const SELECT_USER_BY_ID: &str = concat!("SELECT ", user_columns!(), " FROM users WHERE id = ?1");
const SELECT_USER_BY_KEY: &str = concat!(
    "SELECT ",
    user_columns!(),
    " FROM users WHERE username_key = ?1"
);
const SET_AVATAR: &str = concat!(
    "UPDATE users SET avatar_media_id = ?2 WHERE id = ?1 RETURNING ",
    user_columns!()
);

/// There is one signing key at a time; this is its row.
const CURRENT_KEY_SLOT: &str = "current";

pub struct EmbeddedStore {
    conn: Arc<Mutex<Connection>>,
}

impl EmbeddedStore {
    /// Opens (creating if needed) the database file and its schema.
    pub async fn open(path: &Path) -> Result<EmbeddedStore, Error> {
        let opened = path.to_path_buf();
        let conn = tokio::task::spawn_blocking(move || -> Result<Connection, Error> {
            if let Some(dir) = opened.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let conn = Connection::open(&opened)?;
            conn.busy_timeout(Duration::from_secs(5))?;
            let mode: String =
                conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") {
                tracing::warn!(%mode, "SQLite refused WAL mode");
            }
            conn.execute_batch(SCHEMA)?;
            Ok(conn)
        })
        .await??;
        Ok(EmbeddedStore {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    async fn call<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, Error> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            // A panic mid-call leaves no half-done work behind (statements and
            // transactions roll back), so a poisoned lock is still usable.
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await?
    }
}

fn user_from_row(row: &Row<'_>) -> rusqlite::Result<UserRecord> {
    Ok(UserRecord {
        id: row.get(0)?,
        username: row.get(1)?,
        password_hash: row.get(2)?,
        avatar_media_id: row.get(3)?,
        created_at_ms: row.get(4)?,
    })
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.code == ErrorCode::ConstraintViolation
            && f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn ping(&self) -> Result<(), Error> {
        self.call(|c| {
            Ok(c.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
                r.get::<_, i64>(0)
            })?)
        })
        .await
        .map(drop)
    }

    async fn create_user(&self, user: &UserRecord) -> Result<(), Error> {
        let user = user.clone();
        self.call(move |c| {
            c.prepare_cached(
                "INSERT INTO users (id, username, username_key, password_hash, avatar_media_id, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                    user.id,
                    user.username,
                    username_key(&user.username),
                    user.password_hash,
                    user.avatar_media_id,
                user.created_at_ms
            ])
            .map_err(|e| {
                if is_unique_violation(&e) {
                    Error::UsernameTaken
                } else {
                    e.into()
                }
            })?;
            Ok(())
        })
        .await
    }

    async fn find_user_by_id(&self, id: &str) -> Result<Option<UserRecord>, Error> {
        let id = id.to_owned();
        self.call(move |c| {
            Ok(c.prepare_cached(SELECT_USER_BY_ID)?
                .query_row([id], user_from_row)
                .optional()?)
        })
        .await
    }

    async fn find_user_by_username(&self, username: &str) -> Result<Option<UserRecord>, Error> {
        let key = username_key(username);
        self.call(move |c| {
            Ok(c.prepare_cached(SELECT_USER_BY_KEY)?
                .query_row([key], user_from_row)
                .optional()?)
        })
        .await
    }

    async fn set_avatar(
        &self,
        user_id: &str,
        avatar_media_id: Option<&str>,
    ) -> Result<Option<UserRecord>, Error> {
        let id = user_id.to_owned();
        let avatar = avatar_media_id.map(str::to_owned);
        self.call(move |c| {
            Ok(c.prepare_cached(SET_AVATAR)?
                .query_row(params![id, avatar], user_from_row)
                .optional()?)
        })
        .await
    }

    async fn insert_refresh_token(
        &self,
        hash: &str,
        user_id: &str,
        expires_at_ms: i64,
    ) -> Result<(), Error> {
        let (hash, user_id) = (hash.to_owned(), user_id.to_owned());
        let now = chat_common::time::now_millis();
        self.call(move |c| {
            let tx = c.transaction()?;
            // SQLite has no TTL index; sweeping here keeps the table bounded.
            tx.prepare_cached("DELETE FROM refresh_tokens WHERE expires_at <= ?1")?
                .execute([now])?;
            tx.prepare_cached(
                "INSERT INTO refresh_tokens (hash, user_id, expires_at) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![hash, user_id, expires_at_ms])?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn consume_refresh_token(
        &self,
        hash: &str,
        now_ms: i64,
    ) -> Result<Option<String>, Error> {
        let hash = hash.to_owned();
        self.call(move |c| {
            Ok(c.prepare_cached(
                "DELETE FROM refresh_tokens WHERE hash = ?1 AND expires_at > ?2 RETURNING user_id",
            )?
            .query_row(params![hash, now_ms], |r| r.get(0))
            .optional()?)
        })
        .await
    }

    async fn revoke_refresh_token(&self, hash: &str) -> Result<(), Error> {
        let hash = hash.to_owned();
        self.call(move |c| {
            c.prepare_cached("DELETE FROM refresh_tokens WHERE hash = ?1")?
                .execute([hash])?;
            Ok(())
        })
        .await
    }

    async fn signing_key_get_or_init(
        &self,
        candidate: &SigningKeyRecord,
    ) -> Result<SigningKeyRecord, Error> {
        let candidate = candidate.clone();
        self.call(move |c| {
            let tx = c.transaction()?;
            tx.prepare_cached(
                "INSERT INTO signing_keys (slot, key_id, private_key_pem, created_at)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (slot) DO NOTHING",
            )?
            .execute(params![
                CURRENT_KEY_SLOT,
                candidate.key_id,
                candidate.private_key_pem,
                candidate.created_at_ms
            ])?;
            let stored = tx
                .prepare_cached(
                    "SELECT key_id, private_key_pem, created_at FROM signing_keys WHERE slot = ?1",
                )?
                .query_row([CURRENT_KEY_SLOT], |r| {
                    Ok(SigningKeyRecord {
                        key_id: r.get(0)?,
                        private_key_pem: r.get(1)?,
                        created_at_ms: r.get(2)?,
                    })
                })?;
            tx.commit()?;
            Ok(stored)
        })
        .await
    }
}
