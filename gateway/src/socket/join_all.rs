//! `auth: {rooms: "all"}` (PROTOCOL.md § Rooms and membership): a new chat
//! socket is put in every room its user is a member of, each room as
//! `joinRoom` would join it (the roster when Redis is up, the departure
//! guard), and where the user had no socket in a room on any node, the
//! room hears `userJoined`.
//!
//! Safety rule: only a connected socket joins. A client can drop the
//! connection during the handshake; socketioxide then never puts the
//! socket in its namespace and runs no disconnect handler, so rooms joined
//! then would be left silently, while other sockets' first-and-last
//! decisions had counted them. So the handshake middleware only reads the
//! user's rooms and takes the socket's first queue place; the connect
//! handler, which socketioxide runs only for a connected socket, joins
//! them as the socket's first event. The client's own events wait behind
//! it (a send to one of its rooms right after `connect` finds it joined),
//! and a disconnect during it leaves what it joined, as for a `joinRoom`.
//! The rooms are joined together, so others' messages reach the socket in
//! every room from the first moment its handler runs, whatever the number
//! of rooms and Redis trips.

use std::sync::{Arc, Mutex, PoisonError};

use chat_proto::message::v1 as pb;
use futures::future::join_all;
use serde_json::json;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{SocketRef, State};

use crate::error::Error;

use super::SocketState;
use super::auth::Identity;
use super::conn::conn;
use super::fanout::to_room_except;
use super::membership::arrive;
use super::rooms::{room_key, room_name_of_key};
use super::roster::Roster;
use super::sequencer::Turn;

/// The handshake middleware's part: the rooms to join, held with the
/// socket's first queue place until it is connected.
pub async fn rooms_of_user<A: Adapter>(
    s: &SocketRef<A>,
    st: &SocketState,
    me: &Identity,
) -> Result<(), Error> {
    let req = pb::ListRoomsRequest {
        user: me.username.clone(),
    };
    let list = st.app.clients.rooms.clone().list_rooms(req).await?;
    let keys: Vec<String> = list
        .into_inner()
        .rooms
        .into_iter()
        .filter_map(|e| e.room.map(|r| room_key(&r.name)))
        .collect();
    let Some(c) = conn(s).filter(|_| !keys.is_empty()) else {
        return Ok(());
    };
    let pending = Some((c.queue.last(), keys));
    s.extensions.insert(ToJoin(Arc::new(Mutex::new(pending))));
    Ok(())
}

/// The chat namespaces' connect handler: joins the rooms held for the
/// socket, announcing `userJoined` where the user arrives first.
pub async fn join<A: Adapter>(s: SocketRef<A>, io: SocketIo<A>, State(st): State<SocketState>) {
    let Some(ToJoin(pending)) = s.extensions.remove::<ToJoin>() else {
        return;
    };
    let taken = pending
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    let (Some((turn, keys)), Some(c)) = (taken, conn(&s)) else {
        return;
    };
    let _turn = turn.wait().await;
    // All rooms at once: each room's join happens on the first poll, before
    // any roster round trip, so messages sent to the last room right after
    // CONNECT do not wait behind the first rooms' Redis trips.
    let arrivals = keys
        .iter()
        .map(|key| arrive_one(&s, &io, st.roster.as_ref(), &c.me, key));
    join_all(arrivals).await;
}

/// Joins room `key` and announces `userJoined` where the user arrives first.
async fn arrive_one<A: Adapter>(
    s: &SocketRef<A>,
    io: &SocketIo<A>,
    roster: Option<&Roster>,
    me: &Identity,
    key: &str,
) {
    match arrive(s, io, roster, me, key).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            // Closed meanwhile: its disconnect handler leaves what was joined.
            tracing::debug!(error = %e, room = key, "rooms: \"all\" stopped joining");
            return;
        }
    }
    let Some(name) = room_name_of_key(key) else {
        return;
    };
    let joined = json!({ "room": name, "user": me.username });
    to_room_except(s, io, key, "userJoined", &joined, false).await;
}

/// The rooms a socket joins once connected, with its first queue place, as
/// a socket extension (which must be `Clone`); dropped with a socket that
/// never connects.
#[derive(Clone)]
struct ToJoin(Arc<Mutex<Option<Held>>>);

/// The queue place and the room keys.
type Held = (Turn, Vec<String>);
