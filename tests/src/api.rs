//! The gateway's HTTP API as a client sees it (PROTOCOL.md, "HTTP").

use anyhow::{Context, bail, ensure};
use serde_json::{Value, json};

use crate::STEP_TIMEOUT;

/// What `/register` and `/login` hand back.
#[derive(Debug, Clone)]
pub struct Session {
    pub username: String,
    pub token: String,
    pub refresh_token: String,
    pub user: Value,
}

pub fn http() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder().timeout(STEP_TIMEOUT).build()?)
}

fn session(username: &str, body: &Value) -> anyhow::Result<Session> {
    let text = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .map(str::to_string)
            .with_context(|| format!("reply has no string {k:?}: {body}"))
    };
    let user = body
        .get("user")
        .cloned()
        .with_context(|| format!("reply has no user: {body}"))?;
    ensure!(
        user.get("username").and_then(Value::as_str) == Some(username),
        "reply names another user: {body}"
    );
    Ok(Session {
        username: username.to_string(),
        token: text("token")?,
        refresh_token: text("refreshToken")?,
        user,
    })
}

async fn post(base: &str, path: &str, body: Value) -> anyhow::Result<(u16, Value)> {
    let resp = http()?
        .post(format!("{base}{path}"))
        .json(&body)
        .send()
        .await
        .with_context(|| format!("POST {path} failed"))?;
    let status = resp.status().as_u16();
    let text = resp.text().await?;
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).with_context(|| format!("POST {path}: not JSON: {text}"))?
    };
    Ok((status, value))
}

/// `POST /register`; expects 201.
pub async fn register(base: &str, username: &str, password: &str) -> anyhow::Result<Session> {
    let (status, body) = post(
        base,
        "/register",
        json!({ "username": username, "password": password }),
    )
    .await?;
    if status != 201 {
        bail!("POST /register {username}: {status} {body}");
    }
    session(username, &body)
}

/// `POST /login`; expects 200.
pub async fn login(base: &str, username: &str, password: &str) -> anyhow::Result<Session> {
    let (status, body) = post(
        base,
        "/login",
        json!({ "username": username, "password": password }),
    )
    .await?;
    if status != 200 {
        bail!("POST /login {username}: {status} {body}");
    }
    session(username, &body)
}

/// `GET /me` with a bearer token; returns the status and body.
pub async fn me(base: &str, token: &str) -> anyhow::Result<(u16, Value)> {
    let resp = http()?
        .get(format!("{base}/me"))
        .bearer_auth(token)
        .send()
        .await
        .context("GET /me failed")?;
    let status = resp.status().as_u16();
    let body = resp.json().await.unwrap_or(Value::Null);
    Ok((status, body))
}

/// `GET /healthz` status, or `None` while nothing answers.
pub async fn healthz(base: &str) -> Option<u16> {
    let client = http().ok()?;
    let resp = client.get(format!("{base}/healthz")).send().await.ok()?;
    Some(resp.status().as_u16())
}

/// `POST /upload` of one multipart `field`; returns the status and body.
pub async fn upload(
    base: &str,
    token: &str,
    field: &'static str,
    file_name: &str,
    bytes: Vec<u8>,
) -> anyhow::Result<(u16, Value)> {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_string());
    let form = reqwest::multipart::Form::new().part(field, part);
    let resp = http()?
        .post(format!("{base}/upload"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .context("POST /upload failed")?;
    let status = resp.status().as_u16();
    let body = resp.json().await.unwrap_or(Value::Null);
    Ok((status, body))
}

/// `GET /media/{id}`: status, Content-Type and bytes.
pub async fn media(base: &str, id: &str) -> anyhow::Result<(u16, String, Vec<u8>)> {
    let resp = http()?
        .get(format!("{base}/media/{id}"))
        .send()
        .await
        .context("GET /media failed")?;
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    Ok((status, content_type, resp.bytes().await?.to_vec()))
}
