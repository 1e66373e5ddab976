//! The MongoDB store: collection `messages` (indexed by room order, and a
//! partial unique index making `(sender, client_id)` the idempotency key) and
//! `read_positions` (unique per room and user), plus `reactions` and the
//! search field (see `extras`). Writes wait for a journaled majority so an
//! acknowledged message survives a failover.

mod extras;

use std::collections::HashMap;

mod rooms;

use async_trait::async_trait;
use futures::TryStreamExt;
use mongodb::bson::{Document, doc};
use mongodb::options::{
    Acknowledgment, DatabaseOptions, IndexOptions, ReturnDocument, WriteConcern,
};
use mongodb::{Client, Collection, Database, IndexModel};
use serde::{Deserialize, Serialize};

use super::Store;
use crate::error::{Error, Result};
use crate::model::{
    Attachment, Deleted, Key, Message, ReactOutcome, Reaction, ReactionChange, ReadMove, Scan,
    SearchQuery, Unread,
};
use crate::text;
use extras::ReactionDoc;

pub struct MongoStore {
    db: Database,
    messages: Collection<MessageDoc>,
    positions: Collection<PositionDoc>,
    reactions: Collection<ReactionDoc>,
}

#[derive(Debug, Serialize, Deserialize)]
struct MessageDoc {
    #[serde(rename = "_id")]
    id: String,
    room: String,
    sender: String,
    content: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    avatar_media_id: Option<String>,
    ts: i64,
    // Absent (never null) without a client id, so the partial unique index
    // only sees real keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    #[serde(default)]
    attachments: Vec<AttachmentDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    edited_at: Option<i64>,
    #[serde(default)]
    deleted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reply_to: Option<String>,
    /// The folded words of `content` (`text::index_tokens`), multikey
    /// indexed for search; empty once deleted.
    #[serde(default)]
    search_tokens: Vec<String>,
}

/// BSON has no unsigned 64-bit integer; sizes are stored as `i64`.
#[derive(Debug, Serialize, Deserialize)]
struct AttachmentDoc {
    id: String,
    content_type: String,
    size: i64,
    name: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct PositionDoc {
    room: String,
    user: String,
    ts: i64,
    message_id: String,
}

impl From<Message> for MessageDoc {
    fn from(m: Message) -> Self {
        let search_tokens = if m.deleted {
            Vec::new()
        } else {
            text::index_tokens(&m.content)
        };
        MessageDoc {
            id: m.id,
            room: m.room,
            sender: m.sender,
            content: m.content,
            avatar_media_id: m.avatar_media_id,
            ts: m.ts,
            client_id: m.client_id,
            attachments: m
                .attachments
                .into_iter()
                .map(|a| AttachmentDoc {
                    id: a.id,
                    content_type: a.content_type,
                    size: i64::try_from(a.size).unwrap_or(i64::MAX),
                    name: a.name,
                })
                .collect(),
            edited_at: m.edited_at,
            search_tokens,
            deleted: m.deleted,
            reply_to: m.reply_to,
        }
    }
}

impl From<MessageDoc> for Message {
    fn from(d: MessageDoc) -> Self {
        Message {
            id: d.id,
            room: d.room,
            sender: d.sender,
            content: d.content,
            avatar_media_id: d.avatar_media_id,
            ts: d.ts,
            client_id: d.client_id,
            attachments: d
                .attachments
                .into_iter()
                .map(|a| Attachment {
                    id: a.id,
                    content_type: a.content_type,
                    size: u64::try_from(a.size).unwrap_or_default(),
                    name: a.name,
                })
                .collect(),
            edited_at: d.edited_at,
            deleted: d.deleted,
            reply_to: d.reply_to,
            reply: None,
            reactions: Vec::new(),
        }
    }
}

impl MongoStore {
    /// Connects to `uri`, uses database `db_name` and creates the indexes
    /// (a no-op when they already exist).
    pub async fn open(uri: &str, db_name: &str) -> Result<MongoStore> {
        let client = Client::with_uri_str(uri).await?;
        let write_concern = WriteConcern::builder()
            .w(Acknowledgment::Majority)
            .journal(true)
            .build();
        let db = client.database_with_options(
            db_name,
            DatabaseOptions::builder()
                .write_concern(write_concern)
                .build(),
        );
        let store = MongoStore {
            messages: db.collection("messages"),
            positions: db.collection("read_positions"),
            reactions: db.collection("reactions"),
            db,
        };
        store.create_indexes().await?;
        rooms::create_indexes(&store.db).await?;
        store.backfill_search_tokens().await?;
        Ok(store)
    }

    /// The database this store owns.
    pub fn database(&self) -> &Database {
        &self.db
    }

    async fn create_indexes(&self) -> Result<()> {
        let named = |name: &str| IndexOptions::builder().name(name.to_owned());
        self.messages
            .create_index(
                IndexModel::builder()
                    .keys(doc! { "room": 1, "ts": 1, "_id": 1 })
                    .options(named("room_ts_id").build())
                    .build(),
            )
            .await?;
        self.messages
            .create_index(
                IndexModel::builder()
                    .keys(doc! { "sender": 1, "client_id": 1 })
                    .options(
                        named("sender_client_id")
                            .unique(true)
                            .partial_filter_expression(doc! { "client_id": { "$type": "string" } })
                            .build(),
                    )
                    .build(),
            )
            .await?;
        self.positions
            .create_index(
                IndexModel::builder()
                    .keys(doc! { "room": 1, "user": 1 })
                    .options(named("room_user").unique(true).build())
                    .build(),
            )
            .await?;
        self.create_extra_indexes().await
    }

    async fn find_one(&self, filter: Document) -> Result<Option<Message>> {
        Ok(self.messages.find_one(filter).await?.map(Message::from))
    }
}

use chat_common::mongo::is_duplicate_key;

/// Matches positions strictly before `key` in `(ts, id)` order.
fn before(key: &Key, ts_field: &str, id_field: &str) -> Document {
    doc! { "$or": [
        { ts_field: { "$lt": key.ts } },
        { ts_field: key.ts, id_field: { "$lt": &key.id } },
    ] }
}

/// Matches positions strictly after `key` in `(ts, id)` order.
fn after(key: &Key, ts_field: &str, id_field: &str) -> Document {
    doc! { "$or": [
        { ts_field: { "$gt": key.ts } },
        { ts_field: key.ts, id_field: { "$gt": &key.id } },
    ] }
}

#[async_trait]
impl Store for MongoStore {
    async fn ping(&self) -> Result<()> {
        self.db.run_command(doc! { "ping": 1 }).await?;
        Ok(())
    }

    async fn insert(&self, message: Message) -> Result<(Message, bool)> {
        let (sender, client_id) = (message.sender.clone(), message.client_id.clone());
        // Memberships first (idempotent), the message last: once a message
        // is stored, and so acknowledged, its room's members exist.
        rooms::ensure_direct_members(&self.db, &message).await?;
        match self
            .messages
            .insert_one(MessageDoc::from(message.clone()))
            .await
        {
            Ok(_) => Ok((message, true)),
            Err(e) if is_duplicate_key(&e) => {
                let Some(client_id) = client_id else {
                    return Err(e.into());
                };
                match self.get_by_client_id(&sender, &client_id).await? {
                    Some(existing) => Ok((existing, false)),
                    None => Err(e.into()),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn get(&self, id: &str) -> Result<Option<Message>> {
        self.find_one(doc! { "_id": id }).await
    }

    async fn get_by_client_id(&self, sender: &str, client_id: &str) -> Result<Option<Message>> {
        self.find_one(doc! { "sender": sender, "client_id": client_id })
            .await
    }

    async fn scan(&self, room: &str, scan: &Scan, take: usize) -> Result<Vec<Message>> {
        let mut filter = doc! { "room": room };
        let order = match scan {
            Scan::Older(None) => -1,
            Scan::Older(Some(k)) => {
                filter.extend(before(k, "ts", "_id"));
                -1
            }
            Scan::Newer(k) => {
                filter.extend(after(k, "ts", "_id"));
                1
            }
        };
        let docs: Vec<MessageDoc> = self
            .messages
            .find(filter)
            .sort(doc! { "ts": order, "_id": order })
            .limit(i64::try_from(take).unwrap_or(i64::MAX))
            .await?
            .try_collect()
            .await?;
        Ok(docs.into_iter().map(Message::from).collect())
    }

    async fn edit(&self, id: &str, content: &str, edited_at: i64) -> Result<Option<Message>> {
        let updated = self
            .messages
            .find_one_and_update(
                doc! { "_id": id, "deleted": false },
                doc! { "$set": {
                    "content": content,
                    "edited_at": edited_at,
                    "search_tokens": text::index_tokens(content),
                } },
            )
            .return_document(ReturnDocument::After)
            .await?;
        Ok(updated.map(Message::from))
    }

    async fn soft_delete(&self, id: &str) -> Result<Option<Deleted>> {
        let before = self
            .messages
            .find_one_and_update(
                doc! { "_id": id, "deleted": false },
                doc! { "$set": {
                    "content": "",
                    "attachments": [],
                    "deleted": true,
                    "search_tokens": [],
                } },
            )
            .return_document(ReturnDocument::Before)
            .await?;
        match before.map(Message::from) {
            Some(before) => {
                // A deleted message shows no reactions.
                self.reactions
                    .delete_many(doc! { "message_id": id })
                    .await?;
                let removed = before.attachments.clone();
                let message = Message {
                    content: String::new(),
                    attachments: Vec::new(),
                    deleted: true,
                    reactions: Vec::new(),
                    ..before
                };
                Ok(Some(Deleted {
                    message,
                    changed: true,
                    removed,
                }))
            }
            // Either unknown or already deleted: report what is stored.
            None => Ok(self.get(id).await?.map(|message| Deleted {
                message,
                changed: false,
                removed: Vec::new(),
            })),
        }
    }

    async fn advance_read(&self, room: &str, user: &str, to: &Key) -> Result<ReadMove> {
        let mut filter = doc! { "room": room, "user": user };
        filter.extend(before(to, "ts", "message_id"));
        let update = doc! { "$set": { "ts": to.ts, "message_id": &to.id } };
        let moved = match self
            .positions
            .update_one(filter.clone(), update.clone())
            .upsert(true)
            .await
        {
            Ok(r) => r.modified_count > 0 || r.upserted_id.is_some(),
            // A position exists that is not older (the upsert's insert hit
            // the unique index), or a racer inserted one first: the plain
            // conditional update settles which of the two it was.
            Err(e) if is_duplicate_key(&e) => {
                self.positions
                    .update_one(filter, update)
                    .await?
                    .modified_count
                    > 0
            }
            Err(e) => return Err(e.into()),
        };
        let current = self
            .positions
            .find_one(doc! { "room": room, "user": user })
            .await?
            .ok_or_else(|| Error::Corrupt(format!("read position of {user} in {room} vanished")))?;
        Ok(ReadMove {
            moved,
            message_id: current.message_id,
        })
    }

    /// One aggregation reads the position and counts past it, so a
    /// `markRead` landing in between cannot pair an old count with a new
    /// position (two separate reads could).
    async fn unread(&self, room: &str, user: &str) -> Result<Unread> {
        let pipeline = [
            doc! { "$documents": [{}] },
            doc! { "$lookup": {
                "from": self.positions.name(),
                "pipeline": [{ "$match": { "room": room, "user": user } }, { "$limit": 1 }],
                "as": "position",
            } },
            doc! { "$set": { "position": { "$first": "$position" } } },
            doc! { "$lookup": {
                "from": self.messages.name(),
                "let": {
                    "ts": { "$ifNull": ["$position.ts", null] },
                    "id": { "$ifNull": ["$position.message_id", null] },
                },
                "pipeline": [
                    { "$match": { "room": room, "sender": { "$ne": user }, "deleted": false } },
                    { "$match": { "$expr": { "$or": [
                        { "$eq": ["$$ts", null] },
                        { "$gt": ["$ts", "$$ts"] },
                        { "$and": [{ "$eq": ["$ts", "$$ts"] }, { "$gt": ["$_id", "$$id"] }] },
                    ] } } },
                    { "$count": "n" },
                ],
                "as": "unread",
            } },
            doc! { "$project": {
                "_id": 0,
                "last_read": "$position.message_id",
                "count": { "$ifNull": [{ "$first": "$unread.n" }, 0] },
            } },
        ];
        let mut cursor = self.db.aggregate(pipeline).await?;
        let row = cursor
            .try_next()
            .await?
            .ok_or_else(|| Error::Corrupt("the unread aggregation returned no row".into()))?;
        let count = match row.get("count") {
            Some(mongodb::bson::Bson::Int32(n)) => u64::try_from(*n).unwrap_or(0),
            Some(mongodb::bson::Bson::Int64(n)) => u64::try_from(*n).unwrap_or(0),
            other => {
                return Err(Error::Corrupt(format!(
                    "the unread aggregation counted {other:?}"
                )));
            }
        };
        Ok(Unread {
            count,
            last_read: row.get_str("last_read").ok().map(str::to_string),
        })
    }

    async fn get_many(&self, ids: &[String]) -> Result<Vec<Message>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let docs: Vec<MessageDoc> = self
            .messages
            .find(doc! { "_id": { "$in": ids } })
            .await?
            .try_collect()
            .await?;
        Ok(docs.into_iter().map(Message::from).collect())
    }

    async fn reactions(&self, ids: &[String]) -> Result<HashMap<String, Vec<Reaction>>> {
        self.reactions_of(ids).await
    }

    async fn react(&self, change: &ReactionChange) -> Result<ReactOutcome> {
        self.apply_reaction(change).await
    }

    async fn search(&self, query: &SearchQuery, take: usize) -> Result<Vec<Message>> {
        self.find_words(query, take).await
    }
}
