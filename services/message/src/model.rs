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
