//! The stack the HTTP tests drive: the real auth, message and media
//! services (embedded stores, in-process S3) on ephemeral ports and the real
//! gateway in front of them, plus reqwest helpers.

// Each test file uses its own subset of these helpers.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// A 1×1 PNG.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

pub struct Stack {
    pub base: String,
    /// The auth service's gRPC URL, for tests that act as an operator.
    pub auth_url: String,
    /// The platform credential every component of the stack shares.
    pub grpc: chat_common::credentials::Credentials,
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
}

pub struct Limits {
    pub gateway_upload: u64,
    pub media_upload: u64,
}

pub const DEFAULT_LIMITS: Limits = Limits {
    gateway_upload: 64 * 1024,
    media_upload: 64 * 1024,
};

pub async fn loopback() -> (TcpListener, SocketAddr) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    (l, addr)
}

/// Starts the three services and the gateway; their tasks end with the
/// test's runtime.
pub async fn start(limits: Limits) -> Stack {
    let dir = tempfile::tempdir().unwrap();
    let never = std::future::pending::<()>;
    // Under `MONGO_URI` every stack gets databases of its own, so runs (and
    // tests within a run) never see each other's users and messages.
    let run = uuid::Uuid::new_v4().simple().to_string();
    let grpc = chat_common::certs::generate(&chat_common::certs::default_names())
        .unwrap()
        .credentials();

    let (l, auth_addr) = loopback().await;
    let mut auth = chat_auth::Config::from_env().unwrap();
    auth.listen_addr = auth_addr;
    auth.grpc = grpc.clone();
    auth.data_dir = dir.path().to_path_buf();
    auth.mongo_db = format!("chat_auth_test_{run}");
    tokio::spawn(chat_auth::serve(auth, l, never()));

    let (l, message_addr) = loopback().await;
    let mut message = chat_message::Config::from_env().unwrap();
    message.listen_addr = message_addr;
    message.grpc = grpc.clone();
    message.auth_url = format!("http://{auth_addr}");
    message.data_dir = dir.path().to_path_buf();
    message.mongo_db = format!("chat_message_test_{run}");
    tokio::spawn(chat_message::serve(message, l, never()));

    let (l, media_addr) = loopback().await;
    let mut media = chat_media::Config::from_env().unwrap();
    media.listen_addr = media_addr;
    media.grpc = grpc.clone();
    media.auth_url = format!("http://{auth_addr}");
    media.data_dir = dir.path().to_path_buf();
    media.mongo_db = format!("chat_media_test_{run}");
    media.max_upload_bytes = limits.media_upload;
    tokio::spawn(chat_media::serve(media, l, never()));

    let mut gateway = chat_gateway::Config::from_lookup(|_| None).unwrap();
    gateway.auth_url = format!("http://{auth_addr}");
    gateway.grpc = grpc.clone();
    gateway.message_url = format!("http://{message_addr}");
    gateway.media_url = format!("http://{media_addr}");
    gateway.limits.max_upload_bytes = limits.gateway_upload;
    let (l, gateway_addr) = loopback().await;
    tokio::spawn(chat_gateway::serve(gateway, l, never()));

    let stack = Stack {
        base: format!("http://{gateway_addr}"),
        auth_url: format!("http://{auth_addr}"),
        grpc,
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
    /// The auth service, called as the platform (an operator's tool).
    pub async fn auth(
        &self,
    ) -> chat_proto::auth::v1::auth_service_client::AuthServiceClient<tonic::transport::Channel>
    {
        let channel = self
            .grpc
            .endpoint(&self.auth_url)
            .unwrap()
            .connect()
            .await
            .unwrap();
        chat_proto::auth::v1::auth_service_client::AuthServiceClient::new(channel)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let res = self
            .http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        read(res).await
    }

    pub async fn register(&self, username: &str) -> Value {
        let (status, body) = self
            .post(
                "/register",
                json!({"username": username, "password": "correct horse"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    pub async fn upload(
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

pub async fn read(res: reqwest::Response) -> (StatusCode, Value) {
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

pub fn assert_error(status: StatusCode, body: &Value, expected: StatusCode) {
    assert_eq!(status, expected, "{body}");
    assert!(
        body["error"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    assert_eq!(body.as_object().map(|o| o.len()), Some(1), "{body}");
}
