//! Property-based fuzzing of the socket payload decoders (`input.rs`, room
//! names, ids, content, mentions): arbitrary JSON and strings must give an
//! answer or a clean `INVALID_INPUT`, never a panic, and every accepted
//! value must obey the rule it passed. `PROPTEST_CASES` sets the inputs per
//! target (256 by default; `scripts/fuzz` runs a million).

use proptest::prelude::*;
use serde_json::{Map, Value};

use crate::config::Limits;
use crate::error::ErrorCode;

use super::input::{Input, content};
use super::mentions;
use super::rooms::{RoomName, is_username};

/// Strings a client might send: anything, and things close to valid names.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[A-Za-z0-9_.:@ -]{0,80}",
        "dm:[a-zA-Z0-9_.-]{0,40}:[a-zA-Z0-9_.-]{0,40}(:[a-z]{0,3})?",
        "(@[a-zA-Z0-9_.]{1,40}[ ,.!]?){0,40}",
        "[ \t\n\u{a0}\u{2028}]{0,4}[^\u{0}]{0,20}[ \t\n]{0,4}",
    ]
}

/// Any JSON value, a few levels deep, with the field names handlers read
/// (and prototype-pollution names) over-represented.
fn json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("room".to_string()),
        Just("content".to_string()),
        Just("limit".to_string()),
        Just("attachments".to_string()),
        Just("id".to_string()),
        Just("typing".to_string()),
        Just("__proto__".to_string()),
        Just("constructor".to_string()),
        any::<String>(),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 12, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..12).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn invalid_input<T>(r: &Result<T, crate::error::Error>) -> bool {
    r.as_ref()
        .err()
        .is_none_or(|e| e.code() == ErrorCode::InvalidInput)
}

proptest! {
    #[test]
    fn fuzz_input_fields(v in json()) {
        let limits = Limits::default();
        let Ok(input) = Input::new(&v) else {
            prop_assert!(!v.is_object());
            return Ok(());
        };
        for key in ["room", "content", "id", "limit", "typing", "__proto__"] {
            prop_assert!(invalid_input(&input.str(key)));
            prop_assert!(invalid_input(&input.opt_str(key)));
            prop_assert!(invalid_input(&input.bool(key)));
            if let Ok(Some(id)) = input.opt_id(key) {
                prop_assert!(!id.is_empty() && id.len() <= 128);
            }
            if let Ok(ids) = input.ids(key, 10) {
                prop_assert!(ids.len() <= 10);
                let unique: std::collections::HashSet<_> = ids.iter().collect();
                prop_assert_eq!(unique.len(), ids.len());
            }
        }
        if let Ok(n) = input.limit(&limits) {
            prop_assert!((1..=limits.history_max).contains(&n));
        }
        if let Ok(room) = input.room() {
            prop_assert_eq!(RoomName::parse(&room.name()).ok(), Some(room));
        }
        prop_assert!(invalid_input(&input.room_or_general()));
        if let Ok(c) = input.content("content", limits.max_message_chars) {
            prop_assert!(!c.is_empty() && c.chars().count() <= limits.max_message_chars);
        }
    }

    #[test]
    fn fuzz_room_names(raw in text()) {
        match RoomName::parse(&raw) {
            Ok(room) => {
                // What is accepted names itself the same way again.
                prop_assert_eq!(RoomName::parse(&room.name()).ok(), Some(room.clone()));
                if let RoomName::Direct { a, b } = &room {
                    prop_assert!(a < b && is_username(a) && is_username(b));
                }
            }
            Err(e) => prop_assert_eq!(e.code(), ErrorCode::InvalidInput),
        }
    }

    #[test]
    fn fuzz_content(raw in text(), max in 1usize..64) {
        match content(&raw, max) {
            Ok(c) => {
                prop_assert_eq!(c.as_str(), raw.trim());
                prop_assert!(!c.is_empty() && c.chars().count() <= max);
            }
            Err(e) => prop_assert_eq!(e.code(), ErrorCode::InvalidInput),
        }
    }

    #[test]
    fn fuzz_mentions(raw in text(), max in 1usize..30) {
        let found = mentions::parse(&raw, "me", max);
        prop_assert!(found.len() <= max);
        for name in &found {
            prop_assert!(is_username(name) && name != "me");
            prop_assert_eq!(name.to_ascii_lowercase(), name.clone());
        }
    }
}
