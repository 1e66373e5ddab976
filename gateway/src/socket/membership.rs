//! Joining and leaving rooms (`joinRoom`, `join`, `leaveRoom`, disconnect)
//! and the membership rule every room event checks. Joining asks the room
//! service, which admits or refuses and records the membership.

use chat_proto::auth::v1::{GetUserRequest, get_user_request};
use chat_proto::message::v1::{JoinRoomRequest, ListMessagesRequest};
use serde_json::{Value, json};
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{SocketRef, State};

use crate::error::Error;

use super::SocketState;
use super::auth::Identity;
use super::conn::conn;
use super::departure::{Leaver, RoomsAtClose, take_in, take_out};
use super::event::{Cx, Outcome};
use super::fanout::{to_room_except, user_in_room};
use super::input::Input;
use super::order;
use super::rooms::{GENERAL, RoomName, room_name_of_key};
use super::roster::{Roster, user_in_room_here};

/// The internal room of `room` when this socket has joined it; `FORBIDDEN`
/// otherwise.
pub fn require_member<A: Adapter>(cx: &Cx<A>, room: &RoomName) -> Result<String, Error> {
    member_key(&cx.socket.rooms(), room)
}

/// [`require_member`] over the socket's room list.
pub fn member_key<R: AsRef<str>>(joined: &[R], room: &RoomName) -> Result<String, Error> {
    let key = room.key();
    if joined.iter().any(|r| r.as_ref() == key) {
        Ok(key)
    } else {
        Err(Error::Forbidden(format!(
            "Join the room '{}' first",
            room.name()
        )))
    }
}

/// `joinRoom {room, limit?}`.
pub async fn join_room<A: Adapter>(cx: Cx<A>, data: Value) -> Outcome {
    let input = Input::new(&data)?;
    let room = input.room()?;
    let limit = input.limit(&cx.st.app.config.limits)?;
    join(cx, room, limit).await
}

/// `join`: the tutorial's section 1.4, `joinRoom` for `general`.
pub async fn join_general<A: Adapter>(cx: Cx<A>, data: Value) -> Outcome {
    let limits = &cx.st.app.config.limits;
    let limit = match &data {
        Value::Object(_) => Input::new(&data)?.limit(limits)?,
        _ => limits.history_default,
    };
    join(cx, RoomName::Public(GENERAL.into()), limit).await
}

async fn join<A: Adapter>(cx: Cx<A>, room: RoomName, limit: u32) -> Outcome {
    check_access(&cx, &room).await?;
    let key = room.key();
    let already = cx.socket.rooms().iter().any(|r| *r == key);
    // Join before reading the page so no message falls between the two.
    let first = if already {
        false
    } else {
        arrive(&cx.socket, &cx.io, cx.st.roster.as_ref(), &cx.me, &key).await?
    };
    let page = cx
        .st
        .app
        .clients
        .message
        .clone()
        .list_messages(ListMessagesRequest {
            room: room.name(),
            before: None,
            after: None,
            limit,
        })
        .await;
    let page = match page {
        Ok(p) => p.into_inner(),
        Err(status) => {
            if !already {
                // Nobody heard of the join: nothing to announce either way.
                let roster = cx.st.roster.as_ref();
                let _ = depart(&cx.socket, &cx.io, roster, &cx.me, &key, Leaver::Event).await;
            }
            return Err(status.into());
        }
    };
    let links = cx.links();
    let messages = links.messages(page.messages);
    if let Err(e) = cx.socket.emit("previousMessages", &messages) {
        tracing::debug!(error = %e, "could not send previousMessages");
    }
    if first {
        let joined = json!({ "room": room.name(), "user": cx.me.username });
        to_room_except(&cx.socket, &cx.io, &key, "userJoined", &joined, false).await;
    }
    Ok(json!({ "ok": true, "room": room.name(), "messages": messages, "hasMore": page.has_more }))
}

/// Who may join: the room service's rules (public rooms: anyone not banned,
/// who becomes a member; private rooms: members; a direct-message room: its
/// two users, and only when the other one exists).
async fn check_access<A: Adapter>(cx: &Cx<A>, room: &RoomName) -> Result<(), Error> {
    if room.is_direct() {
        let peer = room.dm_peer(&cx.me.lower).ok_or_else(|| {
            Error::Forbidden("Only its two members can join a direct-message room".into())
        })?;
        let req = GetUserRequest {
            key: Some(get_user_request::Key::Username(peer.to_string())),
        };
        match cx.st.app.clients.auth.clone().get_user(req).await {
            Ok(_) => {}
            Err(s) if s.code() == tonic::Code::NotFound => {
                return Err(Error::NotFound(format!("There is no user named '{peer}'")));
            }
            Err(s) => return Err(s.into()),
        }
    }
    let req = JoinRoomRequest {
        room: room.name(),
        user: cx.me.username.clone(),
    };
    cx.st.app.clients.rooms.clone().join_room(req).await?;
    Ok(())
}

/// `leaveRoom {room}`: leaving a room the socket is not in is a no-op.
pub async fn leave_room<A: Adapter>(cx: Cx<A>, data: Value) -> Outcome {
    let room = Input::new(&data)?.room()?;
    let key = room.key();
    if cx.socket.rooms().iter().any(|r| *r == key) {
        let roster = cx.st.roster.as_ref();
        announce_left(&cx.socket, &cx.io, roster, &cx.me, &key, Leaver::Event).await?;
    }
    Ok(json!({ "ok": true }))
}

/// Joins this socket to room `key`; `true` when the user was in it on no
/// node before (announce `userJoined`). Through the roster when Redis is
/// up, so that of racing joins on several nodes exactly one is first.
pub async fn arrive<A: Adapter>(
    s: &SocketRef<A>,
    io: &SocketIo<A>,
    roster: Option<&Roster>,
    me: &Identity,
    key: &str,
) -> Result<bool, Error> {
    let (lower, username) = (me.lower.as_str(), me.username.as_str());
    let _order = order::lock(key, lower).await;
    if let Some(roster) = roster.filter(|r| r.is_up()) {
        let here = user_in_room_here(io, lower, key);
        take_in(s, key)?;
        if here {
            return Ok(false);
        }
        match roster.arrived(key, lower, username).await {
            Ok(first) => return Ok(first),
            Err(e) => {
                tracing::debug!(error = %e, "roster unavailable: this node's view decides");
                return Ok(true);
            }
        }
    }
    let first = !user_in_room(io, lower, key).await?;
    take_in(s, key)?;
    Ok(first)
}

/// Takes this socket out of room `key`; `true` when no socket of the user is
/// left in it on any node (announce `userLeft`).
async fn depart<A: Adapter>(
    s: &SocketRef<A>,
    io: &SocketIo<A>,
    roster: Option<&Roster>,
    me: &Identity,
    key: &str,
    by: Leaver,
) -> Result<bool, Error> {
    let (lower, username) = (me.lower.as_str(), me.username.as_str());
    let _order = order::lock(key, lower).await;
    if let Some(roster) = roster.filter(|r| r.is_up()) {
        if !take_out(s, key, by) {
            return Ok(false);
        }
        if user_in_room_here(io, lower, key) {
            return Ok(false);
        }
        match roster.departed(key, lower, username).await {
            Ok(last) => return Ok(last),
            Err(e) => tracing::debug!(error = %e, "roster unavailable: the adapter's view decides"),
        }
    }
    if !take_out(s, key, by) {
        return Ok(false);
    }
    Ok(!user_in_room(io, lower, key).await?)
}

/// Leaves room `key`, and announces `userLeft` when that was the user's
/// last socket in it.
async fn announce_left<A: Adapter>(
    s: &SocketRef<A>,
    io: &SocketIo<A>,
    roster: Option<&Roster>,
    me: &Identity,
    key: &str,
    by: Leaver,
) -> Result<(), Error> {
    if !depart(s, io, roster, me, key, by).await? {
        return Ok(());
    }
    let Some(name) = room_name_of_key(key) else {
        return Ok(());
    };
    let left = json!({ "room": name, "user": me.username });
    to_room_except(s, io, key, "userLeft", &left, false).await;
    Ok(())
}

/// A disconnect leaves every room the socket was in when it closed.
pub async fn on_disconnect<A: Adapter>(
    s: SocketRef<A>,
    io: SocketIo<A>,
    State(st): State<SocketState>,
    RoomsAtClose(keys): RoomsAtClose,
) {
    metrics::gauge!("chat_socket_connected", "namespace" => s.ns().to_string()).decrement(1.0);
    let Some(c) = conn(&s) else { return };
    let me = &c.me;
    // Let the events still queued for this socket finish first.
    let _turn = c.queue.last().wait().await;
    for key in keys {
        let roster = st.roster.as_ref();
        if let Err(e) = announce_left(&s, &io, roster, me, &key, Leaver::Disconnect).await {
            tracing::warn!(error = %e, room = key, "could not announce a departure");
        }
    }
    c.departure.announced();
    tracing::debug!(sid = %s.id, user = %me.username, "socket disconnected");
}
