//! Sessions end to end (PROTOCOL.md § Sessions): signing-key rotation
//! without a gateway restart, and endings made outside the gateway (an
//! operator's `EndSession`) reaching it through the catch-up.

use std::time::Duration;

use chat_proto::auth::v1::{EndSessionRequest, RotateSigningKeyRequest};
use reqwest::StatusCode;
use serde_json::{Value, json};

mod support;
use support::*;

fn kid(token: &str) -> String {
    jsonwebtoken::decode_header(token)
        .unwrap()
        .kid
        .expect("tokens name their key")
}

async fn me(s: &Stack, token: &str) -> StatusCode {
    s.http
        .get(s.url("/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

async fn login(s: &Stack, name: &str) -> Value {
    let (status, body) = s
        .post(
            "/login",
            json!({"username": name, "password": "correct horse"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_key_rotation_keeps_old_tokens_and_uses_the_new_key() {
    let s = start(DEFAULT_LIMITS).await;
    let old = s.register("rotor").await["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(me(&s, &old).await, StatusCode::OK);

    let mut auth = s.auth().await;
    let keys = auth
        .rotate_signing_key(RotateSigningKeyRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(keys.keys.len(), 2, "current and previous");
    assert_eq!(keys.keys[1].key_id, kid(&old));
    let new_kid = keys.keys[0].key_id.clone();
    assert_ne!(new_kid, kid(&old));

    // A token of the previous key is still accepted…
    assert_eq!(me(&s, &old).await, StatusCode::OK);
    // …new tokens are signed with the new key, which this running gateway
    // learns on first sight of its kid.
    let fresh = login(&s, "rotor").await["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(kid(&fresh), new_kid);
    assert_eq!(me(&s, &fresh).await, StatusCode::OK);
    assert_eq!(me(&s, &old).await, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_ending_reaches_the_gateway_without_redis() {
    let s = start(DEFAULT_LIMITS).await;
    let reg = s.register("watched").await;
    let token = reg["token"].as_str().unwrap().to_string();
    let other = login(&s, "watched").await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let claims: Value = {
        use base64::Engine;
        let part = token.split('.').nth(1).unwrap();
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap();
        serde_json::from_slice(&raw).unwrap()
    };
    assert_eq!(claims["aud"], "chat");
    let mut auth = s.auth().await;
    auth.end_session(EndSessionRequest {
        user_id: reg["user"]["id"].as_str().unwrap().into(),
        session_id: claims["sid"].as_str().unwrap().into(),
    })
    .await
    .unwrap();
    let mut refused = false;
    for _ in 0..40 {
        if me(&s, &token).await == StatusCode::UNAUTHORIZED {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(refused, "the gateway never learned the ended session");
    assert_eq!(me(&s, &other).await, StatusCode::OK);
}
