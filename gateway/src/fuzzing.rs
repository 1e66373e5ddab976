//! Entry points for coverage-guided fuzzing (the `fuzz/` crate, cargo-afl),
//! behind the `fuzzing` feature (and built in tests, so clippy and the
//! seed test below keep them working). Each takes raw client bytes, runs the
//! decoder production runs on them, and panics only when a rule is broken:
//! afl records a panic as a crash. The proptest targets (`fuzz_*`, see
//! `scripts/fuzz`) drive the same decoders with generated input.

use std::sync::OnceLock;

use axum::body::Body;
use axum::extract::{FromRequest, Multipart};
use axum::http::{HeaderValue, Request};
use chat_proto::auth::v1::{PublicKey, PublicKeys};
use serde_json::Value;

use crate::config::Limits;
use crate::error::ErrorCode;
use crate::http::{json, origin};
use crate::socket::rooms::RoomName;
use crate::socket::{input, mentions, search};
use crate::token::Verifier;

/// A public key no token here is signed with: arbitrary bytes never verify.
const PUBLIC_PEM: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAgmEYPOOKkLon+VQaAPvSY9BvIleaJH/zqEPY0jlFLHk=
-----END PUBLIC KEY-----";

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime for the fuzz target")
    })
}

fn refused_as_input<T>(r: &Result<T, crate::error::Error>) -> bool {
    r.as_ref()
        .err()
        .is_none_or(|e| e.code() == ErrorCode::InvalidInput)
}

/// Everything a handler reads from an event payload (`socket/input.rs`,
/// room names, content, ids, search query and limit).
pub fn event_payload(v: &Value) {
    let limits = Limits::default();
    let Ok(input) = input::Input::new(v) else {
        assert!(!v.is_object());
        return;
    };
    for key in ["room", "content", "id", "limit", "query", "emoji", "topic"] {
        assert!(refused_as_input(&input.str(key)));
        assert!(refused_as_input(&input.bool(key)));
        if let Ok(Some(id)) = input.opt_id(key) {
            assert!(!id.is_empty() && id.len() <= 128);
        }
        if let Ok(ids) = input.ids(key, 10) {
            assert!(ids.len() <= 10);
        }
    }
    if let Ok(n) = input.limit(&limits) {
        assert!((1..=limits.history_max).contains(&n));
    }
    if let Ok(room) = input.room() {
        assert_eq!(RoomName::parse(&room.name()).ok(), Some(room));
    }
    if let Ok(c) = input.content("content", limits.max_message_chars) {
        assert!(!c.is_empty() && c.chars().count() <= limits.max_message_chars);
    }
    if let Ok(q) = search::query(&input) {
        assert!((1..=200).contains(&q.chars().count()));
    }
    if let Ok(n) = search::limit(v) {
        assert!((1..=100).contains(&n));
    }
}

/// Client text read as a room name, message content, mentions, a reaction
/// emoji and a topic.
pub fn text(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(room) = RoomName::parse(s) {
        assert_eq!(RoomName::parse(&room.name()).ok(), Some(room));
    }
    if let Ok(c) = input::content(s, 100) {
        assert_eq!(c.as_str(), s.trim());
    }
    assert!(mentions::parse(s, "me", 10).len() <= 10);
    if chat_common::emoji::is_single_emoji(s) {
        assert!(s.len() <= 64);
    }
    let topic_ok = chat_common::names::check_topic(s).is_ok();
    assert_eq!(
        topic_ok,
        s.chars().count() <= chat_common::names::MAX_TOPIC_CHARS
    );
}

/// An HTTP JSON body (`http/json.rs`), then its fields as event input.
pub fn json_body(data: &[u8]) {
    match json::parse::<Value>(data) {
        Ok(v) => {
            assert!(v.is_object());
            event_payload(&v);
        }
        Err(e) => assert_eq!(e.code(), ErrorCode::InvalidInput),
    }
}

/// An `Origin` header against an allowlist of one.
pub fn origin_header(data: &[u8]) {
    if let Ok(v) = HeaderValue::from_bytes(data) {
        let allowed = ["https://app.test".to_string()];
        assert_eq!(origin::is_allowed(&v, &allowed), origin_matches(data));
    }
}

/// The rule `origin::is_allowed` must follow, written independently: an
/// origin is visible ASCII (anything else is no origin a browser sends, so
/// it is refused), compared ignoring case, surrounding whitespace and one
/// trailing slash run. The proptest target `fuzz_origins` uses it too.
pub fn origin_matches(data: &[u8]) -> bool {
    let visible = |b: &u8| *b == b'\t' || (b' '..=b'~').contains(b);
    data.iter().all(visible)
        && std::str::from_utf8(data).is_ok_and(|s| {
            s.trim_matches([' ', '\t'])
                .trim_end_matches('/')
                .eq_ignore_ascii_case("https://app.test")
        })
}

/// A `multipart/form-data` upload body as `POST /upload` reads it.
pub fn multipart(data: &[u8]) {
    let body = data.to_vec();
    runtime().block_on(async move {
        let len = body.len();
        let Ok(req) = Request::post("/upload")
            .header("content-type", "multipart/form-data; boundary=XyZ")
            .body(Body::from(body))
        else {
            return;
        };
        let Ok(mut multipart) = Multipart::from_request(req, &()).await else {
            return;
        };
        let mut read = 0usize;
        while let Ok(Some(mut field)) = multipart.next_field().await {
            let _ = (field.name(), field.file_name(), field.content_type());
            while let Ok(Some(chunk)) = field.chunk().await {
                read += chunk.len();
            }
        }
        assert!(read <= len);
    });
}

/// An access token (JWT parsing and checking, `token::Verifier`).
pub fn token(data: &[u8]) {
    static VERIFIER: OnceLock<Verifier> = OnceLock::new();
    let verifier = VERIFIER.get_or_init(|| {
        let v = Verifier::default();
        v.set_keys(&PublicKeys {
            keys: vec![PublicKey {
                algorithm: "EdDSA".into(),
                public_key_pem: PUBLIC_PEM.into(),
                key_id: "test".into(),
                issuer: "chat".into(),
            }],
            access_token_ttl_secs: 900,
            audience: "chat".into(),
        })
        .expect("the fuzzing key is valid");
        v
    });
    let token = String::from_utf8_lossy(data);
    // No input can carry a valid signature: always a clean 401.
    match runtime().block_on(verifier.verify(&token)) {
        Ok(_) => panic!("an unsigned token verified"),
        Err(e) => assert_eq!(e.code(), ErrorCode::Unauthorized),
    }
}

/// The JSON parser's limits as `socket::configure` sets them: the packet
/// size cap and the binary attachments one packet may announce.
pub fn parser_limits() -> (usize, usize) {
    let max = usize::try_from(Limits::default().max_packet_bytes).unwrap_or(usize::MAX);
    (max, crate::socket::MAX_BINARY_ATTACHMENTS)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Every afl seed (`fuzz/seeds/<target>/`) goes through its entry point
    /// without breaking a rule, and the seeds meant to be accepted are.
    #[test]
    fn the_afl_seeds_pass_their_entry_points() {
        let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds");
        type Target = (&'static str, fn(&[u8]));
        let targets: [Target; 5] = [
            ("text", super::text),
            ("json_body", super::json_body),
            ("origin", super::origin_header),
            ("multipart", super::multipart),
            ("token", super::token),
        ];
        for (target, run) in targets {
            let dir = seeds.join(target);
            let mut n = 0;
            for entry in std::fs::read_dir(&dir).expect("the seed directory") {
                run(&std::fs::read(entry.expect("a seed").path()).expect("a seed file"));
                n += 1;
            }
            assert!(n > 0, "no seeds in {}", dir.display());
        }
        assert!(super::origin_matches(b"https://app.test/"));
        assert!(super::origin_matches(b" HTTPS://APP.TEST\t"));
        assert!(!super::origin_matches(b"https://app.test\xc2\xa0"));
        assert!(!super::origin_matches(b"https://app.test.evil"));
    }
}
