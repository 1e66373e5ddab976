//! The reaction rule (PROTOCOL.md § Limits, reactions): a reaction is exactly
//! one emoji grapheme. Defined here once so the gateway refuses bad input
//! before any call and the message service refuses it from any other caller.
//!
//! Emoji data comes from the `emojis` crate (Unicode's emoji list, kept up
//! to date upstream) and grapheme boundaries from `unicode-segmentation`, so
//! skin tones, ZWJ sequences, flags and keycaps count as one emoji.

use unicode_segmentation::UnicodeSegmentation;

/// The cap on distinct emoji one message may carry.
pub const MAX_DISTINCT_PER_MESSAGE: usize = 20;

/// True when `s` is exactly one grapheme and that grapheme is an emoji.
pub fn is_single_emoji(s: &str) -> bool {
    // An emoji's longest form (a ZWJ family with skin tones) is well under
    // 64 bytes; longer input is refused before segmenting it.
    if s.is_empty() || s.len() > 64 {
        return false;
    }
    let mut graphemes = s.graphemes(true);
    matches!((graphemes.next(), graphemes.next()), (Some(g), None) if emojis::get(g).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_emoji_of_every_shape_are_accepted() {
        for ok in ["👍", "😀", "❤️", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷", "1️⃣", "🏳️‍🌈"]
        {
            assert!(is_single_emoji(ok), "{ok:?} should be accepted");
        }
    }

    #[test]
    fn text_several_emoji_and_empty_are_refused() {
        for bad in ["", "a", "ab", ":+1:", "👍👍", "👍 ", " 👍", "1", "é", "😀x"] {
            assert!(!is_single_emoji(bad), "{bad:?} should be refused");
        }
        assert!(!is_single_emoji(&"👍".repeat(40)));
    }
}
