//! The text rules shared by both stores: how words are cut and folded for
//! search (case and accents ignored), where a query's words match inside a
//! message (code-point offsets for highlighting), and a reply's excerpt.
//! Computed here once so the SQLite FTS5 and MongoDB searches agree with
//! the offsets clients highlight.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// How many code points of a replied-to message its reply shows.
pub const EXCERPT_CHARS: usize = 100;

/// The first [`EXCERPT_CHARS`] code points of `content`.
pub fn excerpt(content: &str) -> String {
    content.chars().take(EXCERPT_CHARS).collect()
}

/// A word character, as SQLite's `unicode61` tokenizer sees it (letters
/// and numbers); combining marks stay inside the word they decorate.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c)
}

/// Lower-cases and strips accents (canonical decomposition, then every
/// combining mark dropped), which is what `remove_diacritics 2` does.
pub fn fold(word: &str) -> String {
    word.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The words of `text` as `(start, end, word)`, offsets in code points.
pub fn words(text: &str) -> Vec<(usize, usize, &str)> {
    let mut out = Vec::new();
    let mut start: Option<(usize, usize)> = None; // (code point, byte)
    let mut cp = 0;
    for (byte, c) in text.char_indices() {
        match (is_word_char(c), start) {
            (true, None) => start = Some((cp, byte)),
            (false, Some((s, b))) => {
                out.push((s, cp, &text[b..byte]));
                start = None;
            }
            _ => {}
        }
        cp += 1;
    }
    if let Some((s, b)) = start {
        out.push((s, cp, &text[b..]));
    }
    out
}

/// A query's folded words, in order; the last one is matched as a prefix.
/// Empty when the query holds no word at all (only punctuation, say).
pub fn query_terms(query: &str) -> Vec<String> {
    words(query)
        .into_iter()
        .map(|(_, _, w)| fold(w))
        .filter(|w| !w.is_empty())
        .collect()
}

/// The distinct folded words of `content`: what the MongoDB store indexes.
pub fn index_tokens(content: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (_, _, w) in words(content) {
        let f = fold(w);
        if !f.is_empty() && !out.contains(&f) {
            out.push(f);
        }
    }
    out
}

/// True when `content` holds every term (the last as a prefix).
pub fn contains_all(content: &str, terms: &[String]) -> bool {
    let folded: Vec<String> = words(content).into_iter().map(|w| fold(w.2)).collect();
    terms.iter().enumerate().all(|(i, t)| {
        let last = i + 1 == terms.len();
        folded
            .iter()
            .any(|w| w == t || (last && w.starts_with(t.as_str())))
    })
}

/// `[start, end)` code-point ranges of the words of `content` that match a
/// term: equal to one, or starting with the last one.
pub fn matches(content: &str, terms: &[String]) -> Vec<(u32, u32)> {
    let Some(prefix) = terms.last() else {
        return Vec::new();
    };
    let cp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    words(content)
        .into_iter()
        .filter(|(_, _, w)| {
            let f = fold(w);
            f.starts_with(prefix.as_str()) || terms.contains(&f)
        })
        .map(|(s, e, _)| (cp(s), cp(e)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(q: &str) -> Vec<String> {
        query_terms(q)
    }

    #[test]
    fn folding_ignores_case_and_accents() {
        assert_eq!(fold("Crème"), "creme");
        assert_eq!(fold("ÉTÉ"), "ete");
        assert_eq!(fold("e\u{301}t\u{301}e\u{301}"), "ete");
        assert_eq!(fold("Straße"), "straße");
    }

    #[test]
    fn words_are_cut_at_anything_but_letters_and_digits() {
        let got: Vec<_> = words("Hi, café-au-lait 42!").into_iter().collect();
        assert_eq!(
            got,
            [
                (0, 2, "Hi"),
                (4, 8, "café"),
                (9, 11, "au"),
                (12, 16, "lait"),
                (17, 19, "42")
            ]
        );
        assert_eq!(words("👍 ok"), [(2, 4, "ok")]);
        assert!(query_terms("!!! ...").is_empty());
    }

    #[test]
    fn matches_are_code_point_ranges_of_every_matched_word() {
        let t = terms("cafe LAI");
        assert_eq!(
            matches("Un Café au lait, café!", &t),
            [(3, 7), (11, 15), (17, 21)]
        );
        // Code points, not bytes or UTF-16 units: the emoji counts as one.
        assert_eq!(matches("😀 crème", &terms("creme")), [(2, 7)]);
        // A non-last term must be a whole word.
        assert_eq!(matches("cafeteria cafe", &terms("cafe x")), [(10, 14)]);
    }

    #[test]
    fn every_term_must_be_present_the_last_as_prefix() {
        assert!(contains_all("Le Café", &terms("cafe")));
        assert!(contains_all("Le Café", &terms("caf")));
        assert!(!contains_all("Le Café", &terms("caf le")));
        assert!(contains_all("Le Café", &terms("cafe l")));
        assert!(!contains_all("Le Café", &terms("the")));
    }

    #[test]
    fn excerpts_and_index_tokens() {
        let long = "é".repeat(150);
        assert_eq!(excerpt(&long).chars().count(), 100);
        assert_eq!(excerpt("hi"), "hi");
        assert_eq!(index_tokens("Hi hi HÍ there"), ["hi", "there"]);
    }
}
