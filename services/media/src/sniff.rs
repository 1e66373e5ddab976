//! Judging a file's content type from its bytes, never from its name.

/// How many leading bytes are kept for `infer`; its deepest signatures (tar,
/// ISO, …) sit well inside this.
pub const HEAD_LEN: usize = 8192;

const AVATAR_TYPES: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/// The content type of a file whose first bytes are `head` and whose whole
/// body was (or was not) UTF-8 text.
pub fn content_type(head: &[u8], is_text: bool) -> String {
    match infer::get(head) {
        Some(kind) => kind.mime_type().to_owned(),
        None if is_text => "text/plain; charset=utf-8".to_owned(),
        None => "application/octet-stream".to_owned(),
    }
}

pub fn is_avatar_type(content_type: &str) -> bool {
    AVATAR_TYPES.contains(&content_type)
}

/// Checks, chunk by chunk, that a stream of bytes is UTF-8 text (and holds no
/// NUL, which text never does but many binary formats do), without keeping
/// more than one partial character between chunks.
#[derive(Debug)]
pub struct TextCheck {
    text: bool,
    pending: Vec<u8>,
}

impl Default for TextCheck {
    fn default() -> Self {
        TextCheck {
            text: true,
            pending: Vec::with_capacity(4),
        }
    }
}

impl TextCheck {
    pub fn feed(&mut self, mut data: &[u8]) {
        if !self.text {
            return;
        }
        if data.contains(&0) {
            self.text = false;
            return;
        }
        if !self.pending.is_empty() {
            // Finish the character split across the previous chunk boundary.
            let before = self.pending.len();
            let take = (4 - before).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            let used = match std::str::from_utf8(&self.pending) {
                Ok(_) => take,
                Err(e) if e.valid_up_to() > 0 => e.valid_up_to() - before,
                Err(e) if e.error_len().is_none() => return, // still incomplete; chunk used up
                Err(_) => {
                    self.text = false;
                    return;
                }
            };
            self.pending.clear();
            data = &data[used..];
        }
        match std::str::from_utf8(data) {
            Ok(_) => {}
            Err(e) if e.error_len().is_none() => {
                self.pending.extend_from_slice(&data[e.valid_up_to()..]);
            }
            Err(_) => self.text = false,
        }
    }

    /// True when everything fed was text and no character was left unfinished.
    pub fn is_text(&self) -> bool {
        self.text && self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";
    const JPEG: &[u8] = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0";
    const GIF: &[u8] = b"GIF89a\x01\0\x01\0\x80\0\0\0\0\0\xff\xff\xff!";
    const WEBP: &[u8] = b"RIFF\x24\0\0\0WEBPVP8 \x18\0\0\0";
    const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n";

    fn text_of(chunks: &[&[u8]]) -> bool {
        let mut check = TextCheck::default();
        for c in chunks {
            check.feed(c);
        }
        check.is_text()
    }

    #[test]
    fn images_are_recognised_by_magic_bytes() {
        assert_eq!(content_type(PNG, false), "image/png");
        assert_eq!(content_type(JPEG, false), "image/jpeg");
        assert_eq!(content_type(GIF, false), "image/gif");
        assert_eq!(content_type(WEBP, false), "image/webp");
        for t in [PNG, JPEG, GIF, WEBP] {
            assert!(is_avatar_type(&content_type(t, false)));
        }
    }

    #[test]
    fn other_known_formats_are_not_avatars() {
        let pdf = content_type(PDF, false);
        assert_eq!(pdf, "application/pdf");
        assert!(!is_avatar_type(&pdf));
        assert!(!is_avatar_type("image/svg+xml"));
    }

    #[test]
    fn text_and_binary_fallbacks() {
        let text = "hello, wörld ✓\n".as_bytes();
        assert_eq!(
            content_type(text, text_of(&[text])),
            "text/plain; charset=utf-8"
        );
        let binary: &[u8] = &[0x13, 0x37, 0xfe, 0xff, 0x80, 0x81];
        assert_eq!(
            content_type(binary, text_of(&[binary])),
            "application/octet-stream"
        );
        assert!(!is_avatar_type("text/plain; charset=utf-8"));
    }

    #[test]
    fn text_check_handles_characters_split_across_chunks() {
        let s = "a✓b€c😀".as_bytes();
        for i in 0..s.len() {
            for j in i..s.len() {
                assert!(text_of(&[&s[..i], &s[i..j], &s[j..]]), "split at {i},{j}");
            }
        }
        // One byte at a time is the hardest case.
        let bytes: Vec<&[u8]> = s.chunks(1).collect();
        assert!(text_of(&bytes));
    }

    #[test]
    fn text_check_rejects_invalid_nul_and_truncated() {
        assert!(!text_of(&[b"abc\xff"]));
        assert!(!text_of(&[b"ab", b"\0cd"]));
        assert!(!text_of(&[&"✓".as_bytes()[..2]]));
        // An invalid continuation right after a split lead byte.
        assert!(!text_of(&[b"a\xe2", b"\x28\xa1"]));
        assert!(text_of(&[]));
    }

    /// Property-based fuzzing (`PROPTEST_CASES` inputs; `scripts/fuzz` runs
    /// a million): sniffing never panics, and the streaming text check
    /// agrees with checking the whole body at once however it is split.
    mod fuzz {
        use super::super::*;
        use proptest::prelude::*;

        fn body() -> impl Strategy<Value = Vec<u8>> {
            prop_oneof![
                prop::collection::vec(any::<u8>(), 0..600),
                any::<String>().prop_map(String::into_bytes),
                // Real signatures followed by anything.
                (
                    prop::sample::select(vec![
                        &b"\x89PNG\r\n\x1a\n"[..],
                        b"\xff\xd8\xff",
                        b"GIF89a",
                        b"RIFF\0\0\0\0WEBPVP8 ",
                        b"%PDF-",
                        b"<svg",
                        b"<!DOCTYPE html>",
                        b"PK\x03\x04",
                    ]),
                    prop::collection::vec(any::<u8>(), 0..64),
                )
                    .prop_map(|(head, rest)| [head, &rest].concat()),
            ]
        }

        proptest! {
            #[test]
            fn fuzz_sniffing(data in body(), cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6)) {
                let mut at: Vec<usize> = cuts.iter().map(|i| i.index(data.len() + 1)).collect();
                at.sort_unstable();
                let mut check = TextCheck::default();
                let mut from = 0;
                for to in at.into_iter().chain([data.len()]) {
                    check.feed(&data[from..to]);
                    from = to;
                }
                let whole = std::str::from_utf8(&data).is_ok() && !data.contains(&0);
                prop_assert_eq!(check.is_text(), whole);
                let head = &data[..data.len().min(HEAD_LEN)];
                let ct = content_type(head, whole);
                prop_assert!(!ct.is_empty());
                if is_avatar_type(&ct) {
                    prop_assert!(ct.starts_with("image/"));
                }
            }
        }
    }
}
