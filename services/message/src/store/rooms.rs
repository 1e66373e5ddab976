//! Persistence for rooms and memberships, implemented by both backends on
//! the same database as messages. The rules (who may do what) are checked
//! above this trait; the store owns what must be atomic where the data
//! lives: unique room names, one row per `(room, user ignoring case)`, and
//! "add unless present" never overriding a ban.

use async_trait::async_trait;

use crate::error::Result;
use crate::rooms::{Membership, Role, Room};

#[async_trait]
pub trait RoomStore: Send + Sync {
    /// Stores `room` and, in the same write, `owner`'s membership; false
    /// (and nothing written) when the name is taken.
    async fn create_room(&self, room: Room, owner: Option<Membership>) -> Result<bool>;

    async fn room(&self, name: &str) -> Result<Option<Room>>;

    /// Stores `room` unless one of that name exists; returns the stored one.
    async fn ensure_room(&self, room: Room) -> Result<Room>;

    /// The row of `user` (any case) in `room`, banned or not.
    async fn membership(&self, room: &str, user: &str) -> Result<Option<Membership>>;

    /// Adds `m` unless the user has a row in the room (a ban included);
    /// returns the stored row and whether this call added it.
    async fn add_member(&self, m: Membership) -> Result<(Membership, bool)>;

    /// Ends a (non-banned) membership; false when there was none.
    async fn remove_member(&self, room: &str, user: &str) -> Result<bool>;

    /// Turns the user's row into a ban, creating it when absent.
    async fn ban(&self, room: &str, user: &str, at: i64) -> Result<()>;

    /// Lifts a ban (the user is then not a member); false when not banned.
    async fn unban(&self, room: &str, user: &str) -> Result<bool>;

    /// Sets the role of a non-banned member; false when there is none.
    async fn set_role(&self, room: &str, user: &str, role: Role) -> Result<bool>;

    /// Sets the topic; `None` when there is no such room.
    async fn set_topic(&self, room: &str, topic: &str) -> Result<Option<Room>>;

    /// The room's members (bans excluded), oldest membership first.
    async fn members(&self, room: &str) -> Result<Vec<Membership>>;

    /// The user's memberships (bans excluded) with their rooms.
    async fn memberships_of(&self, user: &str) -> Result<Vec<(Room, Membership)>>;
}
