//! The MongoDB store's reactions and search (v1.2).
//!
//! Reactions: collection `reactions`, one document per (message, emoji,
//! user) under a unique index, ordered by insertion (`seq`, then `_id`).
//! Search: every message carries `search_tokens`, its distinct words folded
//! by `text::index_tokens` (the same folding the SQLite index uses), under a
//! multikey index; a query needs each term as a whole token (`$all`) and the
//! last as a token prefix (an anchored regex, which the index serves).

use std::collections::HashMap;

use chat_common::time::now_millis;
use futures::TryStreamExt;
use mongodb::IndexModel;
use mongodb::bson::{Document, doc};
use mongodb::options::IndexOptions;
use serde::{Deserialize, Serialize};

use super::{MessageDoc, MongoStore, before, is_duplicate_key};
use crate::error::Result;
use crate::model::{Message, ReactOutcome, Reaction, ReactionChange, SearchQuery, group_reactions};
use crate::text;

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct ReactionDoc {
    message_id: String,
    emoji: String,
    user: String,
    /// When it was added (Unix ms): with `_id`, the order reactions came in.
    seq: i64,
    /// The `seq` of the emoji's first reaction still present when this one
    /// was added: the emoji keeps its place while anyone reacts with it.
    since: i64,
}

/// Escapes every regex metacharacter, so a term is matched literally.
fn regex_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\^$.|?*+()[]{}".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl MongoStore {
    pub(super) async fn create_extra_indexes(&self) -> Result<()> {
        let named = |name: &str| IndexOptions::builder().name(name.to_owned());
        self.reactions
            .create_index(
                IndexModel::builder()
                    .keys(doc! { "message_id": 1, "emoji": 1, "user": 1 })
                    .options(named("message_emoji_user").unique(true).build())
                    .build(),
            )
            .await?;
        self.messages
            .create_index(
                IndexModel::builder()
                    .keys(doc! { "search_tokens": 1, "ts": -1, "_id": -1 })
                    .options(named("search_tokens_ts_id").build())
                    .build(),
            )
            .await?;
        Ok(())
    }

    /// Messages stored before search existed get their tokens once, at open.
    pub(super) async fn backfill_search_tokens(&self) -> Result<()> {
        let mut missing = self
            .messages
            .find(doc! { "search_tokens": { "$exists": false } })
            .await?;
        let mut n = 0u64;
        while let Some(m) = missing.try_next().await? {
            let tokens = if m.deleted {
                Vec::new()
            } else {
                text::index_tokens(&m.content)
            };
            self.messages
                .update_one(
                    doc! { "_id": &m.id },
                    doc! { "$set": { "search_tokens": tokens } },
                )
                .await?;
            n += 1;
        }
        if n > 0 {
            tracing::info!(messages = n, "search tokens added to stored messages");
        }
        Ok(())
    }

    pub(super) async fn reactions_of(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, Vec<Reaction>>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let docs: Vec<ReactionDoc> = self
            .reactions
            .find(doc! { "message_id": { "$in": ids } })
            .sort(doc! { "since": 1, "seq": 1, "_id": 1 })
            .await?
            .try_collect()
            .await?;
        let mut rows: HashMap<String, Vec<(String, String)>> = HashMap::new();
        for d in docs {
            rows.entry(d.message_id)
                .or_default()
                .push((d.emoji, d.user));
        }
        Ok(rows
            .into_iter()
            .map(|(id, list)| (id, group_reactions(list)))
            .collect())
    }

    async fn deleted(&self, id: &str) -> Result<Option<bool>> {
        Ok(self
            .messages
            .find_one(doc! { "_id": id })
            .projection(doc! { "deleted": 1, "room": 1, "sender": 1, "content": 1, "ts": 1 })
            .await?
            .map(|m| m.deleted))
    }

    /// The cap is checked before the insert, not atomically with it: two
    /// different new emoji racing on a message at the cap may both land.
    pub(super) async fn apply_reaction(&self, c: &ReactionChange) -> Result<ReactOutcome> {
        match self.deleted(&c.message_id).await? {
            None => return Ok(ReactOutcome::Missing),
            Some(true) => return Ok(ReactOutcome::Deleted),
            Some(false) => {}
        }
        let key = doc! { "message_id": &c.message_id, "emoji": &c.emoji, "user": &c.user };
        if !c.on {
            let n = self.reactions.delete_one(key).await?.deleted_count;
            return Ok(ReactOutcome::Done { changed: n > 0 });
        }
        let first = self
            .reactions
            .find_one(doc! { "message_id": &c.message_id, "emoji": &c.emoji })
            .sort(doc! { "since": 1 })
            .await?;
        if first.is_none() {
            let distinct = self
                .reactions
                .distinct("emoji", doc! { "message_id": &c.message_id })
                .await?
                .len();
            if distinct >= c.max_distinct {
                return Ok(ReactOutcome::TooMany);
            }
        }
        let seq = now_millis();
        let row = ReactionDoc {
            message_id: c.message_id.clone(),
            emoji: c.emoji.clone(),
            user: c.user.clone(),
            seq,
            since: first.map_or(seq, |f| f.since),
        };
        let changed = match self.reactions.insert_one(row).await {
            Ok(_) => true,
            Err(e) if is_duplicate_key(&e) => false,
            Err(e) => return Err(e.into()),
        };
        // A delete may have landed between the check and the insert; it
        // clears reactions, so take back the one added after it.
        if changed && self.deleted(&c.message_id).await? != Some(false) {
            self.reactions.delete_one(key).await?;
            return Ok(ReactOutcome::Deleted);
        }
        Ok(ReactOutcome::Done { changed })
    }

    pub(super) async fn find_words(&self, q: &SearchQuery, take: usize) -> Result<Vec<Message>> {
        let Some((last, whole)) = q.terms.split_last() else {
            return Ok(Vec::new());
        };
        if q.rooms.is_empty() {
            return Ok(Vec::new());
        }
        let mut conditions: Vec<Document> =
            vec![doc! { "search_tokens": { "$regex": format!("^{}", regex_literal(last)) } }];
        if !whole.is_empty() {
            conditions.push(doc! { "search_tokens": { "$all": whole } });
        }
        if let Some(k) = &q.before {
            conditions.push(before(k, "ts", "_id"));
        }
        let filter = doc! {
            "room": { "$in": &q.rooms },
            "deleted": false,
            "$and": conditions,
        };
        let docs: Vec<MessageDoc> = self
            .messages
            .find(filter)
            .sort(doc! { "ts": -1, "_id": -1 })
            .limit(i64::try_from(take).unwrap_or(i64::MAX))
            .await?
            .try_collect()
            .await?;
        Ok(docs.into_iter().map(Message::from).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_metacharacters_are_escaped() {
        assert_eq!(regex_literal("a.b*"), "a\\.b\\*");
        assert_eq!(regex_literal("café"), "café");
    }
}
