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
    /// Trims leading and trailing whitespace and checks what remains holds
    /// 1..=`max_message_chars` Unicode code points. Returns what to store.
    pub fn content(&self, raw: &str) -> Result<String> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(Error::InvalidArgument(
                "Message content cannot be empty".into(),
            ));
        }
        let max = self.max_message_chars;
        // Counting stops just past the limit so a huge body costs no more
        // than a legal one.
        if trimmed.chars().nth(max).is_some() {
            return Err(Error::InvalidArgument(format!(
                "Message content cannot be longer than {max} characters"
            )));
        }
        Ok(trimmed.to_owned())
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

/// Search page sizes and query length (PROTOCOL.md § Limits, search).
pub const SEARCH_DEFAULT_LIMIT: u32 = 20;
pub const SEARCH_MAX_LIMIT: u32 = 100;
pub const SEARCH_MAX_QUERY_CHARS: usize = 200;

/// A search query: trimmed, 1..=200 code points.
pub fn search_query(raw: &str) -> Result<&str> {
    let q = raw.trim();
    if q.is_empty() || q.chars().nth(SEARCH_MAX_QUERY_CHARS).is_some() {
        return Err(Error::InvalidArgument(format!(
            "The search query must be 1 to {SEARCH_MAX_QUERY_CHARS} characters"
        )));
    }
    Ok(q)
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
