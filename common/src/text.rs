//! The text rules the gateway and the message service share (PROTOCOL.md
//! § Limits): message content and search queries. Defined once here so a
//! message or query the gateway accepts is one the service accepts, with
//! the same sentence when it is not.

/// Search page sizes and the longest query, in Unicode code points.
pub const SEARCH_DEFAULT_LIMIT: u32 = 20;
pub const SEARCH_MAX_LIMIT: u32 = 100;
pub const SEARCH_MAX_QUERY_CHARS: usize = 200;

/// Why a text was refused, as a sentence a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadText(pub String);

/// Trims leading and trailing whitespace (Unicode's, so a non-breaking or
/// ideographic space does not count as content) and checks what remains
/// holds 1..=`max` code points. Returns what to store.
pub fn message_content(raw: &str, max: usize) -> Result<&str, BadText> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(BadText("The message is empty".into()));
    }
    // Counting stops just past the limit, so a huge body costs no more than
    // a legal one.
    if trimmed.chars().nth(max).is_some() {
        return Err(BadText(format!(
            "The message is longer than {max} characters"
        )));
    }
    Ok(trimmed)
}

/// A search query: trimmed, 1..=[`SEARCH_MAX_QUERY_CHARS`] code points.
pub fn search_query(raw: &str) -> Result<&str, BadText> {
    let q = raw.trim();
    if q.is_empty() || q.chars().nth(SEARCH_MAX_QUERY_CHARS).is_some() {
        return Err(BadText(format!(
            "The search query must be 1 to {SEARCH_MAX_QUERY_CHARS} characters"
        )));
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_trimmed_of_unicode_whitespace() {
        assert_eq!(message_content("  hi there \n\t", 10), Ok("hi there"));
        assert_eq!(message_content("\u{a0}hé\u{3000}", 10), Ok("hé"));
        assert!(message_content("\u{2003}\u{3000}", 10).is_err());
        assert_eq!(
            message_content("", 10),
            Err(BadText("The message is empty".into()))
        );
    }

    #[test]
    fn content_is_counted_in_code_points() {
        assert_eq!(
            message_content(&"é".repeat(10), 10).map(|c| c.chars().count()),
            Ok(10)
        );
        assert!(message_content(&"é".repeat(11), 10).is_err());
        // A multi-code-point emoji counts as its code points.
        let family = "👨\u{200d}👩\u{200d}👧";
        assert!(message_content(family, 5).is_ok());
        assert!(message_content(family, 4).is_err());
    }

    #[test]
    fn queries_are_trimmed_and_bounded() {
        assert_eq!(search_query("  café "), Ok("café"));
        assert!(search_query(" ").is_err());
        assert!(search_query(&"é".repeat(200)).is_ok());
        assert!(search_query(&"é".repeat(201)).is_err());
    }
}
