//! `FLOOR_DB`: the floors with the least a server that stores each message
//! before delivering it must add. Each send becomes one row in its own
//! transaction, in a file opened by the one opener every store uses
//! (`chat_common::sqlite::open_writer`: WAL, `synchronous = NORMAL`), with
//! the one index a room's history needs. The commit runs inline on the
//! thread that serves the send: no hand-off to a writer thread, no
//! batching, no search index, no checks — so what it costs is the floor
//! of persisting, not of our store.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use rusqlite::{Connection, params};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    room TEXT NOT NULL,
    sender TEXT NOT NULL,
    content TEXT NOT NULL,
    client_id TEXT,
    ts INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_room ON messages (room, id);";

pub struct Journal(Mutex<Connection>);

/// A message as the floors store it.
pub struct Row<'a> {
    pub room: &'a str,
    pub sender: &'a str,
    pub content: &'a str,
    pub client_id: Option<&'a str>,
    pub ts_millis: i64,
}

/// Where a floor's message ids come from: the journal's row ids when
/// `FLOOR_DB` names one (each send committed first), else a counter.
#[derive(Default)]
pub struct Ids {
    journal: Option<Journal>,
    counter: AtomicU64,
}

impl Ids {
    pub fn new(journal: Option<Journal>) -> Ids {
        Ids {
            journal,
            ..Ids::default()
        }
    }

    /// The id of a new message, stored first when there is a journal.
    pub fn next(&self, row: &Row<'_>) -> rusqlite::Result<u64> {
        match &self.journal {
            Some(journal) => Ok(journal.append(row)?.unsigned_abs()),
            None => Ok(self.counter.fetch_add(1, Ordering::Relaxed) + 1),
        }
    }
}

impl Journal {
    /// The journal `FLOOR_DB` names, if it names one.
    pub fn from_env() -> Result<Option<Journal>, Box<dyn std::error::Error>> {
        match std::env::var_os("FLOOR_DB") {
            Some(path) => Ok(Some(Journal::open(Path::new(&path))?)),
            None => Ok(None),
        }
    }

    pub fn open(path: &Path) -> Result<Journal, Box<dyn std::error::Error>> {
        let conn = chat_common::sqlite::open_writer::<Box<dyn std::error::Error>>(path, SCHEMA)?;
        Ok(Journal(Mutex::new(conn)))
    }

    /// Stores one message, committed when this returns; its row id.
    pub fn append(&self, row: &Row<'_>) -> rusqlite::Result<i64> {
        let conn = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        conn.prepare_cached(
            "INSERT INTO messages (room, sender, content, client_id, ts) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            row.room,
            row.sender,
            row.content,
            row.client_id,
            row.ts_millis
        ])?;
        Ok(conn.last_insert_rowid())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appended_rows_are_committed_and_numbered_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("floor.db");
        let journal = Journal::open(&path).unwrap();
        let row = |sender, content, client_id, ts_millis| Row {
            room: "general",
            sender,
            content,
            client_id,
            ts_millis,
        };
        let first = journal.append(&row("alice", "hi", Some("c1"), 1)).unwrap();
        let second = journal.append(&row("bob", "hello", None, 2)).unwrap();
        assert_eq!(second, first + 1);
        // Another connection sees both: each append committed.
        let reader = chat_common::sqlite::open_reader(&path).unwrap();
        let n: i64 = reader
            .query_row(
                "SELECT count(*) FROM messages WHERE room = 'general'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 2);
    }
}
