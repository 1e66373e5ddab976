//! The one-process binary `chat`: everything embedded, one port.
//!
//! Runs the built binaries, so build them first:
//! `cargo build --workspace --bins && cargo test -p chat-e2e`
//! (or `CHAT_BIN_DIR=/path/to/bins cargo test -p chat-e2e`).

use chat_e2e::api;
use chat_e2e::flow::{self, PASSWORD};
use chat_e2e::socket::ChatSocket;
use chat_e2e::stack::Standalone;
use rust_socketio::TransportType;

/// Two users chat both ways; after a restart on the same `DATA_DIR` the
/// history is still there and the access tokens issued before still work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversation_survives_a_restart() -> anyhow::Result<()> {
    let mut chat = Standalone::start().await?;
    let conv = chat.report(flow::converse(&chat.base, &chat.base).await)?;
    let restarted = chat.restart().await;
    chat.report(restarted)?;
    let outcome = flow::history_survives(&chat.base, &conv).await;
    chat.report(outcome)
}

/// Uploads go through the embedded S3 server and come back byte for byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn avatar_upload_is_served_back() -> anyhow::Result<()> {
    let chat = Standalone::start().await?;
    let outcome = async {
        let alice = api::register(&chat.base, &chat_e2e::unique("alice"), PASSWORD).await?;
        flow::avatar_roundtrip(&chat.base, &chat.base, &alice).await
    }
    .await;
    chat.report(outcome).map(drop)
}

/// Sockets without a token or with a forged one are refused with the
/// messages the protocol names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockets_need_a_valid_token() -> anyhow::Result<()> {
    let chat = Standalone::start().await?;
    let outcome = async {
        let missing =
            ChatSocket::connect(&chat.base, "/chat", None, TransportType::Websocket).await;
        let err = missing.err().map(|e| e.to_string()).unwrap_or_default();
        anyhow::ensure!(err.contains("No token provided"), "no token: {err:?}");
        let forged = ChatSocket::connect(
            &chat.base,
            "/chat",
            Some("eyJhbGciOiJFZERTQSJ9.e30.AAAA"),
            TransportType::Websocket,
        )
        .await;
        let err = forged.err().map(|e| e.to_string()).unwrap_or_default();
        anyhow::ensure!(
            err.contains("Authentication error"),
            "forged token: {err:?}"
        );
        Ok(())
    }
    .await;
    chat.report(outcome)
}
