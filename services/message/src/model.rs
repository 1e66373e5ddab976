//! The service's own data types, independent of protobuf and of any store.

use serde::{Deserialize, Serialize};

/// A file attached to a message; the bytes live in the media service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: String,
    pub content_type: String,
    pub size: u64,
    pub name: String,
}

/// A stored message. `ts` and `edited_at` are Unix milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: String,
    pub room: String,
    pub sender: String,
    /// Empty once deleted.
    pub content: String,
    pub avatar_media_id: Option<String>,
    pub ts: i64,
    pub client_id: Option<String>,
    /// Empty once deleted.
    pub attachments: Vec<Attachment>,
    pub edited_at: Option<i64>,
    pub deleted: bool,
    /// Id of the message this one answers, as stored.
    pub reply_to: Option<String>,
    /// That message as it reads now; filled by the service on every read,
    /// never stored (stores leave it `None`).
    pub reply: Option<ReplyRef>,
    /// Filled by the service on every read, never stored with the message
    /// (stores leave it empty).
    pub reactions: Vec<Reaction>,
}

/// The replied-to message as a reply shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyRef {
    pub id: String,
    pub sender: String,
    /// The first 100 code points of its content; empty once deleted.
    pub excerpt: String,
}

/// One emoji's reactions on a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reaction {
    pub emoji: String,
    pub count: u32,
    /// In the order they reacted.
    pub users: Vec<String>,
}

/// One stored reaction row: who reacted with what, in reaction order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReactionRow {
    pub message_id: String,
    pub emoji: String,
    pub user: String,
}

/// Groups reaction rows (already in reaction order) by emoji, in the order
/// each emoji first appears. Shared by both stores' readers.
pub fn group_reactions(rows: impl IntoIterator<Item = (String, String)>) -> Vec<Reaction> {
    let mut out: Vec<Reaction> = Vec::new();
    for (emoji, user) in rows {
        match out.iter_mut().find(|r| r.emoji == emoji) {
            Some(r) => {
                r.count += 1;
                r.users.push(user);
            }
            None => out.push(Reaction {
                emoji,
                count: 1,
                users: vec![user],
            }),
        }
    }
    out
}

/// A reaction to add (`on`) or remove.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReactionChange {
    pub message_id: String,
    pub emoji: String,
    pub user: String,
    pub on: bool,
    /// Adding a new emoji past this many distinct ones is refused.
    pub max_distinct: usize,
}

/// What a store did with a [`ReactionChange`], decided atomically with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReactOutcome {
    /// No such message.
    Missing,
    /// The message is deleted; nothing changed.
    Deleted,
    /// A new emoji would pass the per-message cap; nothing changed.
    TooMany,
    /// Applied; `false` when it was already so.
    Done { changed: bool },
}

/// What a store searches: folded words that must all be present (the last
/// as a prefix), within `rooms`, older than `before`, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    /// Non-empty; made by `text::query_terms`.
    pub terms: Vec<String>,
    pub rooms: Vec<String>,
    pub before: Option<Key>,
}

impl Message {
    /// Where this message sits in its room's order.
    pub fn key(&self) -> Key {
        Key {
            ts: self.ts,
            id: self.id.clone(),
        }
    }
}

/// A position in a room: messages sort by `(ts, id)`. The derived ordering
/// compares `ts` first, then `id`, which is exactly that order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    pub ts: i64,
    pub id: String,
}

/// Which way a history scan walks from its cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scan {
    /// Strictly older than the key (or from the newest message when `None`),
    /// newest first.
    Older(Option<Key>),
    /// Strictly newer than the key, oldest first.
    Newer(Key),
}

/// What a soft delete did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deleted {
    /// The message as stored after the call.
    pub message: Message,
    /// False when it was already deleted.
    pub changed: bool,
    /// The attachments this call removed (empty when `changed` is false).
    pub removed: Vec<Attachment>,
}

/// The outcome of moving a read position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadMove {
    pub moved: bool,
    /// The position after the call.
    pub message_id: String,
}

/// A user's unread state in one room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unread {
    pub count: u64,
    pub last_read: Option<String>,
}

/// One page of history, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub messages: Vec<Message>,
    /// More messages exist beyond this page in the direction paged.
    pub has_more: bool,
}
