//! The embedded store: one SQLite file (`DATA_DIR/auth.sqlite3`) in WAL mode.
//! Calls run on the blocking pool; each is a single statement or a
//! transaction, so SQLite's own locking gives the atomicity the trait asks for.
//! Statements are prepared once and reused from the connection's cache.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, ErrorCode, OptionalExtension, Row, params};

use super::{
    NewRefreshToken, Rotation, SessionRecord, SigningKeyRecord, Store, UserRecord, reason,
};
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
-- Before sessions, refresh tokens belonged to no session; they are dropped
-- (their users log in again once) rather than guessed into sessions.
DROP TABLE IF EXISTS refresh_tokens;
CREATE TABLE IF NOT EXISTS sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    user_agent   TEXT NOT NULL,
    ended_at     INTEGER,
    end_reason   TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user_id, last_used_at);
CREATE INDEX IF NOT EXISTS sessions_ended_at ON sessions (ended_at) WHERE ended_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS sessions_live ON sessions (last_used_at) WHERE ended_at IS NULL;
-- Used tokens stay until they expire: presenting one again is a replay.
CREATE TABLE IF NOT EXISTS session_tokens (
    hash       TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT;
CREATE INDEX IF NOT EXISTS session_tokens_session ON session_tokens (session_id);
CREATE INDEX IF NOT EXISTS session_tokens_expires_at ON session_tokens (expires_at);
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

macro_rules! session_columns {
    () => {
        "id, user_id, created_at, last_used_at, user_agent, ended_at, end_reason"
    };
}

const SELECT_SESSION: &str = concat!(
    "SELECT ",
    session_columns!(),
    " FROM sessions WHERE id = ?1"
);
const END_SESSION: &str = concat!(
    "UPDATE sessions SET ended_at = ?2, end_reason = ?3 WHERE id = ?1 AND ended_at IS NULL RETURNING ",
    session_columns!()
);

/// The key that signs, and the one before it that still verifies.
const CURRENT_KEY_SLOT: &str = "current";
const PREVIOUS_KEY_SLOT: &str = "previous";

pub struct EmbeddedStore {
    conn: Arc<Mutex<Connection>>,
}

impl EmbeddedStore {
    /// Opens (creating if needed) the database file and its schema.
    pub async fn open(path: &Path) -> Result<EmbeddedStore, Error> {
        let opened = path.to_path_buf();
        let conn = tokio::task::spawn_blocking(move || {
            chat_common::sqlite::open_writer::<Error>(&opened, SCHEMA)
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

fn session_from_row(row: &Row<'_>) -> rusqlite::Result<SessionRecord> {
    Ok(SessionRecord {
        id: row.get(0)?,
        user_id: row.get(1)?,
        created_at_ms: row.get(2)?,
        last_used_at_ms: row.get(3)?,
        user_agent: row.get(4)?,
        ended_at_ms: row.get(5)?,
        end_reason: row.get(6)?,
    })
}

/// Ends one session inside a transaction; its tokens go with it.
fn end_in(
    tx: &rusqlite::Transaction<'_>,
    id: &str,
    why: &str,
    now_ms: i64,
) -> Result<Option<SessionRecord>, Error> {
    let ended = tx
        .prepare_cached(END_SESSION)?
        .query_row(params![id, now_ms, why], session_from_row)
        .optional()?;
    if ended.is_some() {
        tx.prepare_cached("DELETE FROM session_tokens WHERE session_id = ?1")?
            .execute([id])?;
    }
    Ok(ended)
}

fn keys_in(c: &Connection) -> Result<Vec<SigningKeyRecord>, Error> {
    let mut stmt = c.prepare_cached(
        "SELECT key_id, private_key_pem, created_at FROM signing_keys
         WHERE slot IN (?1, ?2) ORDER BY slot = ?1 DESC",
    )?;
    let keys = stmt
        .query_map([CURRENT_KEY_SLOT, PREVIOUS_KEY_SLOT], |r| {
            Ok(SigningKeyRecord {
                key_id: r.get(0)?,
                private_key_pem: r.get(1)?,
                created_at_ms: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(keys)
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

    async fn set_password_hash(&self, user_id: &str, password_hash: &str) -> Result<bool, Error> {
        let (id, hash) = (user_id.to_owned(), password_hash.to_owned());
        self.call(move |c| {
            let n = c
                .prepare_cached("UPDATE users SET password_hash = ?2 WHERE id = ?1")?
                .execute([id, hash])?;
            Ok(n == 1)
        })
        .await
    }

    async fn create_session(
        &self,
        session: &SessionRecord,
        token: &NewRefreshToken,
    ) -> Result<(), Error> {
        let (s, t) = (session.clone(), token.clone());
        let now = chat_common::time::now_millis();
        self.call(move |c| {
            let tx = c.transaction()?;
            // SQLite has no TTL index; sweeping here keeps the table bounded.
            tx.prepare_cached("DELETE FROM session_tokens WHERE expires_at <= ?1")?
                .execute([now])?;
            tx.prepare_cached(concat!(
                "INSERT INTO sessions (",
                session_columns!(),
                ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            ))?
            .execute(params![
                s.id,
                s.user_id,
                s.created_at_ms,
                s.last_used_at_ms,
                s.user_agent,
                s.ended_at_ms,
                s.end_reason
            ])?;
            tx.prepare_cached(
                "INSERT INTO session_tokens (hash, session_id, expires_at) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![t.hash, s.id, t.expires_at_ms])?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn rotate_refresh_token(
        &self,
        hash: &str,
        next: &NewRefreshToken,
        now_ms: i64,
    ) -> Result<Rotation, Error> {
        let (hash, next) = (hash.to_owned(), next.clone());
        self.call(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let token: Option<(String, i64, Option<i64>)> = tx
                .prepare_cached(
                    "SELECT session_id, expires_at, used_at FROM session_tokens WHERE hash = ?1",
                )?
                .query_row([&hash], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?;
            let Some((sid, expires_at, used_at)) = token else {
                return Ok(Rotation::Invalid);
            };
            let outcome = if used_at.is_some() {
                end_in(&tx, &sid, reason::REPLAYED, now_ms)?.map_or(Rotation::Invalid, Rotation::Replayed)
            } else if expires_at <= now_ms {
                end_in(&tx, &sid, reason::EXPIRED, now_ms)?;
                Rotation::Invalid
            } else {
                let live = tx
                    .prepare_cached(concat!(
                        "UPDATE sessions SET last_used_at = ?2 WHERE id = ?1 AND ended_at IS NULL RETURNING ",
                        session_columns!()
                    ))?
                    .query_row(params![sid, now_ms], session_from_row)
                    .optional()?;
                match live {
                    Some(session) => {
                        tx.prepare_cached("UPDATE session_tokens SET used_at = ?2 WHERE hash = ?1")?
                            .execute(params![hash, now_ms])?;
                        tx.prepare_cached(
                            "INSERT INTO session_tokens (hash, session_id, expires_at) VALUES (?1, ?2, ?3)",
                        )?
                        .execute(params![next.hash, sid, next.expires_at_ms])?;
                        Rotation::Rotated(session)
                    }
                    None => Rotation::Invalid,
                }
            };
            tx.commit()?;
            Ok(outcome)
        })
        .await
    }

    async fn session_of_refresh_token(&self, hash: &str) -> Result<Option<SessionRecord>, Error> {
        let hash = hash.to_owned();
        self.call(move |c| {
            Ok(c.prepare_cached(concat!(
                "SELECT ",
                session_columns!(),
                " FROM sessions WHERE id = (SELECT session_id FROM session_tokens WHERE hash = ?1)"
            ))?
            .query_row([hash], session_from_row)
            .optional()?)
        })
        .await
    }

    async fn find_session(&self, id: &str) -> Result<Option<SessionRecord>, Error> {
        let id = id.to_owned();
        self.call(move |c| {
            Ok(c.prepare_cached(SELECT_SESSION)?
                .query_row([id], session_from_row)
                .optional()?)
        })
        .await
    }

    async fn end_session(
        &self,
        id: &str,
        reason: &str,
        now_ms: i64,
    ) -> Result<Option<SessionRecord>, Error> {
        let (id, why) = (id.to_owned(), reason.to_owned());
        self.call(move |c| {
            let tx = c.transaction()?;
            let ended = end_in(&tx, &id, &why, now_ms)?;
            tx.commit()?;
            Ok(ended)
        })
        .await
    }

    async fn end_user_sessions(
        &self,
        user_id: &str,
        except: Option<&str>,
        reason: &str,
        now_ms: i64,
    ) -> Result<Vec<SessionRecord>, Error> {
        let (user, why) = (user_id.to_owned(), reason.to_owned());
        let except = except.unwrap_or_default().to_owned();
        self.call(move |c| {
            let tx = c.transaction()?;
            let ids = tx
                .prepare_cached(
                    "SELECT id FROM sessions WHERE user_id = ?1 AND ended_at IS NULL AND id <> ?2",
                )?
                .query_map([&user, &except], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut ended = Vec::with_capacity(ids.len());
            for id in ids {
                ended.extend(end_in(&tx, &id, &why, now_ms)?);
            }
            tx.commit()?;
            Ok(ended)
        })
        .await
    }

    async fn list_live_sessions(
        &self,
        user_id: &str,
        idle_before_ms: i64,
    ) -> Result<Vec<SessionRecord>, Error> {
        let user = user_id.to_owned();
        self.call(move |c| {
            let mut stmt = c.prepare_cached(concat!(
                "SELECT ",
                session_columns!(),
                " FROM sessions WHERE user_id = ?1 AND ended_at IS NULL AND last_used_at >= ?2
                 ORDER BY last_used_at DESC, id DESC"
            ))?;
            let rows = stmt
                .query_map(params![user, idle_before_ms], session_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }

    async fn ended_sessions_since(&self, since_ms: i64) -> Result<Vec<SessionRecord>, Error> {
        self.call(move |c| {
            let mut stmt = c.prepare_cached(concat!(
                "SELECT ",
                session_columns!(),
                " FROM sessions WHERE ended_at >= ?1 ORDER BY ended_at, id"
            ))?;
            let rows = stmt
                .query_map([since_ms], session_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }

    async fn end_idle_sessions(
        &self,
        idle_before_ms: i64,
        now_ms: i64,
    ) -> Result<Vec<SessionRecord>, Error> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let ids = tx
                .prepare_cached(
                    "SELECT id FROM sessions WHERE ended_at IS NULL AND last_used_at < ?1",
                )?
                .query_map([idle_before_ms], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut ended = Vec::with_capacity(ids.len());
            for id in ids {
                ended.extend(end_in(&tx, &id, reason::EXPIRED, now_ms)?);
            }
            tx.commit()?;
            Ok(ended)
        })
        .await
    }

    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, Error> {
        self.call(|c| keys_in(c)).await
    }

    async fn signing_keys_get_or_init(
        &self,
        candidate: &SigningKeyRecord,
    ) -> Result<Vec<SigningKeyRecord>, Error> {
        let candidate = candidate.clone();
        self.call(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
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
            let keys = keys_in(&tx)?;
            tx.commit()?;
            Ok(keys)
        })
        .await
    }

    async fn rotate_signing_key(
        &self,
        next: &SigningKeyRecord,
    ) -> Result<Vec<SigningKeyRecord>, Error> {
        let next = next.clone();
        self.call(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            tx.prepare_cached("DELETE FROM signing_keys WHERE slot = ?1")?
                .execute([PREVIOUS_KEY_SLOT])?;
            tx.prepare_cached("UPDATE signing_keys SET slot = ?2 WHERE slot = ?1")?
                .execute([CURRENT_KEY_SLOT, PREVIOUS_KEY_SLOT])?;
            tx.prepare_cached(
                "INSERT INTO signing_keys (slot, key_id, private_key_pem, created_at)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                CURRENT_KEY_SLOT,
                next.key_id,
                next.private_key_pem,
                next.created_at_ms
            ])?;
            let keys = keys_in(&tx)?;
            tx.commit()?;
            Ok(keys)
        })
        .await
    }
}
