//! [`RoomStore`] on MongoDB: collection `rooms` (the name is `_id`, so names
//! are unique) and `memberships` (unique per room and lower-cased user).
//! Without multi-document transactions (a standalone server has none), the
//! memberships of a direct-message room are written before its message:
//! they are idempotent upserts, so a stored message always has them, and a
//! send interrupted in between leaves only memberships its resend reuses.

use async_trait::async_trait;
use chat_common::names::{self, Room as Name};
use futures::TryStreamExt;
use mongodb::bson::doc;
use mongodb::options::{IndexOptions, ReturnDocument};
use mongodb::{Collection, Database, IndexModel};
use serde::{Deserialize, Serialize};

use super::{MongoStore, is_duplicate_key};
use crate::error::{Error, Result};
use crate::model::Message;
use crate::rooms::{Membership, Role, Room};
use crate::store::rooms::RoomStore;

#[derive(Debug, Serialize, Deserialize)]
struct RoomDoc {
    #[serde(rename = "_id")]
    name: String,
    private: bool,
    #[serde(default)]
    topic: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owner: Option<String>,
    created: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct MemberDoc {
    room: String,
    user_lower: String,
    user: String,
    role: String,
    joined: i64,
    #[serde(default)]
    banned: bool,
}

impl From<Room> for RoomDoc {
    fn from(r: Room) -> Self {
        RoomDoc {
            name: r.name,
            private: r.private,
            topic: r.topic,
            owner: r.owner,
            created: r.created,
        }
    }
}

impl From<RoomDoc> for Room {
    fn from(d: RoomDoc) -> Self {
        Room {
            name: d.name,
            private: d.private,
            topic: d.topic,
            owner: d.owner,
            created: d.created,
        }
    }
}

fn member_doc(m: &Membership) -> MemberDoc {
    MemberDoc {
        room: m.room.clone(),
        user_lower: m.user.to_lowercase(),
        user: m.user.clone(),
        role: m.role.as_str().to_string(),
        joined: m.joined,
        banned: m.banned,
    }
}

fn member(d: MemberDoc) -> Result<Membership> {
    let role = Role::parse(&d.role)
        .ok_or_else(|| Error::Corrupt(format!("role {:?} in room {}", d.role, d.room)))?;
    Ok(Membership {
        room: d.room,
        user: d.user,
        role,
        joined: d.joined,
        banned: d.banned,
    })
}

fn rooms(db: &Database) -> Collection<RoomDoc> {
    db.collection("rooms")
}

fn members(db: &Database) -> Collection<MemberDoc> {
    db.collection("memberships")
}

pub(super) async fn create_indexes(db: &Database) -> Result<()> {
    let named = |name: &str| IndexOptions::builder().name(name.to_owned());
    members(db)
        .create_index(
            IndexModel::builder()
                .keys(doc! { "room": 1, "user_lower": 1 })
                .options(named("room_user").unique(true).build())
                .build(),
        )
        .await?;
    members(db)
        .create_index(
            IndexModel::builder()
                .keys(doc! { "user_lower": 1, "room": 1 })
                .options(named("user_room").build())
                .build(),
        )
        .await?;
    Ok(())
}

/// Inserts unless present; true when this call inserted.
async fn insert_member(db: &Database, m: &Membership) -> Result<bool> {
    let res = members(db)
        .update_one(
            doc! { "room": &m.room, "user_lower": m.user.to_lowercase() },
            doc! { "$setOnInsert": mongodb::bson::to_document(&member_doc(m))
            .map_err(|e| Error::Corrupt(e.to_string()))? },
        )
        .upsert(true)
        .await;
    match res {
        Ok(r) => Ok(r.upserted_id.is_some()),
        // Two upserts racing on the unique index: the other one won.
        Err(e) if is_duplicate_key(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

async fn insert_room(db: &Database, room: Room) -> Result<bool> {
    match rooms(db).insert_one(RoomDoc::from(room)).await {
        Ok(_) => Ok(true),
        Err(e) if is_duplicate_key(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

async fn get_member(db: &Database, room: &str, user: &str) -> Result<Option<Membership>> {
    members(db)
        .find_one(doc! { "room": room, "user_lower": user.to_lowercase() })
        .await?
        .map(member)
        .transpose()
}

/// See the embedded store's twin: both memberships of a direct-message
/// room from its first message on. Called before the message is inserted.
pub(super) async fn ensure_direct_members(db: &Database, message: &Message) -> Result<()> {
    let Ok(Name::Direct { a, b }) = names::parse_room(&message.room) else {
        return Ok(());
    };
    insert_room(
        db,
        Room {
            name: message.room.clone(),
            private: true,
            topic: String::new(),
            owner: None,
            created: message.ts,
        },
    )
    .await?;
    for lower in [a, b] {
        let user = if message.sender.to_lowercase() == lower {
            message.sender.as_str()
        } else {
            lower
        };
        let m = Membership::new(&message.room, user, Role::Member, message.ts);
        insert_member(db, &m).await?;
    }
    Ok(())
}

#[async_trait]
impl RoomStore for MongoStore {
    async fn create_room(&self, room: Room, owner: Option<Membership>) -> Result<bool> {
        if !insert_room(&self.db, room).await? {
            return Ok(false);
        }
        if let Some(owner) = &owner {
            insert_member(&self.db, owner).await?;
        }
        Ok(true)
    }

    async fn room(&self, name: &str) -> Result<Option<Room>> {
        Ok(rooms(&self.db)
            .find_one(doc! { "_id": name })
            .await?
            .map(Room::from))
    }

    async fn ensure_room(&self, room: Room) -> Result<Room> {
        let name = room.name.clone();
        insert_room(&self.db, room).await?;
        self.room(&name)
            .await?
            .ok_or_else(|| Error::Corrupt("a room vanished while created".into()))
    }

    async fn membership(&self, room: &str, user: &str) -> Result<Option<Membership>> {
        get_member(&self.db, room, user).await
    }

    async fn add_member(&self, m: Membership) -> Result<(Membership, bool)> {
        let added = insert_member(&self.db, &m).await?;
        if !added && !m.banned {
            members(&self.db)
                .update_one(
                    doc! { "room": &m.room, "user_lower": m.user.to_lowercase() },
                    doc! { "$set": { "user": &m.user } },
                )
                .await?;
        }
        let stored = get_member(&self.db, &m.room, &m.user)
            .await?
            .ok_or_else(|| Error::Corrupt("a membership vanished while added".into()))?;
        Ok((stored, added))
    }

    async fn remove_member(&self, room: &str, user: &str) -> Result<bool> {
        let res = members(&self.db)
            .delete_one(doc! { "room": room, "user_lower": user.to_lowercase(), "banned": false })
            .await?;
        Ok(res.deleted_count == 1)
    }

    async fn ban(&self, room: &str, user: &str, at: i64) -> Result<()> {
        members(&self.db)
            .update_one(
                doc! { "room": room, "user_lower": user.to_lowercase() },
                doc! {
                    "$set": { "banned": true, "role": "member" },
                    "$setOnInsert": { "user": user, "joined": at },
                },
            )
            .upsert(true)
            .await?;
        Ok(())
    }

    async fn unban(&self, room: &str, user: &str) -> Result<bool> {
        let res = members(&self.db)
            .delete_one(doc! { "room": room, "user_lower": user.to_lowercase(), "banned": true })
            .await?;
        Ok(res.deleted_count == 1)
    }

    async fn set_role(&self, room: &str, user: &str, role: Role) -> Result<bool> {
        let res = members(&self.db)
            .update_one(
                doc! { "room": room, "user_lower": user.to_lowercase(), "banned": false },
                doc! { "$set": { "role": role.as_str() } },
            )
            .await?;
        Ok(res.matched_count == 1)
    }

    async fn set_topic(&self, room: &str, topic: &str) -> Result<Option<Room>> {
        Ok(rooms(&self.db)
            .find_one_and_update(doc! { "_id": room }, doc! { "$set": { "topic": topic } })
            .return_document(ReturnDocument::After)
            .await?
            .map(Room::from))
    }

    async fn members(&self, room: &str) -> Result<Vec<Membership>> {
        let docs: Vec<MemberDoc> = members(&self.db)
            .find(doc! { "room": room, "banned": false })
            .sort(doc! { "joined": 1, "user_lower": 1 })
            .await?
            .try_collect()
            .await?;
        docs.into_iter().map(member).collect()
    }

    async fn memberships_of(&self, user: &str) -> Result<Vec<(Room, Membership)>> {
        let docs: Vec<MemberDoc> = members(&self.db)
            .find(doc! { "user_lower": user.to_lowercase(), "banned": false })
            .await?
            .try_collect()
            .await?;
        let mut out = Vec::with_capacity(docs.len());
        for d in docs {
            let m = member(d)?;
            if let Some(room) = self.room(&m.room).await? {
                out.push((room, m));
            }
        }
        Ok(out)
    }
}
