//! Property-based fuzzing of the socket payload decoders (`input.rs`, room
//! names, ids, content, mentions, search queries, reaction emoji, topics): arbitrary JSON and strings must give an
//! answer or a clean `INVALID_INPUT`, never a panic, and every accepted
//! value must obey the rule it passed. `PROPTEST_CASES` sets the inputs per
//! target (256 by default; `scripts/fuzz` runs a million).

use chat_common::emoji::is_single_emoji;
use chat_common::names::{MAX_TOPIC_CHARS, check_topic};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Map, Value};
use unicode_segmentation::UnicodeSegmentation;

use crate::config::Limits;
use crate::error::ErrorCode;

use super::input::{Input, content};
use super::mentions;
use super::rooms::{RoomName, is_username};
use super::search;

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
        Just("query".to_string()),
        Just("emoji".to_string()),
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

/// Emoji and the things around them: modifiers, joiners, selectors, flags,
/// keycaps and plain text.
fn emoji_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("👍"),
        Just("👨"),
        Just("👩"),
        Just("🏽"),
        Just("\u{200d}"),
        Just("\u{fe0f}"),
        Just("\u{20e3}"),
        Just("🇫"),
        Just("🇷"),
        Just("🏳"),
        Just("1"),
        Just("a"),
        Just(" "),
        Just("\u{301}"),
        Just("❤"),
        Just("🌈"),
    ];
    prop_oneof![
        prop::collection::vec(piece, 0..12).prop_map(|p| p.concat()),
        any::<String>(),
        text(),
    ]
}

fn invalid_input<T>(r: &Result<T, crate::error::Error>) -> bool {
    r.as_ref()
        .err()
        .is_none_or(|e| e.code() == ErrorCode::InvalidInput)
}

/// Every reading of an event payload the handlers do, each either accepted
/// within its rule or refused with `INVALID_INPUT`. Shared with the frame
/// targets in `fuzz_frames`, which reach it through the parsers.
pub(super) fn check_input(v: &Value) -> Result<(), TestCaseError> {
    let limits = Limits::default();
    let Ok(input) = Input::new(v) else {
        prop_assert!(!v.is_object());
        return Ok(());
    };
    for key in [
        "room",
        "content",
        "id",
        "limit",
        "typing",
        "query",
        "emoji",
        "__proto__",
    ] {
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
    if let Ok(q) = search::query(&input) {
        prop_assert_eq!(q, q.trim());
        prop_assert!((1..=200).contains(&q.chars().count()));
    }
    if let Ok(n) = search::limit(v) {
        prop_assert!((1..=100).contains(&n));
    }
    Ok(())
}

proptest! {
    #[test]
    fn fuzz_input_fields(v in json()) {
        check_input(&v)?;
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

    #[test]
    fn fuzz_reaction_emoji(raw in emoji_text()) {
        // The one rule both the gateway (`react`) and the message service use.
        if is_single_emoji(&raw) {
            prop_assert!(raw.len() <= 64);
            prop_assert_eq!(raw.graphemes(true).count(), 1);
            // Letters and spaces are never part of an emoji.
            prop_assert!(!raw.chars().any(|c| c.is_ascii_alphabetic() || c.is_whitespace()));
        }
    }

    #[test]
    fn fuzz_topics(raw in prop_oneof![any::<String>(), "[^\u{0}]{240,260}"]) {
        let ok = check_topic(&raw).is_ok();
        prop_assert_eq!(ok, raw.chars().count() <= MAX_TOPIC_CHARS);
    }
}
