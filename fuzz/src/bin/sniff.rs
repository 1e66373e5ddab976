//! The media service's content sniffing (`services/media/src/sniff.rs`,
//! compiled here as is: the media crate's S3 stack is not needed for it).
//! The streaming text check must agree with checking the whole body.
#[path = "../../../services/media/src/sniff.rs"]
#[allow(dead_code)]
mod sniff;

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let whole = std::str::from_utf8(data).is_ok() && !data.contains(&0);
        // Split where the input says (its first byte), as chunks arrive.
        let cut = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
        let mut check = sniff::TextCheck::default();
        check.feed(&data[..cut]);
        check.feed(&data[cut..]);
        assert_eq!(check.is_text(), whole);
        let head = &data[..data.len().min(sniff::HEAD_LEN)];
        let ct = sniff::content_type(head, whole);
        assert!(!ct.is_empty());
        if sniff::is_avatar_type(&ct) {
            assert!(ct.starts_with("image/"));
        }
    });
}
