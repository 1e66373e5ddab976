//! The distributed layout: chat-auth, chat-message, chat-media and
//! chat-gateway as separate processes on their own ports, on their embedded
//! stores (SQLite, in-process S3).
//!
//! Runs the built binaries, so build them first:
//! `cargo build --workspace --bins && cargo test -p chat-e2e`
//! (or `CHAT_BIN_DIR=/path/to/bins cargo test -p chat-e2e`).

use chat_e2e::api;
use chat_e2e::flow::{self, PASSWORD};
use chat_e2e::stack::{Backing, Distributed};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversation_across_separate_services() -> anyhow::Result<()> {
    let stack = Distributed::start(&Backing::default(), 1).await?;
    let base = &stack.gateways[0];
    let outcome = async {
        let conv = flow::converse(base, base).await?;
        flow::history_survives(base, &conv).await?;
        let carol = api::register(base, &chat_e2e::unique("carol"), PASSWORD).await?;
        flow::avatar_roundtrip(base, base, &carol).await
    }
    .await;
    stack.report(outcome).map(drop)
}

/// A gateway restarted alone loses no state: it all lives in the services.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_restart_keeps_sessions_and_history() -> anyhow::Result<()> {
    let mut stack = Distributed::start(&Backing::default(), 1).await?;
    let base = stack.gateways[0].clone();
    let conv = stack.report(flow::converse(&base, &base).await)?;
    let restarted = async {
        let gateway = stack
            .procs
            .last_mut()
            .ok_or_else(|| anyhow::anyhow!("no gateway process"))?;
        gateway.restart()?;
        chat_e2e::stack::wait_healthy(gateway, &base).await
    }
    .await;
    stack.report(restarted)?;
    let outcome = flow::history_survives(&base, &conv).await;
    stack.report(outcome)
}
