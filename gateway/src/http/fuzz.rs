//! Property-based fuzzing of the HTTP decoders of client input: JSON bodies,
//! multipart uploads (axum's `Multipart`, i.e. `multer`), `Origin` values
//! and access tokens (JWT parsing and checking). Arbitrary bytes must give
//! a clean refusal, never a panic. `PROPTEST_CASES` sets the inputs per
//! target (256 by default; `scripts/fuzz` runs a million).

use axum::http::HeaderValue;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use serde::Deserialize;

use crate::error::ErrorCode;
use crate::token::{Claims, Verifier};
use chat_proto::auth::v1::{PublicKey, PublicKeys};

use super::json::parse;
use super::origin::is_allowed;

/// A throwaway Ed25519 key pair made for these tests only.
const TEST_PRIVATE_PEM: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIFAt2a/HaVTLH1S8pgtFFXVH9qP2kTtAx5dwNZOzfaoD
-----END PRIVATE KEY-----";
const TEST_PUBLIC_PEM: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAgmEYPOOKkLon+VQaAPvSY9BvIleaJH/zqEPY0jlFLHk=
-----END PUBLIC KEY-----";

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Creds {
    username: String,
    password: String,
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        "[ \\[\\]{}\":,a-z0-9\\\\]{0,200}".prop_map(String::into_bytes),
        (any::<String>(), any::<String>()).prop_map(|(u, p)| {
            serde_json::json!({"username": u, "password": p})
                .to_string()
                .into_bytes()
        }),
    ]
}

/// Multipart bodies: well-formed parts with hostile names and headers, then
/// cut or corrupted anywhere.
fn multipart_body() -> impl Strategy<Value = Vec<u8>> {
    let header = prop_oneof![
        "Content-Disposition: form-data; name=\"[a-z\"]{0,8}\"(; filename=\"[^\"\r\n]{0,20}\")?",
        "Content-Type: [ -~]{0,30}",
        "[ -~]{0,40}",
    ];
    let part = (
        prop::collection::vec(header, 0..4),
        prop::collection::vec(any::<u8>(), 0..64),
    );
    (
        prop::collection::vec(part, 0..4),
        any::<bool>(),
        0usize..2048,
        any::<u8>(),
    )
        .prop_map(|(parts, close, cut, junk)| {
            let mut body = Vec::new();
            for (headers, data) in parts {
                body.extend_from_slice(b"--XyZ\r\n");
                for h in headers {
                    body.extend_from_slice(h.as_bytes());
                    body.extend_from_slice(b"\r\n");
                }
                body.extend_from_slice(b"\r\n");
                body.extend_from_slice(&data);
                body.extend_from_slice(b"\r\n");
            }
            if close {
                body.extend_from_slice(b"--XyZ--\r\n");
            }
            if cut < body.len() {
                body.truncate(cut);
                body.push(junk);
            }
            body
        })
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_-]{0,60}",
        any::<String>(),
        any::<Vec<u8>>().prop_map(|b| URL_SAFE_NO_PAD.encode(b)),
        json_object().prop_map(|j| URL_SAFE_NO_PAD.encode(j)),
    ]
}

fn json_object() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        Just(serde_json::Value::Null),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        any::<String>().prop_map(serde_json::Value::from),
        Just(serde_json::json!("EdDSA")),
        Just(serde_json::json!("none")),
        Just(serde_json::json!("chat")),
        Just(serde_json::json!(4_102_444_800u64)),
        Just(serde_json::json!([1, {"a": []}])),
    ];
    let key = prop_oneof![
        Just("alg"),
        Just("typ"),
        Just("kid"),
        Just("sub"),
        Just("username"),
        Just("exp"),
        Just("iss"),
        Just("aud"),
        Just("sid"),
        Just("nbf"),
        Just("crit"),
    ];
    prop::collection::vec((key, value), 0..8).prop_map(|kv| {
        let map: serde_json::Map<String, serde_json::Value> =
            kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        serde_json::Value::Object(map).to_string()
    })
}

fn verifier() -> Verifier {
    let v = Verifier::default();
    v.set_keys(&PublicKeys {
        keys: vec![PublicKey {
            algorithm: "EdDSA".into(),
            public_key_pem: TEST_PUBLIC_PEM.into(),
            key_id: "test".into(),
            issuer: "chat".into(),
        }],
        access_token_ttl_secs: 900,
        audience: "chat".into(),
    })
    .expect("the test key is valid");
    v
}

/// `Verifier::verify` is async (an unknown `kid` may refetch the keys; with
/// no auth client configured here it never does).
fn verify(v: &Verifier, token: &str) -> Result<Claims, crate::error::Error> {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
        .block_on(v.verify(token))
}

/// A token over `claims` (any JSON text), correctly signed with the test key.
fn signed(claims: &str) -> String {
    let key = jsonwebtoken::EncodingKey::from_ed_pem(TEST_PRIVATE_PEM.as_bytes())
        .expect("the test key is valid");
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"EdDSA","typ":"JWT","kid":"test"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims);
    let input = format!("{header}.{body}");
    let sig = jsonwebtoken::crypto::sign(input.as_bytes(), &key, jsonwebtoken::Algorithm::EdDSA)
        .expect("signing with a valid key");
    format!("{input}.{sig}")
}

proptest! {
    #[test]
    fn fuzz_json_bodies(body in bytes()) {
        match parse::<Creds>(&body) {
            Ok(_) => prop_assert_eq!(body.iter().find(|b| !b.is_ascii_whitespace()), Some(&b'{')),
            Err(e) => prop_assert_eq!(e.code(), ErrorCode::InvalidInput),
        }
    }

    #[test]
    fn fuzz_multipart_uploads(body in multipart_body()) {
        // The same entry point the afl target drives: every field read to
        // its end, never more bytes than the body holds.
        crate::fuzzing::multipart(&body);
    }

    #[test]
    fn fuzz_origins(raw in prop_oneof![
        prop::collection::vec(any::<u8>(), 0..80),
        // Near the allowed origin: case, spaces (ASCII and not), slashes.
        "[ \t\u{a0}\u{85}]{0,3}(?i:https://app\\.test)(/|\u{a0}|\\.evil|:443)?[ \t/\u{a0}]{0,3}"
            .prop_map(String::into_bytes),
    ]) {
        let allowed = ["https://app.test".to_string()];
        if let Ok(v) = HeaderValue::from_bytes(&raw) {
            // The rule written independently (afl found the first version
            // of this oracle wrong: it trimmed Unicode spaces like U+00A0).
            prop_assert_eq!(is_allowed(&v, &allowed), crate::fuzzing::origin_matches(&raw));
        }
    }

    #[test]
    fn fuzz_tokens(a in segment(), b in segment(), c in segment(), dots in 0usize..5) {
        let v = verifier();
        let token = match dots {
            0 => a.clone(),
            1 => format!("{a}.{b}"),
            2 => format!("{a}.{b}.{c}"),
            _ => format!("{a}.{b}.{c}.{a}"),
        };
        // Not signed with the key: never valid, and refused cleanly.
        let e = verify(&v, &token).expect_err("an unsigned token verified");
        prop_assert_eq!(e.code(), ErrorCode::Unauthorized);
    }

    #[test]
    fn fuzz_signed_claims(claims in prop_oneof![json_object(), any::<String>()]) {
        // Signed correctly, so the claims themselves are what is judged.
        if let Err(e) = verify(&verifier(), &signed(&claims)) {
            prop_assert_eq!(e.code(), ErrorCode::Unauthorized);
        }
    }
}

#[test]
fn a_well_formed_token_signed_with_the_test_key_verifies() {
    let claims =
        r#"{"sub":"u1","username":"alice","sid":"s1","aud":"chat","exp":4102444800,"iss":"chat"}"#;
    let verified = verify(&verifier(), &signed(claims));
    // Guards the fuzz targets above: they only mean something if a valid
    // token gets all the way through.
    assert_eq!(verified.map(|c| c.username).ok().as_deref(), Some("alice"));
}
