//! The HTTP API of PROTOCOL.md end to end: the real auth, message and media
//! services (embedded stores, in-process S3) on ephemeral ports, the real
//! gateway in front of them, driven over HTTP by reqwest.

use std::net::SocketAddr;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

struct Stack {
    base: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

struct Limits {
    gateway_upload: u64,
    media_upload: u64,
}

const DEFAULT_LIMITS: Limits = Limits {
    gateway_upload: 64 * 1024,
    media_upload: 64 * 1024,
};

async fn loopback() -> (TcpListener, SocketAddr) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    (l, addr)
}

/// Starts the three services and the gateway; their tasks end with the
/// test's runtime.
async fn start(limits: Limits) -> Stack {
    let dir = tempfile::tempdir().unwrap();
    let never = std::future::pending::<()>;

    let (l, auth_addr) = loopback().await;
    let mut auth = chat_auth::Config::from_env().unwrap();
    auth.listen_addr = auth_addr;
    auth.data_dir = dir.path().to_path_buf();
    tokio::spawn(chat_auth::serve(auth, l, never()));

    let (l, message_addr) = loopback().await;
    let mut message = chat_message::Config::from_env().unwrap();
    message.listen_addr = message_addr;
    message.data_dir = dir.path().to_path_buf();
    tokio::spawn(chat_message::serve(message, l, never()));

    let (l, media_addr) = loopback().await;
    let mut media = chat_media::Config::from_env().unwrap();
    media.listen_addr = media_addr;
    media.data_dir = dir.path().to_path_buf();
    media.max_upload_bytes = limits.media_upload;
    tokio::spawn(chat_media::serve(media, l, never()));

    let mut gateway = chat_gateway::Config::from_lookup(|_| None).unwrap();
    gateway.auth_url = format!("http://{auth_addr}");
    gateway.message_url = format!("http://{message_addr}");
    gateway.media_url = format!("http://{media_addr}");
    gateway.limits.max_upload_bytes = limits.gateway_upload;
    let (l, gateway_addr) = loopback().await;
    tokio::spawn(chat_gateway::serve(gateway, l, never()));

    let stack = Stack {
        base: format!("http://{gateway_addr}"),
        http: reqwest::Client::new(),
        _dir: dir,
    };
    // Ready when /healthz says every service (and the token key) is in.
    for _ in 0..200 {
        if let Ok(res) = stack.http.get(stack.url("/healthz")).send().await
            && res.status() == StatusCode::OK
        {
            return stack;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the stack did not become healthy within 10 s");
}

impl Stack {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let res = self
            .http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        read(res).await
    }

    async fn register(&self, username: &str) -> Value {
        let (status, body) = self
            .post(
                "/register",
                json!({"username": username, "password": "correct horse"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    async fn upload(
        &self,
        token: Option<&str>,
        field: &str,
        name: &str,
        mime: &str,
        bytes: Vec<u8>,
    ) -> (StatusCode, Value) {
        let part = Part::bytes(bytes)
            .file_name(name.to_string())
            .mime_str(mime)
            .unwrap();
        let mut req = self
            .http
            .post(self.url("/upload"))
            .multipart(Form::new().part(field.to_string(), part));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        read(req.send().await.unwrap()).await
    }
}

async fn read(res: reqwest::Response) -> (StatusCode, Value) {
    let status = res.status();
    let bytes = res.bytes().await.unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{status}: not JSON ({e}): {bytes:?}"))
    };
    (status, body)
}

fn assert_error(status: StatusCode, body: &Value, expected: StatusCode) {
    assert_eq!(status, expected, "{body}");
    assert!(
        body["error"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    assert_eq!(body.as_object().map(|o| o.len()), Some(1), "{body}");
}

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
async fn uploads_and_downloads() {
    let s = start(DEFAULT_LIMITS).await;
    let bob = s.register("bob").await;
    let token = bob["token"].as_str().unwrap();

    let text = b"<html><script>alert(1)</script></html>".to_vec();
    let (status, file) = s
        .upload(Some(token), "file", "page.html", "text/html", text.clone())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    assert_eq!(file["size"], text.len());
    assert_eq!(file["name"], "page.html");
    let id = file["id"].as_str().unwrap();
    assert_eq!(file["url"], format!("{}/media/{id}", s.base));
    let res = s
        .http
        .get(file["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let h = res.headers().clone();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["content-type"], file["contentType"].as_str().unwrap());
    assert!(
        h["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert!(h["cache-control"].to_str().unwrap().contains("max-age"));
    assert_eq!(res.bytes().await.unwrap().as_ref(), text.as_slice());

    let (status, avatar) = s
        .upload(Some(token), "avatar", "me.png", "image/png", PNG.to_vec())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{avatar}");
    assert_eq!(avatar["contentType"], "image/png");
    let (_, me) = read(
        s.http
            .get(s.url("/me"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(me["avatar"], avatar["url"]);
    let res = s
        .http
        .get(avatar["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "image/png");
    assert!(res.headers().get("content-disposition").is_none());
    assert_eq!(res.bytes().await.unwrap().as_ref(), PNG);

    // An avatar is judged by its bytes, whatever its name says.
    let (status, body) = s
        .upload(Some(token), "avatar", "fake.png", "image/png", text.clone())
        .await;
    assert_error(status, &body, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let (status, body) = s
        .upload(
            Some(token),
            "file",
            "big.bin",
            "application/octet-stream",
            vec![7; 100 * 1024],
        )
        .await;
    assert_error(status, &body, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, body) = s
        .upload(Some(token), "other", "a.txt", "text/plain", b"hi".to_vec())
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST);
    let (status, body) = s
        .upload(None, "file", "a.txt", "text/plain", b"hi".to_vec())
        .await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED);

    let (status, body) = read(
        s.http
            .get(s.url("/media/00000000-0000-0000-0000-000000000000"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(status, &body, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_media_service_limit_is_a_413_too() {
    let s = start(Limits {
        gateway_upload: 64 * 1024,
        media_upload: 16 * 1024,
    })
    .await;
    let carol = s.register("carol").await;
    let token = carol["token"].as_str().unwrap();
    let (status, body) = s
        .upload(
            Some(token),
            "file",
            "mid.bin",
            "application/octet-stream",
            vec![1; 32 * 1024],
        )
        .await;
    assert_error(status, &body, StatusCode::PAYLOAD_TOO_LARGE);
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
