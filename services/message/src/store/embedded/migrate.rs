//! Schema changes an existing database file needs, applied at open on the
//! writer in one transaction: the `reply_to` column, the reactions table,
//! and the FTS5 word index over message content (created and then rebuilt
//! from the stored messages, so messages sent before it are found too).

use rusqlite::{Connection, OptionalExtension};

use crate::error::Result;

/// The search index: an external-content FTS5 table over
/// `messages.content` (no second copy of the text), folding case and
/// accents exactly like `text::fold`. Triggers keep it in step with every
/// insert, content update (edits, soft deletes empty it) and delete, inside
/// the writing statement's own transaction.
const FTS: &str = "
CREATE VIRTUAL TABLE messages_fts USING fts5(
    content,
    content = 'messages',
    content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);
";

const FTS_TRIGGERS: &str = "
CREATE TRIGGER IF NOT EXISTS messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (new.rowid, new.content);
END;
CREATE TRIGGER IF NOT EXISTS messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
END;
CREATE TRIGGER IF NOT EXISTS messages_fts_update AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
    INSERT INTO messages_fts (rowid, content) VALUES (new.rowid, new.content);
END;
";

/// One row per (message, emoji, user). `seq` orders the rows as they came
/// (the users' order); `since` is the `seq` of the emoji's first row still
/// present when the row was added, so an emoji keeps its place while anyone
/// still reacts with it (the emoji order: first appearance).
const REACTIONS: &str = "
CREATE TABLE IF NOT EXISTS reactions (
    seq        INTEGER PRIMARY KEY,
    since      INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    emoji      TEXT NOT NULL,
    user       TEXT NOT NULL,
    UNIQUE (message_id, emoji, user)
);
";

pub(super) fn run(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction()?;
    let has_reply_to: bool = tx
        .query_row(
            "SELECT 1 FROM pragma_table_info('messages') WHERE name = 'reply_to'",
            [],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if !has_reply_to {
        tx.execute_batch("ALTER TABLE messages ADD COLUMN reply_to TEXT")?;
    }
    tx.execute_batch(REACTIONS)?;
    let has_fts = tx
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'messages_fts'",
            [],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if !has_fts {
        tx.execute_batch(FTS)?;
        tx.execute_batch("INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')")?;
        tracing::info!("message search index built from the stored messages");
    }
    tx.execute_batch(FTS_TRIGGERS)?;
    tx.commit()?;
    Ok(())
}
