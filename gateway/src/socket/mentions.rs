//! `@username` mentions in message content: the one parser every part of the
//! gateway uses.

use super::rooms::{is_username, is_username_char};

/// The distinct users named as `@username` in `content`, lower-cased, in
/// order of first appearance, without `sender`; the first `max` of them
/// (PROTOCOL.md § Limits: a message notifies at most that many users).
///
/// A mention starts at the beginning or after a character that cannot be
/// part of a username (so `mail@example.org` names nobody), takes the longest
/// run of username characters, and drops trailing dots so that a mention
/// ending a sentence still counts.
pub fn parse(content: &str, sender: &str, max: usize) -> Vec<String> {
    let sender = sender.to_ascii_lowercase();
    let mut found: Vec<String> = Vec::new();
    let mut prev: Option<char> = None;
    let mut chars = content.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let starts = c == '@' && prev.is_none_or(|p| !is_username_char(p));
        prev = Some(c);
        if !starts {
            continue;
        }
        let rest = &content[i + 1..];
        let run_len = rest
            .find(|c: char| !is_username_char(c))
            .unwrap_or(rest.len());
        let name = rest[..run_len].trim_end_matches('.');
        if is_username(name) {
            let lower = name.to_ascii_lowercase();
            // `found` holds at most `max` names: the check stays linear.
            if lower != sender && !found.contains(&lower) {
                found.push(lower);
                if found.len() >= max {
                    break;
                }
            }
        }
        // Skip the run so `@a@b` cannot start a mention inside a name.
        while let Some((_, c)) = chars.next_if(|(_, c)| is_username_char(*c)) {
            prev = Some(c);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::parse;

    fn p(s: &str) -> Vec<String> {
        parse(s, "me", 20)
    }

    #[test]
    fn finds_mentions_at_start_and_after_separators() {
        assert_eq!(p("@bob hi"), ["bob"]);
        assert_eq!(p("hi @bob"), ["bob"]);
        assert_eq!(p("(@bob) [@carol]"), ["bob", "carol"]);
        assert_eq!(p("line\n@bob"), ["bob"]);
    }

    #[test]
    fn email_addresses_and_embedded_ats_do_not_count() {
        assert!(p("mail me at bob@example.org").is_empty());
        assert!(p("x@bob").is_empty());
        assert!(p("a.@bob").is_empty());
        assert!(p("@bob@carol").iter().all(|n| n == "bob"));
    }

    #[test]
    fn trailing_punctuation_is_stripped() {
        assert_eq!(p("thanks @bob."), ["bob"]);
        assert_eq!(
            p("@bob, @carol! @dave? @erin..."),
            ["bob", "carol", "dave", "erin"]
        );
        assert_eq!(p("@b.o.b."), ["b.o.b"]);
        assert_eq!(p("@bob's idea"), ["bob"]);
    }

    #[test]
    fn names_must_fit_the_username_rule() {
        assert!(p("@ab").is_empty());
        assert!(p("@").is_empty());
        assert!(p("@ @.").is_empty());
        assert_eq!(p(&format!("@{}", "a".repeat(32))), ["a".repeat(32)]);
        // A longer run is not a username at all, not a shorter one cut out of it.
        assert!(p(&format!("@{}", "a".repeat(33))).is_empty());
        assert!(p("@ab..").is_empty());
    }

    #[test]
    fn case_insensitive_deduplicated_and_never_the_sender() {
        assert_eq!(p("@Bob @bob @BOB"), ["bob"]);
        assert!(p("@me and @ME").is_empty());
        assert_eq!(parse("@Alice @bob", "ALICE", 20), ["bob"]);
    }

    #[test]
    fn at_most_max_distinct_users() {
        let many: String = (0..50).map(|i| format!("@user{i} @user{i} ")).collect();
        let got = parse(&many, "me", 20);
        assert_eq!(got.len(), 20);
        assert_eq!(got[19], "user19");
        assert_eq!(parse("@bob @bob @carol", "me", 1), ["bob"]);
    }

    #[test]
    fn unicode_around_mentions_is_fine() {
        assert_eq!(p("héllo @bob — ça va"), ["bob"]);
        assert_eq!(p("é@bob"), ["bob"]);
    }
}
