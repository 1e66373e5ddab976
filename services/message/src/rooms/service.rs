//! The room rules, in PROTOCOL.md's order (input shape and limits, then
//! existence and access), on top of any [`RoomStore`] and the message
//! [`Store`] (for unread counts and last messages).

use std::sync::Arc;

use chat_common::names::{self, Room as Name};
use chat_common::time::now_millis;

use crate::error::{Error, Result};
use crate::model::Scan;
use crate::rooms::{Entry, Membership, Role, Room};
use crate::rules::required;
use crate::store::{RoomStore, Store};

pub struct Rooms {
    rooms: Arc<dyn RoomStore>,
    messages: Arc<dyn Store>,
}

fn denied(why: &str) -> Error {
    Error::PermissionDenied(why.to_string())
}

fn no_room(name: &str) -> Error {
    Error::NotFound(format!("There is no room named '{name}'"))
}

fn parse(raw: &str) -> Result<Name<'_>> {
    names::parse_room(raw).map_err(|e| Error::InvalidArgument(e.0))
}

const DM_FIXED: &str = "A direct-message room always has exactly its two users";

impl Rooms {
    pub fn new(rooms: Arc<dyn RoomStore>, messages: Arc<dyn Store>) -> Rooms {
        Rooms { rooms, messages }
    }

    /// A room the caller may ask about: stored, or a direct-message room
    /// whose first message has not been sent yet.
    async fn load(&self, name: &str, kind: &Name<'_>) -> Result<Room> {
        match (self.rooms.room(name).await?, kind) {
            (Some(room), _) => Ok(room),
            (None, Name::Direct { .. }) => Ok(Room {
                name: name.to_string(),
                private: true,
                topic: String::new(),
                owner: None,
                created: now_millis(),
            }),
            (None, Name::Named(_)) => Err(no_room(name)),
        }
    }

    /// `user`'s membership, bans excluded. In a direct-message room its two
    /// users are members whether or not a message was sent.
    async fn member(&self, room: &str, kind: &Name<'_>, user: &str) -> Result<Option<Membership>> {
        if let Name::Direct { a, b } = kind {
            let lower = user.to_lowercase();
            if lower != *a && lower != *b {
                return Ok(None);
            }
            let joined = now_millis();
            return Ok(Some(
                self.rooms
                    .membership(room, user)
                    .await?
                    .unwrap_or_else(|| Membership::new(room, user, Role::Member, joined)),
            ));
        }
        Ok(self
            .rooms
            .membership(room, user)
            .await?
            .filter(|m| !m.banned))
    }

    /// Creates a room owned by `owner`.
    pub async fn create(
        &self,
        name: &str,
        private: bool,
        topic: &str,
        owner: &str,
    ) -> Result<(Room, Role)> {
        if let Name::Direct { .. } = parse(name)? {
            return Err(Error::InvalidArgument(
                "Direct-message rooms are made by sending the first message, not created".into(),
            ));
        }
        names::check_topic(topic).map_err(|e| Error::InvalidArgument(e.0))?;
        required(owner, "owner")?;
        let created = now_millis();
        let room = Room {
            name: name.to_string(),
            private,
            topic: topic.to_string(),
            owner: Some(owner.to_string()),
            created,
        };
        let membership = Membership::new(name, owner, Role::Owner, created);
        if !self
            .rooms
            .create_room(room.clone(), Some(membership))
            .await?
        {
            return Err(Error::AlreadyExists(format!(
                "The room name '{name}' is already taken"
            )));
        }
        Ok((room, Role::Owner))
    }

    /// Admits `user` to the room (see the proto for the rules).
    pub async fn join(&self, name: &str, user: &str) -> Result<(Room, Role)> {
        let kind = parse(name)?;
        required(user, "user")?;
        if let Name::Direct { .. } = kind {
            let m = self
                .member(name, &kind, user)
                .await?
                .ok_or_else(|| denied("Only its two members can join a direct-message room"))?;
            if self.rooms.membership(name, user).await?.is_some() {
                // Refreshes the name as registered.
                self.rooms.add_member(m.clone()).await?;
            }
            return Ok((self.load(name, &kind).await?, Role::Member));
        }
        let now = now_millis();
        let room = match self.rooms.room(name).await? {
            Some(room) => room,
            None => {
                self.rooms
                    .ensure_room(Room {
                        name: name.to_string(),
                        private: false,
                        topic: String::new(),
                        owner: None,
                        created: now,
                    })
                    .await?
            }
        };
        let banned = || denied("You are banned from this room");
        match self.rooms.membership(name, user).await? {
            Some(m) if m.banned => Err(banned()),
            Some(m) => Ok((room, m.role)),
            None if room.private => Err(denied(
                "This room is private; an owner or admin must invite you",
            )),
            None => {
                let (m, _) = self
                    .rooms
                    .add_member(Membership::new(name, user, Role::Member, now))
                    .await?;
                if m.banned {
                    return Err(banned());
                }
                Ok((room, m.role))
            }
        }
    }

    /// The user's rooms, the most recently active first.
    pub async fn list(&self, user: &str) -> Result<Vec<Entry>> {
        required(user, "user")?;
        let mine = self.rooms.memberships_of(user).await?;
        let mut entries = Vec::with_capacity(mine.len());
        let mut activity = Vec::with_capacity(mine.len());
        for (room, m) in mine {
            let last = self
                .messages
                .scan(&room.name, &Scan::Older(None), 1)
                .await?
                .pop();
            let unread = self.messages.unread(&room.name, user).await?.count;
            activity.push(last.as_ref().map_or(m.joined, |l| l.ts.max(m.joined)));
            entries.push(Entry {
                room,
                role: m.role,
                unread,
                last_message: last,
            });
        }
        let mut order: Vec<usize> = (0..entries.len()).collect();
        order.sort_by(|&i, &j| {
            activity[j]
                .cmp(&activity[i])
                .then_with(|| entries[i].room.name.cmp(&entries[j].room.name))
        });
        let mut slots: Vec<Option<Entry>> = entries.into_iter().map(Some).collect();
        Ok(order.into_iter().filter_map(|i| slots[i].take()).collect())
    }

    /// The members of a room, for one of its members.
    pub async fn members(&self, name: &str, requester: &str) -> Result<Vec<Membership>> {
        let kind = parse(name)?;
        required(requester, "requester")?;
        self.load(name, &kind).await?;
        if self.member(name, &kind, requester).await?.is_none() {
            return Err(denied("Only members can see who is in this room"));
        }
        let mut list = self.rooms.members(name).await?;
        if let Name::Direct { a, b } = kind {
            for lower in [a, b] {
                if !list.iter().any(|m| m.user.to_lowercase() == lower) {
                    list.push(Membership::new(name, lower, Role::Member, now_millis()));
                }
            }
        }
        Ok(list)
    }

    /// `by` makes `user` a member; false when they already were.
    pub async fn invite(&self, name: &str, user: &str, by: &str) -> Result<bool> {
        let kind = parse(name)?;
        required(user, "user")?;
        required(by, "inviter")?;
        let room = self.load(name, &kind).await?;
        if let Name::Direct { .. } = kind {
            return Err(denied(DM_FIXED));
        }
        let actor = self
            .member(name, &kind, by)
            .await?
            .ok_or_else(|| denied("Only members of this room can invite"))?;
        if room.private && !actor.role.moderates() {
            return Err(denied(
                "Only an owner or admin can invite to a private room",
            ));
        }
        let banned = || denied(&format!("'{user}' is banned from this room"));
        let (m, added) = self
            .rooms
            .add_member(Membership::new(name, user, Role::Member, now_millis()))
            .await?;
        if m.banned {
            return Err(banned());
        }
        Ok(added)
    }

    /// Ends `user`'s membership (and bans them with `ban`); see the proto.
    pub async fn remove(&self, name: &str, user: &str, by: &str, ban: bool) -> Result<bool> {
        let kind = parse(name)?;
        required(user, "user")?;
        required(by, "requester")?;
        let myself = user.eq_ignore_ascii_case(by);
        if ban && myself {
            return Err(Error::InvalidArgument("You cannot ban yourself".into()));
        }
        self.load(name, &kind).await?;
        if let Name::Direct { .. } = kind {
            return Err(denied(DM_FIXED));
        }
        let actor = self.member(name, &kind, by).await?;
        let target = self.member(name, &kind, user).await?;
        if !myself {
            if !actor.is_some_and(|a| a.role.moderates()) {
                return Err(denied("Only an owner or admin can remove members"));
            }
            if target.as_ref().is_some_and(|t| t.role == Role::Owner) {
                return Err(denied("An owner cannot be removed"));
            }
        }
        if ban {
            self.rooms.ban(name, user, now_millis()).await?;
            return Ok(target.is_some());
        }
        if target.is_none() {
            return Err(Error::NotFound(format!(
                "'{user}' is not a member of this room"
            )));
        }
        self.rooms.remove_member(name, user).await
    }

    /// Lifts a ban; false when the user was not banned.
    pub async fn unban(&self, name: &str, user: &str, by: &str) -> Result<bool> {
        let kind = parse(name)?;
        required(user, "user")?;
        required(by, "requester")?;
        self.load(name, &kind).await?;
        if !self
            .member(name, &kind, by)
            .await?
            .is_some_and(|a| a.role.moderates())
        {
            return Err(denied("Only an owner or admin can lift a ban"));
        }
        self.rooms.unban(name, user).await
    }

    /// The owner makes a member an admin or a plain member again.
    pub async fn set_role(&self, name: &str, user: &str, role: &str, by: &str) -> Result<Room> {
        let kind = parse(name)?;
        required(user, "user")?;
        required(by, "requester")?;
        let role = match Role::parse(role) {
            Some(r @ (Role::Admin | Role::Member)) => r,
            _ => {
                return Err(Error::InvalidArgument(
                    "A role is 'admin' or 'member'".into(),
                ));
            }
        };
        let room = self.load(name, &kind).await?;
        if !self
            .member(name, &kind, by)
            .await?
            .is_some_and(|a| a.role == Role::Owner)
        {
            return Err(denied("Only the owner can change roles"));
        }
        match self.member(name, &kind, user).await? {
            None => Err(Error::NotFound(format!(
                "'{user}' is not a member of this room"
            ))),
            Some(t) if t.role == Role::Owner => Err(denied("The owner's role cannot change")),
            Some(_) => {
                self.rooms.set_role(name, user, role).await?;
                Ok(room)
            }
        }
    }

    /// Sets the topic (at most 250 characters).
    pub async fn set_topic(&self, name: &str, topic: &str, by: &str) -> Result<Room> {
        let kind = parse(name)?;
        names::check_topic(topic).map_err(|e| Error::InvalidArgument(e.0))?;
        required(by, "requester")?;
        let room = self.load(name, &kind).await?;
        if let Name::Direct { .. } = kind {
            return Err(denied("A direct-message room has no topic"));
        }
        let actor = self
            .member(name, &kind, by)
            .await?
            .ok_or_else(|| denied("Only members can set the topic"))?;
        let anyone = !room.private && room.owner.is_none();
        if !anyone && !actor.role.moderates() {
            return Err(denied("Only an owner or admin can set the topic"));
        }
        self.rooms
            .set_topic(name, topic)
            .await?
            .ok_or_else(|| no_room(name))
    }

    /// The caller's role in a room (for summaries after a change).
    pub async fn role_of(&self, name: &str, user: &str) -> Result<Option<Role>> {
        let kind = parse(name)?;
        Ok(self.member(name, &kind, user).await?.map(|m| m.role))
    }
}
