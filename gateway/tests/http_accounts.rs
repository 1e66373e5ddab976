//! PROTOCOL.md's HTTP API for accounts (register, login, refresh, logout,
//! me) and the operational routes, end to end against the real services.

use reqwest::StatusCode;
use serde_json::{Value, json};

mod support;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_and_sessions() {
    let s = start(DEFAULT_LIMITS).await;

    let alice = s.register("Alice").await;
    let token = alice["token"].as_str().unwrap().to_string();
    assert!(
        alice["refreshToken"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    assert_eq!(alice["user"]["username"], "Alice");
    assert_eq!(alice["user"]["avatar"], Value::Null);
    assert!(alice["user"]["id"].as_str().is_some_and(|t| !t.is_empty()));

    let (status, body) = s
        .post(
            "/register",
            json!({"username": "alice", "password": "another one"}),
        )
        .await;
    assert_error(status, &body, StatusCode::CONFLICT);
    let (status, body) = s
        .post(
            "/register",
            json!({"username": "a", "password": "correct horse"}),
        )
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST);
    let res = s
        .http
        .post(s.url("/register"))
        .header("content-type", "application/json")
        .body("{\"username\":")
        .send()
        .await
        .unwrap();
    let (status, body) = read(res).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST);

    let (status, login) = s
        .post(
            "/login",
            json!({"username": "Alice", "password": "correct horse"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{login}");
    assert_eq!(login["user"], alice["user"]);
    for wrong in [
        json!({"username": "Alice", "password": "wrong horse"}),
        json!({"username": "nobody", "password": "correct horse"}),
        json!({}),
    ] {
        let (status, body) = s.post("/login", wrong).await;
        assert_eq!(
            (status, body),
            (
                StatusCode::UNAUTHORIZED,
                json!({"error": "Invalid credentials"})
            )
        );
    }

    let res = s
        .http
        .get(s.url("/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let (status, me) = read(res).await;
    assert_eq!((status, &me), (StatusCode::OK, &alice["user"]));
    let (status, body) = read(s.http.get(s.url("/me")).send().await.unwrap()).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED);
    let (status, body) = read(
        s.http
            .get(s.url("/me"))
            .bearer_auth("not.a.token")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED);

    let first = login["refreshToken"].as_str().unwrap();
    let (status, pair) = s.post("/refresh", json!({"refreshToken": first})).await;
    assert_eq!(status, StatusCode::OK, "{pair}");
    assert_eq!(pair.as_object().unwrap().len(), 2, "{pair}");
    let res = s
        .http
        .get(s.url("/me"))
        .bearer_auth(pair["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (status, body) = s.post("/refresh", json!({"refreshToken": first})).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED);

    let second = pair["refreshToken"].as_str().unwrap();
    let (status, body) = s.post("/logout", json!({"refreshToken": second})).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let (status, body) = s.post("/refresh", json!({"refreshToken": second})).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED);
    let (status, _) = s.post("/logout", json!({"refreshToken": second})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_routes_and_error_shapes() {
    let s = start(DEFAULT_LIMITS).await;
    let (status, body) = read(s.http.get(s.url("/healthz")).send().await.unwrap()).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "ok"})));

    let (status, body) = read(s.http.get(s.url("/no/such/route")).send().await.unwrap()).await;
    assert_error(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = read(s.http.get(s.url("/login")).send().await.unwrap()).await;
    assert_error(status, &body, StatusCode::METHOD_NOT_ALLOWED);

    let res = s.http.get(s.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = res.text().await.unwrap();
    assert!(text.contains("http_requests_total{"), "{text}");
    assert!(text.contains("route=\"/healthz\""), "{text}");
    assert!(
        text.contains("http_request_duration_seconds_bucket"),
        "{text}"
    );

    let res = s
        .http
        .get(s.url("/healthz"))
        .header("x-request-id", "req-42")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "req-42");
    let res = s
        .http
        .request(reqwest::Method::OPTIONS, s.url("/login"))
        .header("origin", "http://app.test")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
}
