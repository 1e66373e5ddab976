//! The end-to-end harness: runs the workspace's real binaries as separate
//! processes on free ports, talks to them over real sockets (HTTP with
//! reqwest, Socket.IO with `rust_socketio`) and keeps every process's output
//! in a log file that is printed when a test fails. The tests themselves are
//! in `tests/e2e/`.
//!
//! Binaries are found next to the running test (`target/<profile>/`), or in
//! `CHAT_BIN_DIR` when set; `cargo build --workspace --bins` must have built
//! them.

pub mod api;
pub mod backing;
pub mod bins;
pub mod flow;
pub mod process;
pub mod socket;
pub mod stack;

/// How long a start-up may take before a test gives up: the first run after a
/// build also pays for SQLite files and key generation.
pub const START_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// How long any single request, ack or awaited event may take.
pub const STEP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A name no earlier run used, so tests can share a long-lived database.
pub fn unique(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}_{}", &id[..10])
}

/// A TCP port free at the time of asking. Another process may take it before
/// the child binds it; that race is rare on a test machine and shows as a
/// clear start-up failure.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}
