//! Room names as clients write them, and the internal socket.io room names
//! they map to. Clients only ever reach rooms through [`RoomName::key`], which
//! prefixes every client name, so the per-user rooms the gateway uses
//! internally cannot be joined whatever a client sends.

use chat_common::names;
pub use chat_common::names::{is_username, is_username_char};

use crate::error::Error;

/// The room every client lands in by default (the tutorial's `join`).
pub const GENERAL: &str = "general";

/// A validated client room name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomName {
    Public(String),
    /// `dm:<a>:<b>`: lower-cased usernames, `a < b`.
    Direct {
        a: String,
        b: String,
    },
}

impl RoomName {
    /// The rule itself lives in `chat_common::names`, shared with the
    /// message service.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        match names::parse_room(raw) {
            Ok(names::Room::Named(n)) => Ok(RoomName::Public(n.to_string())),
            Ok(names::Room::Direct { a, b }) => Ok(RoomName::Direct {
                a: a.to_string(),
                b: b.to_string(),
            }),
            Err(e) => Err(Error::InvalidInput(e.0)),
        }
    }

    /// The name clients see in payloads.
    pub fn name(&self) -> String {
        match self {
            RoomName::Public(n) => n.clone(),
            RoomName::Direct { a, b } => format!("{}{a}:{b}", names::DM_PREFIX),
        }
    }

    /// The socket.io room this client room maps to.
    pub fn key(&self) -> String {
        room_key(&self.name())
    }

    /// For a direct-message room: the member who is not `me_lower`, or
    /// `None` when `me_lower` is not a member at all.
    pub fn dm_peer(&self, me_lower: &str) -> Option<&str> {
        match self {
            RoomName::Direct { a, b } if a == me_lower => Some(b),
            RoomName::Direct { a, b } if b == me_lower => Some(a),
            _ => None,
        }
    }

    pub fn is_direct(&self) -> bool {
        matches!(self, RoomName::Direct { .. })
    }
}

/// Internal room of a client room.
pub fn room_key(name: &str) -> String {
    format!("r:{name}")
}

/// The client room name behind an internal room, if it is one.
pub fn room_name_of_key(key: &str) -> Option<&str> {
    key.strip_prefix("r:")
}

/// Every socket of a user (by lower-cased name) in a namespace: targets
/// mentions and direct-message notifications, and tells whether a user still
/// has a socket in a room.
pub fn user_key(lower: &str) -> String {
    format!("u:{lower}")
}

/// Carries the username as registered, so presence can be read back from
/// socket.io's room lists on every node.
pub fn name_key(username: &str) -> String {
    format!("n:{username}")
}

pub fn username_of_name_key(key: &str) -> Option<&str> {
    key.strip_prefix("n:")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn code(raw: &str) -> Option<ErrorCode> {
        RoomName::parse(raw).err().map(|e| e.code())
    }

    #[test]
    fn public_rooms_follow_the_name_rule() {
        assert_eq!(
            RoomName::parse("general").unwrap(),
            RoomName::Public("general".into())
        );
        assert!(RoomName::parse("A-b_9").is_ok());
        assert!(RoomName::parse(&"x".repeat(64)).is_ok());
        for bad in [
            "",
            &"x".repeat(65),
            "a b",
            "r:general",
            "u:alice",
            "café",
            "a/b",
            "../x",
        ] {
            assert_eq!(code(bad), Some(ErrorCode::InvalidInput), "{bad:?}");
        }
    }

    #[test]
    fn direct_rooms_need_two_sorted_distinct_lowercase_names() {
        let dm = RoomName::parse("dm:alice:bob").unwrap();
        assert_eq!(
            dm,
            RoomName::Direct {
                a: "alice".into(),
                b: "bob".into()
            }
        );
        assert_eq!(dm.name(), "dm:alice:bob");
        assert!(RoomName::parse("dm:a.b:c-d").is_ok());
        for bad in [
            "dm:bob:alice",
            "dm:alice:alice",
            "dm:Alice:bob",
            "dm:alice:Bob",
            "dm:alice",
            "dm:alice:bob:carol",
            "dm:al:bob",
            "dm::bob",
            "dm:alice:bo b",
            "DM:alice:bob",
        ] {
            assert_eq!(code(bad), Some(ErrorCode::InvalidInput), "{bad:?}");
        }
    }

    #[test]
    fn dm_peer_is_the_other_member_only() {
        let dm = RoomName::parse("dm:alice:bob").unwrap();
        assert_eq!(dm.dm_peer("alice"), Some("bob"));
        assert_eq!(dm.dm_peer("bob"), Some("alice"));
        assert_eq!(dm.dm_peer("carol"), None);
        assert_eq!(RoomName::Public("x".into()).dm_peer("x"), None);
    }

    #[test]
    fn client_rooms_never_map_onto_internal_rooms() {
        // Whatever a client names, its key stays in the `r:` space.
        for raw in ["general", "dm:alice:bob", "u-alice", "n_bob"] {
            let key = RoomName::parse(raw).unwrap().key();
            assert!(key.starts_with("r:"), "{key}");
            assert_ne!(key, user_key("alice"));
            assert_eq!(room_name_of_key(&key), Some(raw));
        }
        assert_eq!(room_name_of_key(&user_key("alice")), None);
        assert_eq!(username_of_name_key(&name_key("Alice")), Some("Alice"));
    }
}
