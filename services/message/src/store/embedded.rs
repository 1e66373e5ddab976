//! The embedded store: one SQLite file in WAL mode. Writes go through a
//! single connection behind a mutex, which is what makes the insert-or-read
//! of idempotent sends and the conditional updates atomic; pure reads use
//! their own read-only connections (see `connections`). Sends are stored
//! in batches, one transaction for all that wait (`batch`), and indexed
//! for search a few hundred at a time (`fts`); every other call runs on
//! the blocking pool. Every statement is prepared once per
//! connection and then reused from its statement cache.

mod batch;
mod connections;
mod extras;
mod fts;
mod migrate;
mod rooms;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::Store;
use crate::error::{Error, Result};
use crate::model::{
    Attachment, Deleted, Key, Message, ReactOutcome, Reaction, ReactionChange, ReadMove, Scan,
    SearchQuery, Unread,
};
use connections::Connections;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS messages (
    id              TEXT PRIMARY KEY,
    room            TEXT NOT NULL,
    sender          TEXT NOT NULL,
    content         TEXT NOT NULL,
    avatar_media_id TEXT,
    ts              INTEGER NOT NULL,
    client_id       TEXT,
    attachments     TEXT NOT NULL DEFAULT '[]',
    edited_at       INTEGER,
    deleted         INTEGER NOT NULL DEFAULT 0,
    reply_to        TEXT,
    UNIQUE (sender, client_id)
);
CREATE INDEX IF NOT EXISTS messages_room_ts_id ON messages (room, ts, id);
CREATE TABLE IF NOT EXISTS read_positions (
    room       TEXT NOT NULL,
    reader     TEXT NOT NULL,
    ts         INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    PRIMARY KEY (room, reader)
);
";

/// The message columns, as a literal so each statement is one `concat!`-ed
/// constant: no formatting per call, and a stable statement-cache key.
macro_rules! columns {
    () => {
        "id, room, sender, content, avatar_media_id, ts, client_id, attachments, edited_at, deleted, reply_to"
    };
}

const SELECT_BY_ID: &str = concat!("SELECT ", columns!(), " FROM messages WHERE id = ?1");
const SELECT_BY_CLIENT: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM messages WHERE sender = ?1 AND client_id = ?2"
);
const INSERT: &str = concat!(
    "INSERT INTO messages (",
    columns!(),
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
     ON CONFLICT (sender, client_id) DO NOTHING"
);
const SCAN_LATEST: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM messages WHERE room = ?1 ORDER BY ts DESC, id DESC LIMIT ?2"
);
const SCAN_OLDER: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM messages WHERE room = ?1 AND (ts, id) < (?3, ?4) ORDER BY ts DESC, id DESC LIMIT ?2"
);
const SCAN_NEWER: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM messages WHERE room = ?1 AND (ts, id) > (?3, ?4) ORDER BY ts ASC, id ASC LIMIT ?2"
);
const SELECT_READ_POSITION: &str =
    "SELECT ts, message_id FROM read_positions WHERE room = ?1 AND reader = ?2";

pub struct EmbeddedStore {
    conns: Arc<Connections>,
    inserts: batch::Inserter,
}

impl EmbeddedStore {
    /// Opens (creating when needed) the database file and its schema.
    pub async fn open(path: &Path) -> Result<EmbeddedStore> {
        let path = path.to_owned();
        let conns = tokio::task::spawn_blocking(move || {
            let conns = Connections::open(&path, &format!("{SCHEMA}{}", rooms::SCHEMA))?;
            conns.write(migrate::run)?;
            Ok::<_, Error>(conns)
        })
        .await??;
        let conns = Arc::new(conns);
        Ok(EmbeddedStore {
            inserts: batch::Inserter::start(conns.clone(), insert_one, fts::Lag::default())?,
            conns,
        })
    }

    /// Runs `f` on the writer: anything that changes data, and any read
    /// that must be atomic with a change.
    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let conns = self.conns.clone();
        tokio::task::spawn_blocking(move || conns.write(f)).await?
    }

    /// Runs `f` on a read-only connection, beside any write in progress.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let conns = self.conns.clone();
        tokio::task::spawn_blocking(move || conns.read(f)).await?
    }
}

fn row_to_message(row: &Row<'_>) -> rusqlite::Result<(Message, String)> {
    Ok((
        Message {
            id: row.get(0)?,
            room: row.get(1)?,
            sender: row.get(2)?,
            content: row.get(3)?,
            avatar_media_id: row.get(4)?,
            ts: row.get(5)?,
            client_id: row.get(6)?,
            attachments: Vec::new(),
            edited_at: row.get(8)?,
            deleted: row.get(9)?,
            reply_to: row.get(10)?,
            reply: None,
            reactions: Vec::new(),
        },
        row.get(7)?,
    ))
}

/// Attachments are stored as a JSON array: they are always read and written
/// with their message, never queried on their own.
fn finish((mut message, attachments): (Message, String)) -> Result<Message> {
    message.attachments = serde_json::from_str(&attachments)
        .map_err(|e| Error::Corrupt(format!("attachments of message {}: {e}", message.id)))?;
    Ok(message)
}

fn encode_attachments(attachments: &[Attachment]) -> Result<String> {
    serde_json::to_string(attachments).map_err(|e| Error::Corrupt(e.to_string()))
}

fn query_one(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Option<Message>> {
    conn.prepare_cached(sql)?
        .query_row(params, row_to_message)
        .optional()?
        .map(finish)
        .transpose()
}

/// True when `sql` selects at least one row (existence checks of schema
/// and queue).
fn any_row(conn: &Connection, sql: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached(sql)?
        .query_row([], |_| Ok(()))
        .optional()?
        .is_some())
}

fn get_by_id(conn: &Connection, id: &str) -> Result<Option<Message>> {
    query_one(conn, SELECT_BY_ID, params![id])
}

fn get_by_client(conn: &Connection, sender: &str, client_id: &str) -> Result<Option<Message>> {
    query_one(conn, SELECT_BY_CLIENT, params![sender, client_id])
}

/// Stores a message, or reads back the one its sender already stored under
/// the same client id (`false`). Runs inside a savepoint of a batch
/// (`batch`): a direct message and the memberships it creates are stored
/// together or not at all.
fn insert_one(conn: &Connection, message: Message) -> Result<(Message, bool)> {
    let inserted = conn.prepare_cached(INSERT)?.execute(params![
        message.id,
        message.room,
        message.sender,
        message.content,
        message.avatar_media_id,
        message.ts,
        message.client_id,
        encode_attachments(&message.attachments)?,
        message.edited_at,
        message.deleted,
        message.reply_to,
    ])?;
    if inserted == 1 {
        rooms::on_message_stored(conn, &message)?;
        return Ok((message, true));
    }
    // Read back on the writer: the row that won is committed and no other
    // write can run in between.
    let client_id = message.client_id.as_deref().unwrap_or_default();
    get_by_client(conn, &message.sender, client_id)?
        .map(|existing| (existing, false))
        .ok_or_else(|| Error::Corrupt("a conflicting send vanished".into()))
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn ping(&self) -> Result<()> {
        self.read(|conn| {
            Ok(
                conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
                    r.get::<_, i64>(0)
                })?,
            )
        })
        .await
        .map(drop)
    }

    async fn insert(&self, message: Message) -> Result<(Message, bool)> {
        self.inserts.insert(message).await
    }

    async fn get(&self, id: &str) -> Result<Option<Message>> {
        let id = id.to_owned();
        self.read(move |conn| get_by_id(conn, &id)).await
    }

    async fn get_by_client_id(&self, sender: &str, client_id: &str) -> Result<Option<Message>> {
        let (sender, client_id) = (sender.to_owned(), client_id.to_owned());
        self.read(move |conn| get_by_client(conn, &sender, &client_id))
            .await
    }

    async fn scan(&self, room: &str, scan: &Scan, take: usize) -> Result<Vec<Message>> {
        let (room, scan) = (room.to_owned(), scan.clone());
        let take = i64::try_from(take).unwrap_or(i64::MAX);
        self.read(move |conn| {
            let (sql, cursor) = match &scan {
                Scan::Older(None) => (SCAN_LATEST, None),
                Scan::Older(Some(k)) => (SCAN_OLDER, Some(k)),
                Scan::Newer(k) => (SCAN_NEWER, Some(k)),
            };
            let mut stmt = conn.prepare_cached(sql)?;
            let rows = match cursor {
                None => stmt.query_map(params![room, take], row_to_message)?,
                Some(k) => stmt.query_map(params![room, take, k.ts, k.id], row_to_message)?,
            };
            rows.map(|r| finish(r?)).collect()
        })
        .await
    }

    async fn edit(&self, id: &str, content: &str, edited_at: i64) -> Result<Option<Message>> {
        let (id, content) = (id.to_owned(), content.to_owned());
        self.write(move |conn| {
            let changed = conn
                .prepare_cached(
                    "UPDATE messages SET content = ?2, edited_at = ?3 WHERE id = ?1 AND deleted = 0",
                )?
                .execute(params![id, content, edited_at])?;
            if changed == 0 {
                return Ok(None);
            }
            get_by_id(conn, &id)
        })
        .await
    }

    async fn soft_delete(&self, id: &str) -> Result<Option<Deleted>> {
        let id = id.to_owned();
        self.write(move |conn| {
            let tx = conn.transaction()?;
            let Some(before) = get_by_id(&tx, &id)? else {
                return Ok(None);
            };
            if before.deleted {
                return Ok(Some(Deleted {
                    message: before,
                    changed: false,
                    removed: Vec::new(),
                }));
            }
            tx.prepare_cached(
                "UPDATE messages SET content = '', attachments = '[]', deleted = 1 WHERE id = ?1",
            )?
            .execute(params![id])?;
            // A deleted message shows no reactions.
            tx.prepare_cached("DELETE FROM reactions WHERE message_id = ?1")?
                .execute(params![id])?;
            tx.commit()?;
            let removed = before.attachments.clone();
            let message = Message {
                content: String::new(),
                attachments: Vec::new(),
                deleted: true,
                reactions: Vec::new(),
                ..before
            };
            Ok(Some(Deleted {
                message,
                changed: true,
                removed,
            }))
        })
        .await
    }

    async fn advance_read(&self, room: &str, user: &str, to: &Key) -> Result<ReadMove> {
        let (room, user, to) = (room.to_owned(), user.to_owned(), to.clone());
        self.write(move |conn| {
            let moved = conn
                .prepare_cached(
                    "INSERT INTO read_positions (room, reader, ts, message_id) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (room, reader) DO UPDATE
                     SET ts = excluded.ts, message_id = excluded.message_id
                     WHERE (excluded.ts, excluded.message_id) > (read_positions.ts, read_positions.message_id)",
                )?
                .execute(params![room, user, to.ts, to.id])?
                == 1;
            let message_id = conn
                .prepare_cached(SELECT_READ_POSITION)?
                .query_row(params![room, user], |r| r.get(1))?;
            Ok(ReadMove { moved, message_id })
        })
        .await
    }

    async fn unread(&self, room: &str, user: &str) -> Result<Unread> {
        let (room, user) = (room.to_owned(), user.to_owned());
        self.read(move |conn| {
            // One snapshot for both statements, so the count is taken from
            // the position it is relative to.
            let tx = conn.transaction()?;
            let position: Option<(i64, String)> = tx
                .prepare_cached(SELECT_READ_POSITION)?
                .query_row(params![room, user], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let (ts, id) = match &position {
                Some((ts, id)) => (Some(*ts), Some(id.as_str())),
                None => (None, None),
            };
            let count: i64 = tx
                .prepare_cached(
                    "SELECT COUNT(*) FROM messages
                     WHERE room = ?1 AND sender <> ?2 AND deleted = 0
                       AND (?3 IS NULL OR (ts, id) > (?3, ?4))",
                )?
                .query_row(params![room, user, ts, id], |r| r.get(0))?;
            Ok(Unread {
                count: u64::try_from(count).unwrap_or_default(),
                last_read: position.map(|(_, id)| id),
            })
        })
        .await
    }

    async fn get_many(&self, ids: &[String]) -> Result<Vec<Message>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = ids.to_vec();
        self.read(move |conn| extras::get_many(conn, &ids)).await
    }

    async fn reactions(&self, ids: &[String]) -> Result<HashMap<String, Vec<Reaction>>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let ids = ids.to_vec();
        self.read(move |conn| extras::reactions(conn, &ids)).await
    }

    async fn react(&self, change: &ReactionChange) -> Result<ReactOutcome> {
        let change = change.clone();
        self.write(move |conn| extras::react(conn, &change)).await
    }

    async fn search(&self, query: &SearchQuery, take: usize) -> Result<Vec<Message>> {
        // Every message stored before the search is found: whatever the
        // index still owes is indexed first.
        if self.read(|conn| fts::lags(conn)).await? {
            self.write(fts::catch_up).await?;
        }
        let query = query.clone();
        self.read(move |conn| extras::search(conn, &query, take))
            .await
    }
}
