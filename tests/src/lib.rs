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

/// A TCP port free at the time of asking. Another process may take it
/// before the child binds it: start children through [`on_a_free_port`].
pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// How many ports a start tries before its failure counts.
const PORT_TRIES: usize = 5;

/// Runs `start` (spawn a child listening on the port, wait until it is up)
/// on a free port, and on another one when the child found it taken: the
/// port [`free_port`] found can be bound by anyone before the child binds
/// it (another test's process, an outgoing connection's ephemeral port),
/// which made a CI run fail once in a few hundred starts.
pub async fn on_a_free_port<T, F, Fut>(mut start: F) -> anyhow::Result<T>
where
    F: FnMut(u16) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    let mut tries = 0;
    loop {
        tries += 1;
        match start(free_port()?).await {
            Err(e) if tries < PORT_TRIES && port_was_taken(&e) => {
                eprintln!("a child found its port taken; trying another ({e:#})");
            }
            outcome => return outcome,
        }
    }
}

/// Whether a start failed because its port was taken (the child's log, in
/// the error, says so).
fn port_was_taken(e: &anyhow::Error) -> bool {
    format!("{e:#}").contains("Address already in use")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_taken_port_is_tried_again_on_another() {
        let mut seen = Vec::new();
        let got = on_a_free_port(|port| {
            seen.push(port);
            let first = seen.len() == 1;
            async move {
                if first {
                    anyhow::bail!("chat exited; its log: Address already in use (os error 98)");
                }
                Ok(port)
            }
        })
        .await
        .unwrap();
        assert_eq!(seen.len(), 2);
        assert_eq!(got, seen[1]);
    }

    /// How many starts a run makes when every one fails with `error`.
    async fn tries_when_every_start_fails_with(error: &'static str) -> usize {
        let mut tries = 0;
        let got: anyhow::Result<()> = on_a_free_port(|_| {
            tries += 1;
            async move { Err(anyhow::anyhow!(error)) }
        })
        .await;
        assert!(got.is_err());
        tries
    }

    #[tokio::test]
    async fn any_other_failure_is_returned_at_once() {
        let tries = tries_when_every_start_fails_with("chat exited: bad configuration").await;
        assert_eq!(tries, 1);
    }

    #[tokio::test]
    async fn a_port_taken_every_time_fails_after_a_few_tries() {
        let tries = tries_when_every_start_fails_with("Address already in use").await;
        assert_eq!(tries, PORT_TRIES);
    }
}
