//! Emitting to client rooms and users. `/` and `/chat` are two doors into the
//! same rooms (history is shared), so room events reach both; everything goes
//! through the socket.io adapter so it reaches every node when the adapter
//! is Redis. When the adapter cannot reach the other nodes (Redis down), the
//! event still reaches this node's sockets, and room lists are this node's.

use std::time::Duration;

use futures::future::try_join_all;
use serde::Serialize;
use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;
use socketioxide::operators::BroadcastOperators;
use socketioxide::{BroadcastError, SocketIo};

use crate::error::Error;

use super::rooms::user_key;

pub const CHAT_NAMESPACES: [&str; 2] = ["/", "/chat"];
pub const NOTIFICATIONS: &str = "/notifications";

/// How long a cross-node operation may take before this node answers on its
/// own. Above the Redis adapter's request timeout (see `cluster`), which
/// bounds the wait for a node that stopped answering.
const REMOTE_TIMEOUT: Duration = Duration::from_secs(3);

pub fn adapter_error(e: impl std::fmt::Display) -> Error {
    tracing::warn!(error = %e, "socket.io adapter failed");
    Error::Unavailable("Room information is unavailable right now; please try again shortly".into())
}

/// Emits through the adapter; when it cannot reach the other nodes (the
/// request to Redis failed, hence nothing was delivered yet, not even here),
/// emits to this node's sockets only.
async fn emit<A: Adapter, T: Serialize + ?Sized>(
    op: BroadcastOperators<A>,
    event: &str,
    data: &T,
) -> Result<(), BroadcastError> {
    match tokio::time::timeout(REMOTE_TIMEOUT, op.clone().emit(event, data)).await {
        Ok(Err(BroadcastError::Adapter(e))) => {
            tracing::debug!(error = %e, event, "cross-node delivery failed: this node only");
            op.local().emit(event, data).await
        }
        Ok(res) => res,
        Err(_) => {
            tracing::warn!(event, "cross-node delivery timed out: this node only");
            op.local().emit(event, data).await
        }
    }
}

/// The rooms of the sockets that `op` selects, on every node; this node's
/// alone when the others cannot be asked.
async fn rooms_of<A: Adapter>(op: BroadcastOperators<A>) -> Result<Vec<String>, Error> {
    let rooms = match tokio::time::timeout(REMOTE_TIMEOUT, op.clone().rooms()).await {
        Ok(Ok(rooms)) => rooms,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "cross-node room lookup failed: this node only");
            op.local().rooms().await.map_err(adapter_error)?
        }
        Err(_) => {
            tracing::warn!("cross-node room lookup timed out: this node only");
            op.local().rooms().await.map_err(adapter_error)?
        }
    };
    Ok(rooms.into_iter().map(|r| r.to_string()).collect())
}

/// Emits `event` to every socket in the room with internal name `key`.
pub async fn to_room<A: Adapter, T: Serialize + ?Sized>(
    io: &SocketIo<A>,
    key: &str,
    event: &str,
    data: &T,
) {
    for ns in CHAT_NAMESPACES {
        let Some(op) = io.of(ns) else { continue };
        if let Err(e) = emit(op.to(key.to_string()), event, data).await {
            tracing::warn!(error = %e, ns, event, "room broadcast failed");
        }
    }
}

/// Like [`to_room`] but without `sender`; `volatile` events may be dropped
/// for sockets that are not ready (typing indicators).
pub async fn to_room_except<A: Adapter, T: Serialize + ?Sized>(
    sender: &SocketRef<A>,
    io: &SocketIo<A>,
    key: &str,
    event: &str,
    data: &T,
    volatile: bool,
) {
    for ns in CHAT_NAMESPACES {
        let op = if ns == sender.ns() {
            Some(sender.to(key.to_string()))
        } else {
            io.of(ns).map(|op| op.to(key.to_string()))
        };
        let Some(op) = op else { continue };
        let op = if volatile { op.volatile() } else { op };
        if let Err(e) = emit(op, event, data).await {
            tracing::debug!(error = %e, ns, event, "broadcast failed");
        }
    }
}

/// Sends a `notification` to every `/notifications` socket of a user.
pub async fn notify_user<A: Adapter, T: Serialize + ?Sized>(
    io: &SocketIo<A>,
    lower: &str,
    data: &T,
) {
    if let Some(op) = io.of(NOTIFICATIONS)
        && let Err(e) = emit(op.to(user_key(lower)), "notification", data).await
    {
        tracing::warn!(error = %e, "notification failed");
    }
}

/// Sends a `notification` to every `/notifications` socket.
pub async fn notify_all<A: Adapter, T: Serialize + ?Sized>(io: &SocketIo<A>, data: &T) {
    if let Some(op) = io.of(NOTIFICATIONS)
        && let Err(e) = emit(op, "notification", data).await
    {
        tracing::warn!(error = %e, "notification broadcast failed");
    }
}

/// Whether any chat socket of the user (lower-cased name), on any node, is
/// in the room.
pub async fn user_in_room<A: Adapter>(
    io: &SocketIo<A>,
    lower: &str,
    key: &str,
) -> Result<bool, Error> {
    let rooms = chat_rooms_of(io, &user_key(lower)).await?;
    Ok(rooms.iter().any(|r| r == key))
}

/// The rooms of every chat socket in room `key`, both namespaces asked at
/// once so a node that does not answer costs one request timeout, not two.
pub async fn chat_rooms_of<A: Adapter>(io: &SocketIo<A>, key: &str) -> Result<Vec<String>, Error> {
    let lookups = CHAT_NAMESPACES
        .into_iter()
        .filter_map(|ns| io.of(ns))
        .map(|op| rooms_of(op.within(key.to_string())));
    Ok(try_join_all(lookups).await?.concat())
}

/// The usernames (as registered) with a chat socket on any node: the rooms
/// of every chat socket include its `n:` room.
pub async fn connected_users<A: Adapter>(io: &SocketIo<A>) -> Result<Vec<String>, Error> {
    let lookups = CHAT_NAMESPACES
        .into_iter()
        .filter_map(|ns| io.of(ns))
        .map(rooms_of);
    let rooms = try_join_all(lookups).await?.concat();
    Ok(rooms
        .iter()
        .filter_map(|r| super::rooms::username_of_name_key(r))
        .map(str::to_string)
        .collect())
}
