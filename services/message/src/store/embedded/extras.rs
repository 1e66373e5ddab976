//! The embedded store's reactions, batch lookups and full-text search
//! (v1.2), as functions over a connection; `EmbeddedStore` runs them on the
//! writer or a reader.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};

use super::{finish, row_to_message};
use crate::error::{Error, Result};
use crate::model::{Message, ReactOutcome, Reaction, ReactionChange, SearchQuery, group_reactions};

/// The message columns prefixed with the table alias `m`, for statements
/// that join (the FTS table has a `content` column too).
macro_rules! m_columns {
    () => {
        "m.id, m.room, m.sender, m.content, m.avatar_media_id, m.ts, m.client_id, m.attachments, m.edited_at, m.deleted, m.reply_to"
    };
}

const GET_MANY: &str = concat!(
    "SELECT ",
    m_columns!(),
    " FROM messages m WHERE m.id IN (SELECT value FROM json_each(?1))"
);

const SEARCH: &str = concat!(
    "SELECT ",
    m_columns!(),
    " FROM messages_fts f JOIN messages m ON m.rowid = f.rowid
     WHERE messages_fts MATCH ?1 AND m.deleted = 0
       AND m.room IN (SELECT value FROM json_each(?2))
       AND (?3 IS NULL OR (m.ts, m.id) < (?3, ?4))
     ORDER BY m.ts DESC, m.id DESC LIMIT ?5"
);

fn json_list(items: &[String]) -> Result<String> {
    serde_json::to_string(items).map_err(|e| Error::Corrupt(e.to_string()))
}

pub(super) fn get_many(conn: &Connection, ids: &[String]) -> Result<Vec<Message>> {
    let mut stmt = conn.prepare_cached(GET_MANY)?;
    let rows = stmt.query_map(params![json_list(ids)?], row_to_message)?;
    rows.map(|r| finish(r?)).collect()
}

pub(super) fn reactions(
    conn: &Connection,
    ids: &[String],
) -> Result<HashMap<String, Vec<Reaction>>> {
    let mut stmt = conn.prepare_cached(
        "SELECT message_id, emoji, user FROM reactions
         WHERE message_id IN (SELECT value FROM json_each(?1)) ORDER BY since, seq",
    )?;
    let mut rows: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for row in stmt.query_map(params![json_list(ids)?], |r| {
        Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?))
    })? {
        let (id, emoji, user) = row?;
        rows.entry(id).or_default().push((emoji, user));
    }
    Ok(rows
        .into_iter()
        .map(|(id, list)| (id, group_reactions(list)))
        .collect())
}

/// One transaction on the writer: nothing can delete the message or add
/// an emoji between the checks and the change.
pub(super) fn react(conn: &mut Connection, c: &ReactionChange) -> Result<ReactOutcome> {
    let tx = conn.transaction()?;
    let deleted: Option<bool> = tx
        .prepare_cached("SELECT deleted FROM messages WHERE id = ?1")?
        .query_row(params![c.message_id], |r| r.get(0))
        .optional()?;
    match deleted {
        None => return Ok(ReactOutcome::Missing),
        Some(true) => return Ok(ReactOutcome::Deleted),
        Some(false) => {}
    }
    let changed = if c.on {
        let (distinct, has_this): (i64, bool) = tx
            .prepare_cached(
                "SELECT COUNT(DISTINCT emoji), COALESCE(MAX(emoji = ?2), 0)
                 FROM reactions WHERE message_id = ?1",
            )?
            .query_row(params![c.message_id, c.emoji], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        if !has_this && usize::try_from(distinct).unwrap_or(usize::MAX) >= c.max_distinct {
            return Ok(ReactOutcome::TooMany);
        }
        tx.prepare_cached(
            "INSERT INTO reactions (since, message_id, emoji, user) VALUES (
                 COALESCE(
                     (SELECT MIN(since) FROM reactions WHERE message_id = ?1 AND emoji = ?2),
                     (SELECT COALESCE(MAX(seq), 0) + 1 FROM reactions)
                 ), ?1, ?2, ?3)
             ON CONFLICT (message_id, emoji, user) DO NOTHING",
        )?
        .execute(params![c.message_id, c.emoji, c.user])?
            == 1
    } else {
        tx.prepare_cached(
            "DELETE FROM reactions WHERE message_id = ?1 AND emoji = ?2 AND user = ?3",
        )?
        .execute(params![c.message_id, c.emoji, c.user])?
            == 1
    };
    tx.commit()?;
    Ok(ReactOutcome::Done { changed })
}

/// An FTS5 query: every term as a quoted string (so no word is read as an
/// operator), implicitly AND-ed, the last one a prefix query.
fn match_expression(terms: &[String]) -> String {
    let quoted: Vec<String> = terms
        .iter()
        .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
        .collect();
    format!("{}*", quoted.join(" "))
}

pub(super) fn search(conn: &Connection, q: &SearchQuery, take: usize) -> Result<Vec<Message>> {
    if q.terms.is_empty() || q.rooms.is_empty() {
        return Ok(Vec::new());
    }
    let take = i64::try_from(take).unwrap_or(i64::MAX);
    let (ts, id) = match &q.before {
        Some(k) => (Some(k.ts), Some(k.id.as_str())),
        None => (None, None),
    };
    let mut stmt = conn.prepare_cached(SEARCH)?;
    let rows = stmt.query_map(
        params![
            match_expression(&q.terms),
            json_list(&q.rooms)?,
            ts,
            id,
            take
        ],
        row_to_message,
    )?;
    rows.map(|r| finish(r?)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_term_is_quoted_and_the_last_is_a_prefix() {
        let terms = ["cafe".to_string(), "and".into(), "lai".into()];
        assert_eq!(match_expression(&terms), "\"cafe\" \"and\" \"lai\"*");
        assert_eq!(match_expression(&["a\"b".into()]), "\"a\"\"b\"*");
    }
}
