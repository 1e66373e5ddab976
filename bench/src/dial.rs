//! Opening authenticated sockets: tokens round-robin over the registered
//! users, source addresses round-robin over 127.0.0.1..=N so that tens of
//! thousands of sockets (plus the TIME_WAIT ones a scenario leaves behind)
//! never run out of ephemeral ports towards the server's one port.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use crate::error::Error;
use crate::sio::{self, Ws};

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct Dialer {
    pub server: SocketAddr,
    sources: Arc<Vec<IpAddr>>,
    tokens: Arc<Vec<String>>,
}

impl Dialer {
    pub fn new(server: SocketAddr, source_ips: u8, tokens: Vec<String>) -> Result<Dialer, Error> {
        if tokens.is_empty() {
            return Err(Error::Usage("at least one user is needed".into()));
        }
        let sources = (1..=source_ips.max(1))
            .map(|last| IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)))
            .collect();
        Ok(Dialer {
            server,
            sources: Arc::new(sources),
            tokens: Arc::new(tokens),
        })
    }

    pub fn users(&self) -> usize {
        self.tokens.len()
    }

    /// Connection number `i` as user `user`.
    pub async fn dial(&self, i: usize, user: usize) -> Result<Ws, Error> {
        let source = self.sources[i % self.sources.len()];
        let token = &self.tokens[user % self.tokens.len()];
        sio::connect(self.server, Some(source), token, HANDSHAKE_TIMEOUT).await
    }
}
