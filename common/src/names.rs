//! The naming rules the gateway and the services share (PROTOCOL.md §
//! Limits): usernames, room names, direct-message room names and room
//! topics. Defined once here so a room the gateway accepts is one the
//! message service accepts, and the other way round.

/// The longest public room name, in characters.
pub const MAX_ROOM_CHARS: usize = 64;
/// The longest room topic, in Unicode code points.
pub const MAX_TOPIC_CHARS: usize = 250;
/// Direct-message rooms are `dm:<a>:<b>`.
pub const DM_PREFIX: &str = "dm:";

/// Why a name was refused, as a sentence a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadName(pub String);

/// Username length bounds, in characters (all ASCII, so bytes too).
pub const USERNAME_MIN: usize = 3;
pub const USERNAME_MAX: usize = 32;

/// The username rule: 3–32 characters of `A-Z a-z 0-9 _ . -`.
pub fn is_username(s: &str) -> bool {
    (USERNAME_MIN..=USERNAME_MAX).contains(&s.len()) && s.chars().all(is_username_char)
}

pub fn is_username_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// A room name as clients write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Room<'a> {
    /// 1–64 characters of `A-Z a-z 0-9 _ -`.
    Named(&'a str),
    /// `dm:<a>:<b>`: lower-cased usernames, `a < b`.
    Direct { a: &'a str, b: &'a str },
}

/// Checks `raw` against the room-name rule.
pub fn parse_room(raw: &str) -> Result<Room<'_>, BadName> {
    if let Some(rest) = raw.strip_prefix(DM_PREFIX) {
        return parse_direct(rest);
    }
    let n = raw.chars().count();
    if n == 0 || n > MAX_ROOM_CHARS {
        return Err(BadName(format!(
            "A room name must be 1 to {MAX_ROOM_CHARS} characters long"
        )));
    }
    if !raw
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(BadName(
            "A room name may only contain letters, digits, '_' and '-' (or be dm:<user>:<user>)"
                .into(),
        ));
    }
    Ok(Room::Named(raw))
}

fn parse_direct(rest: &str) -> Result<Room<'_>, BadName> {
    let bad = || {
        BadName(
            "A direct-message room is dm:<user>:<user> with two different lower-case usernames in sorted order"
                .into(),
        )
    };
    let (a, b) = rest.split_once(':').ok_or_else(bad)?;
    let valid = |u: &str| is_username(u) && !u.chars().any(|c| c.is_ascii_uppercase());
    if !valid(a) || !valid(b) || a >= b {
        return Err(bad());
    }
    Ok(Room::Direct { a, b })
}

/// Checks a room topic: at most [`MAX_TOPIC_CHARS`] code points (empty
/// clears it).
pub fn check_topic(topic: &str) -> Result<(), BadName> {
    if topic.chars().nth(MAX_TOPIC_CHARS).is_some() {
        return Err(BadName(format!(
            "A topic can be at most {MAX_TOPIC_CHARS} characters long"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_rooms_follow_the_rule() {
        assert_eq!(parse_room("general"), Ok(Room::Named("general")));
        assert!(parse_room(&"x".repeat(64)).is_ok());
        for bad in ["", &"x".repeat(65), "a b", "r:x", "café"] {
            assert!(parse_room(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn direct_rooms_need_two_sorted_distinct_lowercase_names() {
        assert_eq!(
            parse_room("dm:alice:bob"),
            Ok(Room::Direct {
                a: "alice",
                b: "bob"
            })
        );
        for bad in ["dm:bob:alice", "dm:alice:alice", "dm:Alice:bob", "dm:alice"] {
            assert!(parse_room(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn topics_are_limited_in_code_points() {
        assert!(check_topic("").is_ok());
        assert!(check_topic(&"é".repeat(250)).is_ok());
        assert!(check_topic(&"é".repeat(251)).is_err());
    }
}
