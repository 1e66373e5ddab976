//! The message rules applied in order (input shape and limits, then
//! existence and authorship) on top of any [`Store`]; the gRPC layer only
//! translates to and from protobuf. Every message handed out is decorated
//! (`decorate`) with its reply excerpt and reactions as they are now.

mod decorate;
mod extras;

pub use extras::SearchHit;

use std::sync::Arc;

use chat_common::time::now_millis;
use futures::future::try_join_all;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::model::{Attachment, Deleted, Message, Page, ReadMove, Scan, Unread};
use crate::rules::{Limits, optional, required};
use crate::store::Store;

/// A send as the gateway asks for it.
#[derive(Debug, Clone, Default)]
pub struct NewPost {
    pub room: String,
    pub sender: String,
    pub content: String,
    pub client_id: Option<String>,
    pub avatar_media_id: Option<String>,
    pub attachments: Vec<Attachment>,
    /// Id of a message in the same room that this one answers.
    pub reply_to: Option<String>,
}

pub struct Messages {
    store: Arc<dyn Store>,
    limits: Limits,
}

fn not_found() -> Error {
    Error::NotFound("Message not found".into())
}

fn not_in_room() -> Error {
    Error::NotFound("That message is not in this room".into())
}

/// A fresh UUIDv7 and the server time it encodes, so the id and the
/// timestamp agree; the shared v7 context keeps ids minted in one
/// millisecond increasing, so `(ts, id)` follows insertion order.
fn new_id_and_ts() -> (String, i64) {
    let id = Uuid::now_v7();
    let ts = id
        .get_timestamp()
        .map(|t| {
            let (secs, nanos) = t.to_unix();
            i64::try_from(secs).unwrap_or(i64::MAX / 1000) * 1000 + i64::from(nanos / 1_000_000)
        })
        .unwrap_or_else(now_millis);
    (id.to_string(), ts)
}

impl Messages {
    pub fn new(store: Arc<dyn Store>, limits: Limits) -> Messages {
        Messages { store, limits }
    }

    /// Stores a message, or returns the one this sender already stored
    /// under the same client id (`false`).
    pub async fn post(&self, post: NewPost) -> Result<(Message, bool)> {
        required(&post.room, "room")?;
        required(&post.sender, "sender")?;
        let content = self.limits.content(&post.content)?;
        if post.attachments.iter().any(|a| a.id.is_empty()) {
            return Err(Error::InvalidArgument(
                "Every attachment needs a media id".into(),
            ));
        }
        let reply_to = optional(post.reply_to.as_deref()).map(str::to_string);
        let mut replied = None;
        if let Some(target) = &reply_to {
            match self.store.get(target).await? {
                Some(m) if m.room == post.room => replied = Some(m),
                _ => {
                    return Err(Error::NotFound(
                        "The message you reply to is not in this room".into(),
                    ));
                }
            }
        }
        let (id, ts) = new_id_and_ts();
        let message = Message {
            id,
            room: post.room,
            sender: post.sender,
            content,
            avatar_media_id: post.avatar_media_id.filter(|a| !a.is_empty()),
            ts,
            client_id: post.client_id.filter(|c| !c.is_empty()),
            attachments: post.attachments,
            edited_at: None,
            deleted: false,
            reply_to,
            reply: None,
            reactions: Vec::new(),
        };
        let (mut message, created) = self.store.insert(message).await?;
        if !created {
            // Stored before: it may have been reacted to or its reply target
            // changed since.
            return Ok((self.decorate_one(message).await?, false));
        }
        // Just stored: no one knows its id yet, so it has no reactions, and
        // the replied-to message is the one checked above. Looking them up
        // again cost two store reads per send.
        message.reply = replied.as_ref().map(decorate::reply_ref);
        Ok((message, true))
    }

    pub async fn by_client_id(&self, sender: &str, client_id: &str) -> Result<Message> {
        required(sender, "sender")?;
        required(client_id, "client id")?;
        let m = self
            .store
            .get_by_client_id(sender, client_id)
            .await?
            .ok_or_else(not_found)?;
        self.decorate_one(m).await
    }

    pub async fn get(&self, id: &str) -> Result<Message> {
        required(id, "message id")?;
        let m = self.store.get(id).await?.ok_or_else(not_found)?;
        self.decorate_one(m).await
    }

    /// A page of `room`, oldest first (see the proto for the three modes).
    pub async fn history(
        &self,
        room: &str,
        before: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page> {
        required(room, "room")?;
        let limit = self.limits.page_size(limit)? as usize;
        let scan = match (optional(before), optional(after)) {
            (Some(_), Some(_)) => {
                return Err(Error::InvalidArgument(
                    "Use either before or after, not both".into(),
                ));
            }
            (Some(id), None) => Scan::Older(Some(self.cursor(room, id).await?.key())),
            (None, Some(id)) => Scan::Newer(self.cursor(room, id).await?.key()),
            (None, None) => Scan::Older(None),
        };
        // One extra row answers "is there more?" without a second query.
        let mut messages = self.store.scan(room, &scan, limit + 1).await?;
        let has_more = messages.len() > limit;
        messages.truncate(limit);
        if matches!(scan, Scan::Older(_)) {
            messages.reverse();
        }
        let messages = self.decorate(messages).await?;
        Ok(Page { messages, has_more })
    }

    async fn cursor(&self, room: &str, id: &str) -> Result<Message> {
        match self.store.get(id).await? {
            Some(m) if m.room == room => Ok(m),
            _ => Err(not_in_room()),
        }
    }

    pub async fn edit(&self, id: &str, editor: &str, content: &str) -> Result<Message> {
        required(id, "message id")?;
        required(editor, "editor")?;
        let content = self.limits.content(content)?;
        let current = self.store.get(id).await?.ok_or_else(not_found)?;
        if current.sender != editor {
            return Err(Error::PermissionDenied(
                "Only the author can edit this message".into(),
            ));
        }
        let deleted = || Error::FailedPrecondition("A deleted message cannot be edited".into());
        if current.deleted {
            return Err(deleted());
        }
        // The store re-checks "not deleted" atomically: a delete may have
        // landed since the read above.
        let m = self
            .store
            .edit(id, &content, now_millis())
            .await?
            .ok_or_else(deleted)?;
        self.decorate_one(m).await
    }

    pub async fn delete(&self, id: &str, requester: &str) -> Result<Deleted> {
        required(id, "message id")?;
        required(requester, "requester")?;
        let current = self.store.get(id).await?.ok_or_else(not_found)?;
        if current.sender != requester {
            return Err(Error::PermissionDenied(
                "Only the author can delete this message".into(),
            ));
        }
        let mut d = self.store.soft_delete(id).await?.ok_or_else(not_found)?;
        d.message = self.decorate_one(d.message).await?;
        Ok(d)
    }

    /// Moves `user`'s read position in `room` to `message_id` if newer.
    pub async fn mark_read(&self, room: &str, user: &str, message_id: &str) -> Result<ReadMove> {
        required(room, "room")?;
        required(user, "user")?;
        required(message_id, "message id")?;
        let message = self.cursor(room, message_id).await?;
        self.store.advance_read(room, user, &message.key()).await
    }

    /// Unread state for each of `rooms`, in the order asked.
    pub async fn unread(&self, user: &str, rooms: &[String]) -> Result<Vec<(String, Unread)>> {
        required(user, "user")?;
        for room in rooms {
            required(room, "room")?;
        }
        try_join_all(rooms.iter().map(|room| async move {
            Ok::<_, Error>((room.clone(), self.store.unread(room, user).await?))
        }))
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_v7_and_agree_with_their_timestamp() {
        let before = now_millis();
        let (id, ts) = new_id_and_ts();
        let after = now_millis();
        let parsed = Uuid::parse_str(&id).unwrap();
        assert_eq!(parsed.get_version_num(), 7);
        assert!(
            (before..=after).contains(&ts),
            "{before} <= {ts} <= {after}"
        );
    }

    #[test]
    fn ids_minted_back_to_back_sort_in_minting_order() {
        let keys: Vec<(i64, String)> = (0..1000)
            .map(|_| new_id_and_ts())
            .map(|(i, t)| (t, i))
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
    }
}
