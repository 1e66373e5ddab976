//! The embedded store: one SQLite file (`DATA_DIR/media.sqlite3`) in WAL
//! mode; every call runs on the blocking pool, and statements are prepared
//! once and reused from the connection's cache.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, ErrorCode, OptionalExtension, params};

use super::{MediaRecord, Purpose, Store, parse_stored_purpose};
use crate::error::Error;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS media (
    id           TEXT PRIMARY KEY,
    owner        TEXT NOT NULL,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    purpose      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS media_owner ON media (owner);
";

pub struct EmbeddedStore {
    conn: Arc<Mutex<Connection>>,
}

impl EmbeddedStore {
    /// Opens (creating if needed) the database file at `path`.
    pub async fn open(path: impl AsRef<Path>) -> Result<EmbeddedStore, Error> {
        let path = path.as_ref().to_owned();
        let conn = tokio::task::spawn_blocking(move || {
            chat_common::sqlite::open_writer::<Error>(&path, SCHEMA)
        })
        .await??;
        Ok(EmbeddedStore {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    async fn with_conn<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock cannot leave SQLite half-written
            // (statements are atomic), so a poisoned lock is still usable.
            let guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&guard)
        })
        .await?
    }
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn ping(&self) -> Result<(), Error> {
        self.with_conn(|c| {
            Ok(c.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
                r.get::<_, i64>(0)
            })?)
        })
        .await
        .map(drop)
    }

    async fn insert(&self, record: &MediaRecord) -> Result<(), Error> {
        let r = record.clone();
        self.with_conn(move |conn| {
            let size = i64::try_from(r.size)
                .map_err(|_| Error::InvalidArgument("File size is out of range".into()))?;
            let result = conn
                .prepare_cached(
                    "INSERT INTO media (id, owner, name, content_type, size, sha256, created_at, purpose)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?
                .execute(params![
                    r.id,
                    r.owner,
                    r.name,
                    r.content_type,
                    size,
                    r.sha256,
                    r.created_at,
                    r.purpose.as_str()
                ]);
            match result {
                Ok(_) => Ok(()),
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == ErrorCode::ConstraintViolation =>
                {
                    Err(Error::AlreadyExists(r.id))
                }
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    async fn get(&self, id: &str) -> Result<Option<MediaRecord>, Error> {
        let id = id.to_owned();
        self.with_conn(move |conn| {
            let row = conn
                .prepare_cached(
                    "SELECT id, owner, name, content_type, size, sha256, created_at, purpose
                     FROM media WHERE id = ?1",
                )?
                .query_row(params![id], |row| {
                    Ok((
                        MediaRecord {
                            id: row.get(0)?,
                            owner: row.get(1)?,
                            name: row.get(2)?,
                            content_type: row.get(3)?,
                            size: row.get::<_, i64>(4)?.max(0) as u64,
                            sha256: row.get(5)?,
                            created_at: row.get(6)?,
                            purpose: Purpose::Attachment,
                        },
                        row.get::<_, String>(7)?,
                    ))
                })
                .optional()?;
            row.map(|(mut record, purpose)| {
                record.purpose = parse_stored_purpose(&record.id, &purpose)?;
                Ok(record)
            })
            .transpose()
        })
        .await
    }

    async fn delete(&self, id: &str) -> Result<bool, Error> {
        let id = id.to_owned();
        self.with_conn(move |conn| {
            Ok(conn
                .prepare_cached("DELETE FROM media WHERE id = ?1")?
                .execute(params![id])?
                > 0)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str) -> MediaRecord {
        MediaRecord {
            id: id.into(),
            owner: "alice".into(),
            name: "cat.png".into(),
            content_type: "image/png".into(),
            size: 1234,
            sha256: "ab".repeat(32),
            created_at: 1_795_716_000_123,
            purpose: Purpose::Avatar,
        }
    }

    #[tokio::test]
    async fn survives_reopening_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("media.sqlite3");
        {
            let store = EmbeddedStore::open(&path).await.unwrap();
            store.insert(&record("one")).await.unwrap();
        }
        let store = EmbeddedStore::open(&path).await.unwrap();
        assert_eq!(store.get("one").await.unwrap(), Some(record("one")));
    }

    #[tokio::test]
    async fn uses_write_ahead_logging() {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(dir.path().join("m.sqlite3"))
            .await
            .unwrap();
        let mode: String = store
            .with_conn(|c| Ok(c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?))
            .await
            .unwrap();
        assert_eq!(mode, "wal");
    }
}
