//! Property-based fuzzing of the message service's decoders of client
//! text: search queries (`rules::search_query`, `text::query_terms`), the
//! highlight offsets computed from them (`text::matches`), the words the
//! MongoDB store indexes, message content and reaction emoji as the
//! service re-checks them. `PROPTEST_CASES` sets the inputs per target
//! (256 by default; `scripts/fuzz` runs a million).

use proptest::prelude::*;

use crate::rules::{self, Limits};
use crate::text;

/// Anything, and text rich in what folding and word cutting deal with:
/// accents (precomposed and combining), case, scripts, emoji, punctuation.
fn text_input() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9éÉèßİıœŒ\\u{301}\\u{308}\\u{200d}👍😀 ,.!?'\"*:()-]{0,60}",
        "[\\p{L}\\p{M}\\p{N}\\p{P}\\p{Zs}]{0,40}",
    ]
}

proptest! {
    #[test]
    fn fuzz_search_queries(query in text_input(), content in text_input()) {
        if let Ok(q) = rules::search_query(&query) {
            prop_assert_eq!(q, query.trim());
            prop_assert!((1..=chat_common::text::SEARCH_MAX_QUERY_CHARS).contains(&q.chars().count()));
        }
        let terms = text::query_terms(&query);
        prop_assert!(terms.iter().all(|t| !t.is_empty()));
        let len = content.chars().count() as u32;
        let ranges = text::matches(&content, &terms);
        let mut previous_end = 0;
        for (start, end) in &ranges {
            // Highlights are in code points, in order, inside the content.
            prop_assert!(start < end && *end <= len);
            prop_assert!(*start >= previous_end);
            previous_end = *end;
        }
        if text::contains_all(&content, &terms) && !terms.is_empty() {
            prop_assert!(!ranges.is_empty());
        }
        let tokens = text::index_tokens(&content);
        let distinct: std::collections::HashSet<_> = tokens.iter().collect();
        prop_assert_eq!(distinct.len(), tokens.len());
        prop_assert!(text::excerpt(&content).chars().count() <= text::EXCERPT_CHARS);
    }

    #[test]
    fn fuzz_service_content_and_emoji(raw in text_input(), max in 1usize..64) {
        let limits = Limits {
            max_message_chars: max,
            history_default_limit: 50,
            history_max_limit: 100,
        };
        if let Ok(c) = limits.content(&raw) {
            prop_assert_eq!(c.as_str(), raw.trim());
            prop_assert!(!c.is_empty() && c.chars().count() <= max);
        }
        if let Ok(e) = rules::emoji(&raw) {
            prop_assert!(chat_common::emoji::is_single_emoji(e));
        }
    }
}
