//! The request rules every backend shares: what content, page sizes and
//! names are acceptable. Pure functions, so they are tested exhaustively
//! here.

use crate::error::{Error, Result};

/// Limits taken from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_message_chars: usize,
    pub history_default_limit: u32,
    pub history_max_limit: u32,
}

impl Limits {
    /// The shared content rule (`chat_common::text`); returns what to store.
    pub fn content(&self, raw: &str) -> Result<String> {
        chat_common::text::message_content(raw, self.max_message_chars)
            .map(str::to_owned)
            .map_err(|e| Error::InvalidArgument(e.0))
    }

    /// A requested page size: 0 means the default; above the maximum is
    /// refused rather than silently clamped.
    pub fn page_size(&self, requested: u32) -> Result<u32> {
        match requested {
            0 => Ok(self.history_default_limit),
            n if n <= self.history_max_limit => Ok(n),
            _ => Err(Error::InvalidArgument(format!(
                "The history limit must be between 1 and {}",
                self.history_max_limit
            ))),
        }
    }
}

pub use chat_common::text::{SEARCH_DEFAULT_LIMIT, SEARCH_MAX_LIMIT};

/// The shared search-query rule (`chat_common::text`).
pub fn search_query(raw: &str) -> Result<&str> {
    chat_common::text::search_query(raw).map_err(|e| Error::InvalidArgument(e.0))
}

/// A search page size: 0 means the default; above the maximum is refused.
pub fn search_page(requested: u32) -> Result<u32> {
    match requested {
        0 => Ok(SEARCH_DEFAULT_LIMIT),
        n if n <= SEARCH_MAX_LIMIT => Ok(n),
        _ => Err(Error::InvalidArgument(format!(
            "The search limit must be between 1 and {SEARCH_MAX_LIMIT}"
        ))),
    }
}

/// A reaction must be exactly one emoji (the shared rule in `chat_common`).
pub fn emoji(raw: &str) -> Result<&str> {
    if chat_common::emoji::is_single_emoji(raw) {
        Ok(raw)
    } else {
        Err(Error::InvalidArgument(
            "A reaction must be exactly one emoji".into(),
        ))
    }
}

/// Rejects an empty required field, naming it in a sentence.
pub fn required<'a>(value: &'a str, what: &str) -> Result<&'a str> {
    if value.is_empty() {
        Err(Error::InvalidArgument(format!("A {what} is required")))
    } else {
        Ok(value)
    }
}

/// An optional id is treated as absent when empty, so callers that always
/// fill the field cannot ask for a cursor named "".
pub fn optional(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        max_message_chars: 4000,
        history_default_limit: 50,
        history_max_limit: 200,
    };

    fn rejected(r: Result<impl std::fmt::Debug>) -> bool {
        matches!(r, Err(Error::InvalidArgument(_)))
    }

    #[test]
    fn content_is_trimmed_before_storing() {
        assert_eq!(LIMITS.content("  hi there \n\t").unwrap(), "hi there");
        assert_eq!(LIMITS.content("a  b").unwrap(), "a  b");
        // Unicode whitespace counts too (NBSP, ideographic space).
        assert_eq!(LIMITS.content("\u{a0}hé\u{3000}").unwrap(), "hé");
    }

    #[test]
    fn empty_and_whitespace_only_content_is_rejected() {
        assert!(rejected(LIMITS.content("")));
        assert!(rejected(LIMITS.content("   \n\t ")));
        assert!(rejected(LIMITS.content("\u{2003}\u{3000}")));
    }

    #[test]
    fn the_limit_counts_code_points_not_bytes() {
        let at_limit = "é".repeat(4000); // 8000 bytes
        assert_eq!(LIMITS.content(&at_limit).unwrap().chars().count(), 4000);
        assert!(rejected(LIMITS.content(&"é".repeat(4001))));
        let emoji = "😀".repeat(4000); // 4 bytes each
        assert!(LIMITS.content(&emoji).is_ok());
        assert!(rejected(LIMITS.content(&format!("{emoji}x"))));
        assert!(LIMITS.content(&"a".repeat(4000)).is_ok());
        assert!(rejected(LIMITS.content(&"a".repeat(4001))));
    }

    #[test]
    fn surrounding_whitespace_does_not_count_against_the_limit() {
        let padded = format!("   {}   ", "a".repeat(4000));
        assert_eq!(LIMITS.content(&padded).unwrap().len(), 4000);
    }

    #[test]
    fn a_smaller_configured_limit_applies() {
        let small = Limits {
            max_message_chars: 3,
            ..LIMITS
        };
        assert!(small.content("abc").is_ok());
        assert!(rejected(small.content("abcd")));
    }

    #[test]
    fn page_size_defaults_accepts_range_and_refuses_above_max() {
        assert_eq!(LIMITS.page_size(0).unwrap(), 50);
        assert_eq!(LIMITS.page_size(1).unwrap(), 1);
        assert_eq!(LIMITS.page_size(200).unwrap(), 200);
        assert!(rejected(LIMITS.page_size(201)));
        assert!(rejected(LIMITS.page_size(u32::MAX)));
    }

    #[test]
    fn search_queries_and_pages_have_limits() {
        assert_eq!(search_query("  café ").unwrap(), "café");
        assert!(rejected(search_query("   ")));
        assert!(search_query(&"é".repeat(200)).is_ok());
        assert!(rejected(search_query(&"é".repeat(201))));
        assert_eq!(search_page(0).unwrap(), 20);
        assert_eq!(search_page(100).unwrap(), 100);
        assert!(rejected(search_page(101)));
        assert!(emoji("👍").is_ok());
        assert!(rejected(emoji("ok")));
    }

    #[test]
    fn required_fields_must_not_be_empty() {
        assert!(rejected(required("", "room")));
        assert_eq!(required("general", "room").unwrap(), "general");
        assert_eq!(optional(Some("")), None);
        assert_eq!(optional(Some("x")), Some("x"));
    }
}
