//! What the gateway keeps for one socket: who it is, the token it lives
//! on, its event budget and queue, and its departure, as one socket
//! extension made by the handshake middleware (`super::auth`).
//!
//! One extension, not one per concern: socketioxide keeps a socket's
//! extensions in a map of boxed values behind a lock, each lookup cloning
//! what it finds. Five of them (each also behind its own `Arc`) took five
//! map entries and ten allocations a socket, and every event looked up
//! three; now an event takes one lookup and one `Arc` clone.

use std::sync::Arc;

use socketioxide::adapter::Adapter;
use socketioxide::socket::Socket;

use super::auth::Identity;
use super::budget::EventBudget;
use super::departure::Departure;
use super::expiry::Lease;
use super::sequencer::Sequencer;

pub struct Conn {
    pub me: Arc<Identity>,
    /// Dropped with the socket, which takes it out of the expiry sweep.
    pub lease: Lease,
    pub budget: EventBudget,
    pub queue: Sequencer,
    pub departure: Departure,
}

impl Conn {
    pub fn insert<A: Adapter>(self, s: &Socket<A>) {
        s.extensions.insert(Arc::new(self));
    }
}

/// The socket's state, once the handshake middleware has stored it.
pub fn conn<A: Adapter>(s: &Socket<A>) -> Option<Arc<Conn>> {
    s.extensions.get::<Arc<Conn>>()
}
