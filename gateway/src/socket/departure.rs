//! A chat socket's departure: the client rooms it leaves when it closes.
//!
//! socketioxide takes a closed socket out of all its rooms by itself, and
//! can do so before the disconnect handler has read them. A client's
//! `disconnect()` sends the namespace's DISCONNECT and closes the transport
//! at once: the first close spawns the handler, and the second, finding no
//! handler left, empties the socket's rooms straight away. So the rooms are
//! read in the handler's extractor ([`RoomsAtClose`]), which socketioxide
//! runs inside the first close, before anything can empty them.
//!
//! Safety rule: a socket's joins and leaves of client rooms and that reading
//! happen one at a time, and once it has been read the socket joins and
//! leaves nothing more. So every room the socket is in when it closes is
//! left, and its `userLeft` announced, by the disconnect handler, exactly
//! once; an event still running at the close (a `joinRoom` a client sent
//! just before disconnecting) cannot slip a room past it.

use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;
use socketioxide::handler::FromDisconnectParts;
use socketioxide::socket::{DisconnectReason, Socket};

use crate::drain::InFlight;
use crate::error::Error;

use super::conn::conn;
use super::rooms::room_name_of_key;

/// Part of every socket's [`Conn`](super::conn::Conn). A chat socket
/// also holds the drain ([`hold`](Self::hold)) until its departure is
/// announced, so a graceful stop can wait for every `userLeft`.
#[derive(Default)]
pub struct Departure(Mutex<State>);

#[derive(Default)]
struct State {
    /// Whether the socket has closed (its rooms were read).
    closed: bool,
    announcing: Option<InFlight>,
}

impl Departure {
    fn state(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A graceful stop waits until [`announced`](Self::announced).
    pub fn hold(&self, announcing: InFlight) {
        self.state().announcing = Some(announcing);
    }

    pub fn announced(&self) {
        self.state().announcing = None;
    }

    /// Runs `change`, a join or leave of a client room, unless the socket
    /// has closed; whether it ran.
    pub fn unless_closed(&self, change: impl FnOnce()) -> bool {
        let state = self.state();
        if state.closed {
            return false;
        }
        change();
        true
    }

    /// Marks the socket closed and reads its rooms, at once for any change.
    fn close<R: AsRef<str>>(&self, rooms: impl FnOnce() -> Vec<R>) -> Vec<String> {
        let mut state = self.state();
        state.closed = true;
        client_rooms(rooms())
    }
}

/// Puts the socket in client room `key`, unless it has closed.
pub fn take_in<A: Adapter>(s: &SocketRef<A>, key: &str) -> Result<(), Error> {
    if unless_closed(s, || s.join(key.to_string())) {
        Ok(())
    } else {
        Err(Error::Unavailable(CLOSED.into()))
    }
}

const CLOSED: &str = "This connection has closed";

/// Who takes a socket out of a room.
#[derive(Clone, Copy)]
pub enum Leaver {
    /// One of its events (`leaveRoom`, a join undone): once the socket has
    /// closed, its disconnect handler leaves instead.
    Event,
    /// Its disconnect handler, which leaves the rooms read at the close.
    Disconnect,
}

/// Takes the socket out of room `key`; `false` when an event finds the
/// socket closed (its disconnect handler announces the departure).
pub fn take_out<A: Adapter>(s: &SocketRef<A>, key: &str, by: Leaver) -> bool {
    let leave = || s.leave(key.to_string());
    match by {
        Leaver::Event => unless_closed(s, leave),
        Leaver::Disconnect => {
            leave();
            true
        }
    }
}

/// [`Departure::unless_closed`] for the socket's own departure; a socket
/// without one (none past the handshake) always changes.
fn unless_closed<A: Adapter>(s: &SocketRef<A>, change: impl FnOnce()) -> bool {
    match conn(s) {
        Some(c) => c.departure.unless_closed(change),
        None => {
            change();
            true
        }
    }
}

/// The socket's client rooms (internal room keys) as they were when it
/// closed.
pub struct RoomsAtClose(pub Vec<String>);

impl<A: Adapter> FromDisconnectParts<A> for RoomsAtClose {
    type Error = Infallible;

    fn from_disconnect_parts(s: &Arc<Socket<A>>, _: DisconnectReason) -> Result<Self, Infallible> {
        let rooms = || s.rooms();
        Ok(Self(match conn(s) {
            Some(c) => c.departure.close(rooms),
            None => client_rooms(rooms()),
        }))
    }
}

fn client_rooms<R: AsRef<str>>(rooms: Vec<R>) -> Vec<String> {
    rooms
        .iter()
        .map(AsRef::as_ref)
        .filter(|r| room_name_of_key(r).is_some())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::socket::rooms::RoomName;

    fn departure() -> Departure {
        Departure::default()
    }

    #[test]
    fn an_open_socket_joins_and_leaves() {
        let d = departure();
        let mut ran = false;
        assert!(d.unless_closed(|| ran = true));
        assert!(ran);
    }

    #[test]
    fn a_closed_socket_joins_and_leaves_nothing_more() {
        let d = departure();
        d.close(Vec::<String>::new);
        let mut ran = false;
        assert!(!d.unless_closed(|| ran = true));
        assert!(!ran);
    }

    #[tokio::test]
    async fn a_graceful_stop_waits_until_the_departure_is_announced() {
        let drain = Arc::new(crate::drain::Drain::default());
        let d = departure();
        d.hold(drain.socket());
        let waiting = tokio::time::timeout(Duration::from_millis(50), drain.departed());
        assert!(waiting.await.is_err(), "the drain did not wait");
        d.close(Vec::<String>::new);
        d.announced();
        let waiting = tokio::time::timeout(Duration::from_secs(5), drain.departed());
        assert!(waiting.await.is_ok(), "the drain still waits");
    }

    #[test]
    fn the_close_reads_client_rooms_only() {
        let room = RoomName::Public("lobby".into()).key();
        let read = departure().close(|| vec![room.clone(), "u:alice".into(), "n:Alice".into()]);
        assert_eq!(read, vec![room]);
    }
}
