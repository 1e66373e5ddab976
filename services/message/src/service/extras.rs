//! Reactions and search (PROTOCOL.md § Replies, reactions and search): the
//! rules in order (input, then existence and state) over the store.

use super::{Messages, not_found};
use crate::error::{Error, Result};
use crate::model::{Message, ReactOutcome, ReactionChange, SearchQuery};
use crate::rules::{emoji, optional, required, search_page, search_query};
use crate::text::{matches, query_terms};

/// A search result: the message and the `[start, end)` code-point ranges of
/// its matched words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    pub message: Message,
    pub matches: Vec<(u32, u32)>,
}

impl Messages {
    /// Adds (`on`) or removes `user`'s `emoji` on message `id`. Returns the
    /// message as it is after the call and whether anything changed.
    pub async fn react(
        &self,
        id: &str,
        user: &str,
        emoji_raw: &str,
        on: bool,
    ) -> Result<(Message, bool)> {
        required(id, "message id")?;
        required(user, "user")?;
        let emoji = emoji(emoji_raw)?;
        let change = ReactionChange {
            message_id: id.to_string(),
            emoji: emoji.to_string(),
            user: user.to_string(),
            on,
            max_distinct: chat_common::emoji::MAX_DISTINCT_PER_MESSAGE,
        };
        let changed = match self.store.react(&change).await? {
            ReactOutcome::Missing => return Err(not_found()),
            ReactOutcome::Deleted => {
                return Err(Error::FailedPrecondition(
                    "A deleted message cannot get reactions".into(),
                ));
            }
            ReactOutcome::TooMany => {
                return Err(Error::InvalidArgument(format!(
                    "A message can carry at most {} different emoji",
                    change.max_distinct
                )));
            }
            ReactOutcome::Done { changed } => changed,
        };
        let message = self.store.get(id).await?.ok_or_else(not_found)?;
        Ok((self.decorate_one(message).await?, changed))
    }

    /// Messages of `rooms` holding every word of `query`, newest first,
    /// older than message `before` when given; and whether more exist.
    pub async fn search(
        &self,
        query: &str,
        rooms: &[String],
        before: Option<&str>,
        limit: u32,
    ) -> Result<(Vec<SearchHit>, bool)> {
        let query = search_query(query)?;
        let limit = search_page(limit)? as usize;
        let before = match optional(before) {
            Some(id) => Some(self.store.get(id).await?.ok_or_else(not_found)?.key()),
            None => None,
        };
        let terms = query_terms(query);
        let rooms: Vec<String> = rooms.iter().filter(|r| !r.is_empty()).cloned().collect();
        if terms.is_empty() || rooms.is_empty() {
            return Ok((Vec::new(), false));
        }
        let q = SearchQuery {
            terms,
            rooms,
            before,
        };
        let mut found = self.store.search(&q, limit + 1).await?;
        let has_more = found.len() > limit;
        found.truncate(limit);
        let hits = self
            .decorate(found)
            .await?
            .into_iter()
            .map(|message| SearchHit {
                matches: matches(&message.content, &q.terms),
                message,
            })
            .collect();
        Ok((hits, has_more))
    }
}
