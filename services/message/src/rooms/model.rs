//! Room and membership data, independent of protobuf and of any store.

/// What a member may do in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Owner,
    Admin,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            _ => None,
        }
    }

    /// Owners and admins moderate: they remove, ban and unban.
    pub fn moderates(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

/// A stored room. `created` is Unix milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    pub name: String,
    pub private: bool,
    pub topic: String,
    /// `None` for a public room made by a first join, and for direct-message
    /// rooms.
    pub owner: Option<String>,
    pub created: i64,
}

/// A user's place in a room. `user` is the username as registered; stores
/// key it ignoring case. A banned row is not a membership: it only keeps the
/// user out until unbanned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub room: String,
    pub user: String,
    pub role: Role,
    pub joined: i64,
    pub banned: bool,
}

impl Membership {
    pub fn new(room: &str, user: &str, role: Role, joined: i64) -> Membership {
        Membership {
            room: room.to_string(),
            user: user.to_string(),
            role,
            joined,
            banned: false,
        }
    }
}

/// One line of a user's room list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub room: Room,
    pub role: Role,
    pub unread: u64,
    pub last_message: Option<crate::model::Message>,
}
