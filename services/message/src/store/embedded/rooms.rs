//! [`RoomStore`] on the embedded store's SQLite file: tables `rooms` and
//! `memberships`, written through the same single writer as messages, so
//! the first direct message and its two memberships commit together.

use async_trait::async_trait;
use chat_common::names::{self, Room as Name};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::EmbeddedStore;
use crate::error::{Error, Result};
use crate::model::Message;
use crate::rooms::{Membership, Role, Room};
use crate::store::rooms::RoomStore;

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS rooms (
    name    TEXT PRIMARY KEY,
    private INTEGER NOT NULL,
    topic   TEXT NOT NULL DEFAULT '',
    owner   TEXT,
    created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS memberships (
    room       TEXT NOT NULL,
    user_lower TEXT NOT NULL,
    user       TEXT NOT NULL,
    role       TEXT NOT NULL,
    joined     INTEGER NOT NULL,
    banned     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (room, user_lower)
);
CREATE INDEX IF NOT EXISTS memberships_user ON memberships (user_lower, room);
";

const ROOM_COLUMNS: &str = "name, private, topic, owner, created";
const INSERT_ROOM: &str = "INSERT INTO rooms (name, private, topic, owner, created)
     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO NOTHING";
const INSERT_MEMBER: &str = "INSERT INTO memberships (room, user_lower, user, role, joined, banned)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (room, user_lower) DO NOTHING";
const SELECT_MEMBER: &str = "SELECT room, user, role, joined, banned FROM memberships
     WHERE room = ?1 AND user_lower = ?2";

fn row_to_room(r: &Row<'_>) -> rusqlite::Result<Room> {
    Ok(Room {
        name: r.get(0)?,
        private: r.get(1)?,
        topic: r.get(2)?,
        owner: r.get(3)?,
        created: r.get(4)?,
    })
}

fn row_to_member(r: &Row<'_>, at: usize) -> rusqlite::Result<(Membership, String)> {
    Ok((
        Membership {
            room: r.get(at)?,
            user: r.get(at + 1)?,
            role: Role::Member,
            joined: r.get(at + 3)?,
            banned: r.get(at + 4)?,
        },
        r.get(at + 2)?,
    ))
}

fn finish((mut m, role): (Membership, String)) -> Result<Membership> {
    m.role = Role::parse(&role)
        .ok_or_else(|| Error::Corrupt(format!("role {role:?} in room {}", m.room)))?;
    Ok(m)
}

fn get_room(conn: &Connection, name: &str) -> Result<Option<Room>> {
    let sql = format!("SELECT {ROOM_COLUMNS} FROM rooms WHERE name = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![name], row_to_room)
        .optional()?)
}

fn get_member(conn: &Connection, room: &str, user: &str) -> Result<Option<Membership>> {
    conn.prepare_cached(SELECT_MEMBER)?
        .query_row(params![room, user.to_lowercase()], |r| row_to_member(r, 0))
        .optional()?
        .map(finish)
        .transpose()
}

fn insert_room(conn: &Connection, room: &Room) -> Result<bool> {
    Ok(conn.prepare_cached(INSERT_ROOM)?.execute(params![
        room.name,
        room.private,
        room.topic,
        room.owner,
        room.created
    ])? == 1)
}

fn insert_member(conn: &Connection, m: &Membership) -> Result<bool> {
    Ok(conn.prepare_cached(INSERT_MEMBER)?.execute(params![
        m.room,
        m.user.to_lowercase(),
        m.user,
        m.role.as_str(),
        m.joined,
        m.banned
    ])? == 1)
}

/// Called by the message insert, inside its transaction, for a message it
/// stored: a direct-message room and both of its memberships exist from its
/// first message on.
pub(super) fn on_message_stored(conn: &Connection, message: &Message) -> Result<()> {
    let Ok(Name::Direct { a, b }) = names::parse_room(&message.room) else {
        return Ok(());
    };
    insert_room(
        conn,
        &Room {
            name: message.room.clone(),
            private: true,
            topic: String::new(),
            owner: None,
            created: message.ts,
        },
    )?;
    for lower in [a, b] {
        // The sender's name as registered; the other's only lower-cased
        // until they join (JoinRoom refreshes it).
        let user = if message.sender.to_lowercase() == lower {
            message.sender.as_str()
        } else {
            lower
        };
        insert_member(
            conn,
            &Membership::new(&message.room, user, Role::Member, message.ts),
        )?;
    }
    Ok(())
}

#[async_trait]
impl RoomStore for EmbeddedStore {
    async fn create_room(&self, room: Room, owner: Option<Membership>) -> Result<bool> {
        self.write(move |conn| {
            let tx = conn.transaction()?;
            if !insert_room(&tx, &room)? {
                return Ok(false);
            }
            if let Some(owner) = &owner {
                insert_member(&tx, owner)?;
            }
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn room(&self, name: &str) -> Result<Option<Room>> {
        let name = name.to_owned();
        self.read(move |conn| get_room(conn, &name)).await
    }

    async fn ensure_room(&self, room: Room) -> Result<Room> {
        self.write(move |conn| {
            insert_room(conn, &room)?;
            get_room(conn, &room.name)?
                .ok_or_else(|| Error::Corrupt("a room vanished while created".into()))
        })
        .await
    }

    async fn membership(&self, room: &str, user: &str) -> Result<Option<Membership>> {
        let (room, user) = (room.to_owned(), user.to_owned());
        self.read(move |conn| get_member(conn, &room, &user)).await
    }

    async fn add_member(&self, m: Membership) -> Result<(Membership, bool)> {
        self.write(move |conn| {
            let added = insert_member(conn, &m)?;
            if !added && !m.banned {
                // Keep the name as registered once the user is seen.
                conn.prepare_cached(
                    "UPDATE memberships SET user = ?3 WHERE room = ?1 AND user_lower = ?2",
                )?
                .execute(params![m.room, m.user.to_lowercase(), m.user])?;
            }
            let stored = get_member(conn, &m.room, &m.user)?
                .ok_or_else(|| Error::Corrupt("a membership vanished while added".into()))?;
            Ok((stored, added))
        })
        .await
    }

    async fn remove_member(&self, room: &str, user: &str) -> Result<bool> {
        let (room, user) = (room.to_owned(), user.to_lowercase());
        self.write(move |conn| {
            Ok(conn
                .prepare_cached(
                    "DELETE FROM memberships WHERE room = ?1 AND user_lower = ?2 AND banned = 0",
                )?
                .execute(params![room, user])?
                == 1)
        })
        .await
    }

    async fn ban(&self, room: &str, user: &str, at: i64) -> Result<()> {
        let (room, user) = (room.to_owned(), user.to_owned());
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO memberships (room, user_lower, user, role, joined, banned)
                 VALUES (?1, ?2, ?3, 'member', ?4, 1)
                 ON CONFLICT (room, user_lower) DO UPDATE SET banned = 1, role = 'member'",
            )?
            .execute(params![room, user.to_lowercase(), user, at])?;
            Ok(())
        })
        .await
    }

    async fn unban(&self, room: &str, user: &str) -> Result<bool> {
        let (room, user) = (room.to_owned(), user.to_lowercase());
        self.write(move |conn| {
            Ok(conn
                .prepare_cached(
                    "DELETE FROM memberships WHERE room = ?1 AND user_lower = ?2 AND banned = 1",
                )?
                .execute(params![room, user])?
                == 1)
        })
        .await
    }

    async fn set_role(&self, room: &str, user: &str, role: Role) -> Result<bool> {
        let (room, user) = (room.to_owned(), user.to_lowercase());
        self.write(move |conn| {
            Ok(conn
                .prepare_cached(
                    "UPDATE memberships SET role = ?3 WHERE room = ?1 AND user_lower = ?2 AND banned = 0",
                )?
                .execute(params![room, user, role.as_str()])?
                == 1)
        })
        .await
    }

    async fn set_topic(&self, room: &str, topic: &str) -> Result<Option<Room>> {
        let (room, topic) = (room.to_owned(), topic.to_owned());
        self.write(move |conn| {
            conn.prepare_cached("UPDATE rooms SET topic = ?2 WHERE name = ?1")?
                .execute(params![room, topic])?;
            get_room(conn, &room)
        })
        .await
    }

    async fn members(&self, room: &str) -> Result<Vec<Membership>> {
        let room = room.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT room, user, role, joined, banned FROM memberships
                 WHERE room = ?1 AND banned = 0 ORDER BY joined, user_lower",
            )?;
            let rows = stmt.query_map(params![room], |r| row_to_member(r, 0))?;
            rows.map(|r| finish(r?)).collect()
        })
        .await
    }

    async fn memberships_of(&self, user: &str) -> Result<Vec<(Room, Membership)>> {
        let user = user.to_lowercase();
        self.read(move |conn| {
            let sql = format!(
                "SELECT m.room, m.user, m.role, m.joined, m.banned, {} FROM memberships m
                 JOIN rooms r ON r.name = m.room
                 WHERE m.user_lower = ?1 AND m.banned = 0",
                "r.name, r.private, r.topic, r.owner, r.created"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(params![user], |r| {
                let m = row_to_member(r, 0)?;
                let room = Room {
                    name: r.get(5)?,
                    private: r.get(6)?,
                    topic: r.get(7)?,
                    owner: r.get(8)?,
                    created: r.get(9)?,
                };
                Ok((room, m))
            })?;
            rows.map(|r| {
                let (room, m) = r?;
                Ok((room, finish(m)?))
            })
            .collect()
        })
        .await
    }
}
