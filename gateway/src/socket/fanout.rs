//! Emitting to client rooms and users. `/` and `/chat` are two doors into the
//! same rooms (history is shared), so room events reach both; everything goes
//! through the socket.io adapter so it reaches every node once the Redis
//! adapter is in place.

use serde::Serialize;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;

use crate::error::Error;

use super::rooms::user_key;

pub const CHAT_NAMESPACES: [&str; 2] = ["/", "/chat"];
pub const NOTIFICATIONS: &str = "/notifications";

pub fn adapter_error(e: impl std::fmt::Display) -> Error {
    tracing::warn!(error = %e, "socket.io adapter failed");
    Error::Unavailable("Room information is unavailable right now; please try again shortly".into())
}

/// Emits `event` to every socket in the room with internal name `key`.
pub async fn to_room<A: Adapter, T: Serialize + ?Sized>(
    io: &SocketIo<A>,
    key: &str,
    event: &str,
    data: &T,
) {
    for ns in CHAT_NAMESPACES {
        if let Some(op) = io.of(ns)
            && let Err(e) = op.to(key.to_string()).emit(event, data).await
        {
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
        if let Err(e) = op.emit(event, data).await {
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
        && let Err(e) = op.to(user_key(lower)).emit("notification", data).await
    {
        tracing::warn!(error = %e, "notification failed");
    }
}

/// Whether any chat socket of the user (lower-cased name) is in the room.
pub async fn user_in_room<A: Adapter>(
    io: &SocketIo<A>,
    lower: &str,
    key: &str,
) -> Result<bool, Error> {
    for ns in CHAT_NAMESPACES {
        let Some(op) = io.of(ns) else { continue };
        let rooms = op
            .within(user_key(lower))
            .rooms()
            .await
            .map_err(adapter_error)?;
        if rooms.iter().any(|r| r == key) {
            return Ok(true);
        }
    }
    Ok(false)
}
