//! Persistence for messages and read positions. Every rule a request must
//! satisfy (content limits, authorship, cursors in the right room) is checked
//! above this trait so both backends share it; the store owns only what must
//! be atomic where the data lives: the `(sender, client_id)` uniqueness, the
//! "not deleted" condition of edits, single soft deletes, and forward-only
//! read positions; reactions unique per (message, emoji, user) with the
//! "not deleted" and per-message cap checks atomic with the change; and a
//! word index for search that finds every message stored before the search
//! (with every edit and delete applied).

use std::collections::HashMap;

use async_trait::async_trait;

use crate::error::Result;
use crate::model::{
    Deleted, Key, Message, ReactOutcome, Reaction, ReactionChange, ReadMove, Scan, SearchQuery,
    Unread,
};

pub mod embedded;
pub mod mongo;
pub mod rooms;

pub use embedded::EmbeddedStore;
pub use mongo::MongoStore;
pub use rooms::RoomStore;

#[async_trait]
pub trait Store: Send + Sync {
    /// Stores `message` unless one with the same `(sender, client_id)` is
    /// already stored; then nothing is written and that one is returned.
    /// The flag is true when this call stored it. Racing calls with one
    /// `client_id` store exactly one message.
    async fn insert(&self, message: Message) -> Result<(Message, bool)>;

    /// A cheap round trip to the storage, for health: `Ok` when it answers.
    async fn ping(&self) -> Result<()>;

    async fn get(&self, id: &str) -> Result<Option<Message>>;

    async fn get_by_client_id(&self, sender: &str, client_id: &str) -> Result<Option<Message>>;

    /// Up to `take` messages of `room` strictly beyond the scan's cursor, in
    /// the scan's order (`Older`: newest first, `Newer`: oldest first).
    async fn scan(&self, room: &str, scan: &Scan, take: usize) -> Result<Vec<Message>>;

    /// Replaces the content and sets `edited_at`, only if the message exists
    /// and is not deleted; `None` otherwise.
    async fn edit(&self, id: &str, content: &str, edited_at: i64) -> Result<Option<Message>>;

    /// Soft-deletes: empties content and attachments and sets `deleted`.
    /// `None` when no such message exists.
    async fn soft_delete(&self, id: &str) -> Result<Option<Deleted>>;

    /// Moves `user`'s read position in `room` to `to` when `to` is newer
    /// than the stored one (or none is stored), as one atomic step.
    async fn advance_read(&self, room: &str, user: &str, to: &Key) -> Result<ReadMove>;

    /// Messages in `room` after `user`'s read position (all, without one)
    /// that are neither sent by `user` nor deleted.
    async fn unread(&self, room: &str, user: &str) -> Result<Unread>;

    /// The stored messages among `ids` (unknown ids are left out; any order).
    async fn get_many(&self, ids: &[String]) -> Result<Vec<Message>>;

    /// The reactions of each of `ids` that has any, grouped by emoji in the
    /// order each first appeared.
    async fn reactions(&self, ids: &[String]) -> Result<HashMap<String, Vec<Reaction>>>;

    /// Adds or removes one reaction, checking existence, "not deleted" and
    /// the distinct-emoji cap in the same atomic step as the change.
    async fn react(&self, change: &ReactionChange) -> Result<ReactOutcome>;

    /// Up to `take` messages matching `query`, newest first; never deleted
    /// ones.
    async fn search(&self, query: &SearchQuery, take: usize) -> Result<Vec<Message>>;
}
