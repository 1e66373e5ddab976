//! The search index (an FTS5 table over `messages.content`) and how it
//! trails the sends: a new message is queued in `fts_pending` by a trigger
//! in its own insert, and the insert thread moves the queue into the index
//! in batches; a search first empties the queue, so it finds every message
//! stored before it.
//!
//! Why: FTS5 writes a new index segment at each commit that touched it and
//! later merges the segments back together. Indexed in each send's own
//! transaction, that was about a third of a send's instructions at a
//! steady 20 sends/s (callgrind, bench/README.md), because at that rate
//! most transactions hold one send. Indexing a few hundred at a time pays
//! the segment once for all of them.
//!
//! Safety rules:
//! - Every message is either in the index or in `fts_pending`, never both
//!   and never neither: the queueing trigger runs inside the insert's
//!   transaction, and a catch-up indexes and dequeues in one transaction.
//! - Edits and deletes touch the index only for messages already in it; a
//!   queued one is indexed later with whatever content it has then (an
//!   external-content FTS5 table must be told the exact content it indexed
//!   to take a row back out).
//! - A crash loses nothing: the queue is a table, caught up after restart.

use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::batch::Deferred;
use super::connections::Connections;
use crate::error::Result;

/// The index is brought up to date when this many messages wait…
const MAX_PENDING: usize = 256;
/// …or the oldest of them has waited this long, whichever comes first.
const MAX_WAIT: Duration = Duration::from_secs(2);

/// An external-content table (no second copy of the text), folding case
/// and accents exactly like `text::fold`.
const INDEX: &str = "
CREATE VIRTUAL TABLE messages_fts USING fts5(
    content,
    content = 'messages',
    content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);
";

/// Replaced as a set at every open, so a file written by an older version
/// (which indexed inside each insert) gets these triggers too.
const TRIGGERS: &str = "
CREATE TABLE IF NOT EXISTS fts_pending (rowid INTEGER PRIMARY KEY);
DROP TRIGGER IF EXISTS messages_fts_insert;
DROP TRIGGER IF EXISTS messages_fts_update;
DROP TRIGGER IF EXISTS messages_fts_delete;
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO fts_pending (rowid) VALUES (new.rowid);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages
WHEN NOT EXISTS (SELECT 1 FROM fts_pending WHERE rowid = old.rowid) BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
    INSERT INTO messages_fts (rowid, content) VALUES (new.rowid, new.content);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
        SELECT 'delete', old.rowid, old.content
        WHERE NOT EXISTS (SELECT 1 FROM fts_pending WHERE rowid = old.rowid);
    DELETE FROM fts_pending WHERE rowid = old.rowid;
END;
";

/// Creates the index (built from the stored messages when it is new) and
/// the triggers; runs inside the open's migration transaction.
pub(super) fn install(conn: &Connection) -> Result<()> {
    let exists = super::any_row(
        conn,
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'messages_fts'",
    )?;
    if !exists {
        conn.execute_batch(INDEX)?;
        conn.execute_batch("INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')")?;
        tracing::info!("message search index built from the stored messages");
    }
    conn.execute_batch(TRIGGERS)?;
    Ok(())
}

/// True when some stored message is not in the index yet.
pub(super) fn lags(conn: &Connection) -> Result<bool> {
    super::any_row(conn, "SELECT 1 FROM fts_pending LIMIT 1")
}

/// Indexes every queued message and empties the queue, in one transaction
/// on the writer. Returns how many were indexed.
pub(super) fn catch_up(conn: &mut Connection) -> Result<usize> {
    let tx = conn.transaction()?;
    let indexed = tx
        .prepare_cached(
            "INSERT INTO messages_fts (rowid, content)
             SELECT m.rowid, m.content FROM fts_pending p JOIN messages m ON m.rowid = p.rowid",
        )?
        .execute([])?;
    tx.prepare_cached("DELETE FROM fts_pending")?.execute([])?;
    tx.commit()?;
    Ok(indexed)
}

/// The insert thread's count of what it queued since the last catch-up.
#[derive(Default)]
pub(super) struct Lag {
    pending: usize,
    since: Option<Instant>,
}

impl Deferred for Lag {
    fn stored(&mut self, rows: usize) {
        if rows > 0 {
            self.pending += rows;
            self.since.get_or_insert_with(Instant::now);
        }
    }

    fn due_in(&self) -> Option<Duration> {
        let since = self.since?;
        if self.pending >= MAX_PENDING {
            return Some(Duration::ZERO);
        }
        Some(MAX_WAIT.saturating_sub(since.elapsed()))
    }

    fn run(&mut self, conns: &Connections) {
        match conns.write(catch_up) {
            Ok(_) => *self = Lag::default(),
            Err(e) => {
                // The queue is intact; try again after another wait.
                tracing::warn!(error = %e, "search index catch-up failed; retrying");
                self.since = Some(Instant::now());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE messages (id TEXT PRIMARY KEY, content TEXT NOT NULL);")
            .unwrap();
        install(&conn).unwrap();
        conn
    }

    fn insert(conn: &Connection, id: &str, content: &str) {
        conn.execute(
            "INSERT INTO messages (id, content) VALUES (?1, ?2)",
            [id, content],
        )
        .unwrap();
    }

    fn found(conn: &Connection, word: &str) -> Vec<String> {
        let mut stmt = conn
            .prepare(
                "SELECT m.id FROM messages_fts f JOIN messages m ON m.rowid = f.rowid
                 WHERE messages_fts MATCH ?1 ORDER BY m.id",
            )
            .unwrap();
        stmt.query_map([word], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    /// FTS5's own consistency check: fails when the index and the content
    /// table disagree (what a wrong 'delete' would leave behind).
    fn assert_consistent(conn: &Connection) {
        conn.execute(
            "INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')",
            [],
        )
        .unwrap();
    }

    #[test]
    fn a_new_message_waits_in_the_queue_until_a_catch_up_indexes_it() {
        let mut conn = open();
        insert(&conn, "a", "hello world");
        assert!(lags(&conn).unwrap());
        assert!(found(&conn, "hello").is_empty());
        assert_eq!(catch_up(&mut conn).unwrap(), 1);
        assert!(!lags(&conn).unwrap());
        assert_eq!(found(&conn, "hello"), ["a"]);
        assert_consistent(&conn);
    }

    #[test]
    fn an_edit_before_indexing_is_indexed_with_its_new_content() {
        let mut conn = open();
        insert(&conn, "a", "draft words");
        conn.execute(
            "UPDATE messages SET content = 'final text' WHERE id = 'a'",
            [],
        )
        .unwrap();
        catch_up(&mut conn).unwrap();
        assert!(found(&conn, "draft").is_empty());
        assert_eq!(found(&conn, "final"), ["a"]);
        assert_consistent(&conn);
    }

    #[test]
    fn edits_and_deletes_of_indexed_messages_update_the_index_at_once() {
        let mut conn = open();
        insert(&conn, "a", "old words");
        insert(&conn, "b", "old too");
        catch_up(&mut conn).unwrap();
        conn.execute(
            "UPDATE messages SET content = 'new words' WHERE id = 'a'",
            [],
        )
        .unwrap();
        conn.execute("DELETE FROM messages WHERE id = 'b'", [])
            .unwrap();
        assert!(!lags(&conn).unwrap());
        assert!(found(&conn, "old").is_empty());
        assert_eq!(found(&conn, "new"), ["a"]);
        assert_consistent(&conn);
    }

    #[test]
    fn a_queued_message_deleted_before_indexing_leaves_no_trace() {
        let mut conn = open();
        insert(&conn, "a", "gone soon");
        conn.execute("DELETE FROM messages WHERE id = 'a'", [])
            .unwrap();
        assert!(!lags(&conn).unwrap());
        assert_eq!(catch_up(&mut conn).unwrap(), 0);
        assert!(found(&conn, "gone").is_empty());
        assert_consistent(&conn);
    }

    #[test]
    fn a_file_indexed_by_the_old_triggers_keeps_its_index_and_gets_the_queue() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE messages (id TEXT PRIMARY KEY, content TEXT NOT NULL);")
            .unwrap();
        conn.execute_batch(INDEX).unwrap();
        conn.execute_batch(
            "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
                 INSERT INTO messages_fts (rowid, content) VALUES (new.rowid, new.content);
             END;",
        )
        .unwrap();
        insert(&conn, "a", "indexed inline");
        install(&conn).unwrap();
        insert(&conn, "b", "queued now");
        assert_eq!(found(&conn, "inline"), ["a"]);
        assert_eq!(catch_up(&mut conn).unwrap(), 1);
        assert_eq!(found(&conn, "queued"), ["b"]);
        assert_consistent(&conn);
    }

    #[test]
    fn the_lag_is_due_at_the_size_bound_or_after_the_wait() {
        let mut lag = Lag::default();
        assert_eq!(lag.due_in(), None);
        lag.stored(1);
        let wait = lag.due_in().unwrap();
        assert!(wait > Duration::ZERO && wait <= MAX_WAIT);
        lag.stored(MAX_PENDING);
        assert_eq!(lag.due_in(), Some(Duration::ZERO));
        lag.since = Some(Instant::now() - MAX_WAIT);
        lag.pending = 1;
        assert_eq!(lag.due_in(), Some(Duration::ZERO));
    }
}
