//! The search index (an FTS5 table over `messages.content`) and how it
//! trails the sends: `fts_state.upto` is the highest message rowid the index
//! covers, the insert thread indexes the messages above it in batches, and a
//! search first catches up, so it finds every message stored before it.
//!
//! Why: FTS5 writes a new index segment at each commit that touched it and
//! later merges the segments back together. Indexed in each send's own
//! transaction, that was about a third of a send's instructions at a
//! steady 20 sends/s (callgrind, bench/README.md), because at that rate
//! most transactions hold one send. Indexing a few hundred at a time pays
//! the segment once for all of them. Why a mark and not a queue table: a
//! send's insert then touches no page but the message's own (a queued
//! rowid was one more WAL frame per commit and a trigger per row).
//!
//! Safety rules:
//! - A message is in the index exactly when its rowid is at most `upto`: a
//!   new message's rowid is above every stored one (SQLite gives the
//!   largest rowid plus one), so above `upto`; a catch-up indexes the rows
//!   above `upto` and moves it to the largest, in one transaction on the
//!   writer. Deleting the largest rows (nothing here does; an operator
//!   might) lowers `upto` with them, so their rowids, given again, count
//!   as new.
//! - Edits and deletes touch the index only for messages already in it; a
//!   message above the mark is indexed later with whatever content it has
//!   then (an external-content FTS5 table must be told the exact content it
//!   indexed to take a row back out).
//! - A crash loses nothing: the mark commits with the index it describes.

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
/// (which indexed inside each insert, then queued in `fts_pending`) gets
/// these triggers too. No trigger on insert: a new row is above the mark.
const TRIGGERS: &str = "
DROP TRIGGER IF EXISTS messages_fts_insert;
DROP TRIGGER IF EXISTS messages_fts_update;
DROP TRIGGER IF EXISTS messages_fts_delete;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages
WHEN old.rowid <= (SELECT upto FROM fts_state) BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
    INSERT INTO messages_fts (rowid, content) VALUES (new.rowid, new.content);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
        SELECT 'delete', old.rowid, old.content
        WHERE old.rowid <= (SELECT upto FROM fts_state);
    UPDATE fts_state SET upto = (SELECT IFNULL(MAX(rowid), 0) FROM messages)
        WHERE upto > (SELECT IFNULL(MAX(rowid), 0) FROM messages);
END;
";

/// The mark, one row. Created at the largest rowid: when it is created the
/// index covers every message (built just now, or indexed inline by the
/// oldest version, or the queue of the previous one caught up first).
const STATE: &str = "
CREATE TABLE fts_state (one INTEGER PRIMARY KEY CHECK (one = 0), upto INTEGER NOT NULL);
INSERT INTO fts_state (one, upto) SELECT 0, IFNULL(MAX(rowid), 0) FROM messages;
";

/// Creates the index (built from the stored messages when it is new), the
/// mark and the triggers; runs inside the open's migration transaction.
pub(super) fn install(conn: &Connection) -> Result<()> {
    let has_table = |name: &str| {
        super::any_row(
            conn,
            &format!("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '{name}'"),
        )
    };
    if !has_table("messages_fts")? {
        conn.execute_batch(INDEX)?;
        conn.execute_batch("INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')")?;
        tracing::info!("message search index built from the stored messages");
    }
    if !has_table("fts_state")? {
        if has_table("fts_pending")? {
            // The previous version's queue: index what it still held.
            conn.execute_batch(
                "DROP TRIGGER IF EXISTS messages_fts_insert;
                 INSERT INTO messages_fts (rowid, content)
                     SELECT m.rowid, m.content FROM fts_pending p JOIN messages m ON m.rowid = p.rowid;
                 DROP TABLE fts_pending;",
            )?;
        }
        conn.execute_batch(STATE)?;
    }
    conn.execute_batch(TRIGGERS)?;
    Ok(())
}

/// True when some stored message is not in the index yet.
pub(super) fn lags(conn: &Connection) -> Result<bool> {
    super::any_row(
        conn,
        "SELECT 1 FROM messages WHERE rowid > (SELECT upto FROM fts_state) LIMIT 1",
    )
}

/// Indexes every message above the mark and moves the mark past them, in
/// one transaction on the writer. Returns how many were indexed.
pub(super) fn catch_up(conn: &mut Connection) -> Result<usize> {
    let tx = conn.transaction()?;
    let indexed = tx
        .prepare_cached(
            "INSERT INTO messages_fts (rowid, content)
             SELECT rowid, content FROM messages WHERE rowid > (SELECT upto FROM fts_state)",
        )?
        .execute([])?;
    if indexed > 0 {
        tx.prepare_cached("UPDATE fts_state SET upto = (SELECT MAX(rowid) FROM messages)")?
            .execute([])?;
    }
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

    /// A messages table with no search index yet, as before any version
    /// of it.
    fn without_index() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE messages (id TEXT PRIMARY KEY, content TEXT NOT NULL);")
            .unwrap();
        conn
    }

    fn open() -> Connection {
        let conn = without_index();
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
    fn a_new_message_is_above_the_mark_until_a_catch_up_indexes_it() {
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
    fn a_message_deleted_before_indexing_leaves_no_trace() {
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
    fn a_file_indexed_inline_keeps_its_index_and_trails_from_there() {
        let mut conn = without_index();
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
    fn a_file_of_the_queue_version_indexes_its_queue_and_drops_it() {
        let mut conn = without_index();
        conn.execute_batch(INDEX).unwrap();
        conn.execute_batch(
            "CREATE TABLE fts_pending (rowid INTEGER PRIMARY KEY);
             CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
                 INSERT INTO fts_pending (rowid) VALUES (new.rowid);
             END;",
        )
        .unwrap();
        insert(&conn, "a", "indexed before");
        conn.execute_batch(
            "INSERT INTO messages_fts (rowid, content) SELECT rowid, content FROM messages;
             DELETE FROM fts_pending;",
        )
        .unwrap();
        insert(&conn, "b", "still queued");
        install(&conn).unwrap();
        assert!(!lags(&conn).unwrap());
        assert_eq!(found(&conn, "queued"), ["b"]);
        assert!(
            !super::super::any_row(
                &conn,
                "SELECT 1 FROM sqlite_master WHERE name IN ('fts_pending', 'messages_fts_insert')"
            )
            .unwrap()
        );
        insert(&conn, "c", "after the upgrade");
        assert_eq!(catch_up(&mut conn).unwrap(), 1);
        assert_eq!(found(&conn, "upgrade"), ["c"]);
        assert_consistent(&conn);
    }

    #[test]
    fn a_rowid_freed_by_deleting_the_newest_message_counts_as_new_again() {
        let mut conn = open();
        insert(&conn, "a", "first");
        insert(&conn, "b", "second");
        catch_up(&mut conn).unwrap();
        conn.execute("DELETE FROM messages WHERE id = 'b'", [])
            .unwrap();
        insert(&conn, "c", "third");
        assert!(lags(&conn).unwrap(), "c has b's rowid and is not indexed");
        assert_eq!(catch_up(&mut conn).unwrap(), 1);
        assert_eq!(found(&conn, "third"), ["c"]);
        assert!(found(&conn, "second").is_empty());
        assert_consistent(&conn);
    }

    #[test]
    fn an_index_built_over_stored_messages_starts_caught_up() {
        let conn = without_index();
        insert(&conn, "a", "from before search");
        install(&conn).unwrap();
        assert!(!lags(&conn).unwrap());
        assert_eq!(found(&conn, "search"), ["a"]);
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
