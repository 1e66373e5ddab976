//! Registers the bench's users once per system over HTTP and keeps their
//! access tokens; every socket of every scenario reuses them round-robin.

use std::net::SocketAddr;

use futures::{StreamExt, TryStreamExt};

use crate::error::Error;
use crate::progress;

const PASSWORD: &str = "bench-password-1";

/// Password hashing dominates registration (argon2id / bcrypt): a few at a
/// time keeps both servers busy without queueing hundreds of requests.
const CONCURRENCY: usize = 4;

#[derive(serde::Deserialize)]
struct Session {
    token: String,
}

/// Registers `count` users named `bench{i}` and returns their tokens.
pub async fn register(server: SocketAddr, count: usize) -> Result<Vec<String>, Error> {
    let client = reqwest::Client::new();
    let bar = progress::counter(count as u64, "registering users");
    let tokens = futures::stream::iter(0..count)
        .map(|i| {
            let client = client.clone();
            let bar = bar.clone();
            async move {
                let body =
                    serde_json::json!({ "username": format!("bench{i}"), "password": PASSWORD });
                let resp = client
                    .post(format!("http://{server}/register"))
                    .json(&body)
                    .send()
                    .await?;
                if !resp.status().is_success() {
                    let status = resp.status();
                    let text = resp.text().await.unwrap_or_default();
                    return Err(Error::Server(format!(
                        "POST /register answered {status}: {text}"
                    )));
                }
                let session: Session = resp.json().await?;
                bar.inc(1);
                Ok::<_, Error>(session.token)
            }
        })
        .buffered(CONCURRENCY)
        .try_collect()
        .await;
    bar.finish_and_clear();
    tokens
}
