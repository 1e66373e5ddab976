//! Schema changes an existing database file needs, applied at open on the
//! writer in one transaction: the `reply_to` column, the reactions table,
//! and the search index with its triggers (`fts`).

use rusqlite::Connection;

use crate::error::Result;

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
    let has_reply_to = super::any_row(
        &tx,
        "SELECT 1 FROM pragma_table_info('messages') WHERE name = 'reply_to'",
    )?;
    if !has_reply_to {
        tx.execute_batch("ALTER TABLE messages ADD COLUMN reply_to TEXT")?;
    }
    tx.execute_batch(REACTIONS)?;
    super::fts::install(&tx)?;
    tx.commit()?;
    Ok(())
}
