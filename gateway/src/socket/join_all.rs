//! `auth: {rooms: "all"}` (PROTOCOL.md § Rooms and membership): a new chat
//! socket is put in every room its user is a member of, before the client
//! hears it is connected, each room as `joinRoom` would join it (the
//! roster when Redis is up, the departure guard). Where the user had no
//! socket in a room on any node, the room hears `userJoined`.
//!
//! Safety rule: nothing is announced, and nothing stays listed, for a
//! socket that never connects. A client can drop the connection while the
//! handshake middleware is still joining; socketioxide then never puts the
//! socket in its namespace, takes it out of its rooms silently, and runs
//! no disconnect handler. So the joins happen in the middleware, the
//! `userJoined` waits for the connect handler (which socketioxide runs
//! only for a connected socket), and what the joins added to the Redis
//! roster is taken out again when the socket is dropped unconnected.

use std::sync::{Arc, Mutex, PoisonError};

use chat_proto::message::v1 as pb;
use serde_json::json;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;

use crate::error::Error;

use super::SocketState;
use super::auth::Identity;
use super::conn::conn;
use super::fanout::to_room_except;
use super::membership::arrive;
use super::rooms::{room_key, room_name_of_key};
use super::roster::{Roster, user_in_room_here};
use super::sequencer::Turn;

/// Joins socket `s` to every room of its user (the handshake middleware).
pub async fn join_all<A: Adapter>(
    s: &SocketRef<A>,
    io: &SocketIo<A>,
    st: &SocketState,
    me: &Arc<Identity>,
) -> Result<(), Error> {
    let req = pb::ListRoomsRequest {
        user: me.username.clone(),
    };
    let list = st.app.clients.rooms.clone().list_rooms(req).await?;
    let keys = list
        .into_inner()
        .rooms
        .into_iter()
        .filter_map(|e| e.room.map(|r| room_key(&r.name)));
    let roster = st.roster.as_ref();
    // Armed from the first join on: a join that fails, or a socket that
    // never connects, takes its roster entries out again.
    let mut listed = Unlist {
        io: io.clone(),
        roster: roster.cloned(),
        me: me.clone(),
        keys: Vec::new(),
    };
    let mut first = Vec::new();
    for key in keys {
        let arrival = arrive(s, io, roster, me, &key).await?;
        if arrival.listed {
            listed.keys.push(key.clone());
        }
        if arrival.first {
            first.push(key);
        }
    }
    let Some(c) = conn(s) else {
        return Ok(());
    };
    // The first place in the socket's queue: its events, and its
    // departure's `userLeft`, come after the announcements.
    let pending = Pending {
        turn: c.queue.last(),
        first,
        listed,
    };
    s.extensions
        .insert(Arrivals(Arc::new(Mutex::new(Some(pending)))));
    Ok(())
}

/// The chat namespaces' connect handler: the socket is connected, so
/// the rooms where it arrived first hear `userJoined`.
pub async fn announce<A: Adapter>(s: SocketRef<A>, io: SocketIo<A>) {
    let Some(Arrivals(pending)) = s.extensions.remove::<Arrivals<A>>() else {
        return;
    };
    let taken = pending
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    let Some(mut pending) = taken else {
        return;
    };
    // Connected: its entries are the socket's own now, left by its
    // disconnect handler.
    pending.listed.keys.clear();
    let _turn = pending.turn.wait().await;
    for key in pending.first {
        let Some(name) = room_name_of_key(&key) else {
            continue;
        };
        let joined = json!({ "room": name, "user": pending.listed.me.username });
        to_room_except(&s, &io, &key, "userJoined", &joined, false).await;
    }
}

/// A socket's arrivals between its handshake and its connection, as a
/// socket extension (which must be `Clone`), dropped with the socket.
struct Arrivals<A: Adapter>(Arc<Mutex<Option<Pending<A>>>>);

// Not derived: that would ask `A: Clone`.
impl<A: Adapter> Clone for Arrivals<A> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

struct Pending<A: Adapter> {
    turn: Turn,
    /// Rooms to announce `userJoined` in.
    first: Vec<String>,
    listed: Unlist<A>,
}

/// Roster entries a handshake made for its socket; dropped with keys
/// left, it takes them out of the roster, silently: nothing was announced
/// for this socket. An entry this node also holds for a connected socket
/// of the user stays. (The roster lists nodes, not sockets, and a socket
/// in its handshake is in no namespace yet, so two handshakes of one user
/// on one node at once share an entry: if one is dropped while the other
/// is still in its handshake, the other's entry goes too. Announcing
/// `userLeft` here instead would announce a departure no arrival came
/// before.)
struct Unlist<A: Adapter> {
    io: SocketIo<A>,
    roster: Option<Roster>,
    me: Arc<Identity>,
    keys: Vec<String>,
}

impl<A: Adapter> Drop for Unlist<A> {
    fn drop(&mut self) {
        let keys = std::mem::take(&mut self.keys);
        let Some(roster) = self.roster.clone().filter(|_| !keys.is_empty()) else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (io, me) = (self.io.clone(), self.me.clone());
        runtime.spawn(async move {
            for key in keys {
                let _order = roster.lock(&key, &me.lower).await;
                if user_in_room_here(&io, &me.lower, &key) {
                    continue;
                }
                if let Err(e) = roster.departed(&key, &me.lower, &me.username).await {
                    tracing::debug!(error = %e, room = key, "could not unlist a socket that never connected");
                }
            }
        });
    }
}
