//! Sockets bound to their session and token (PROTOCOL.md § Sessions).
//!
//! Every socket joins the internal room of its session (`s:<sid>`; client
//! rooms all live under `r:`, so no client can join it). When this node
//! learns that a session ended ([`crate::revocations`]), its own sockets in
//! that room get `sessionEnded {reason}` and are disconnected; every node
//! does the same for its own sockets, since every node learns every ending
//! (Redis pub/sub on [`CHANNEL`], plus the catch-up of
//! `crate::session_sync`). A socket also lives no longer than its token:
//! the node's sweeper (`super::expiry`) ends it at `exp` unless
//! `renewToken` moved `exp` on.

use futures::StreamExt;
use serde_json::{Value, json};
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;
use socketioxide_redis::drivers::Driver;

use crate::error::Error;
use crate::revocations::{Ending, Revocations};
use crate::token::Claims;

use super::cluster::RedisLink;
use super::conn::conn;
use super::event::{Cx, Outcome};
use super::expiry::{Expiries, Lease};
use super::fanout::{CHAT_NAMESPACES, NOTIFICATIONS};

pub const SESSION_ENDED: &str = "sessionEnded";
/// The Redis channel session endings are announced on.
pub const CHANNEL: &str = "chat:sessions:ended";
const EXPIRED: &str = "expired";

/// The internal room of every socket of one session.
pub fn session_key(sid: &str) -> String {
    format!("s:{sid}")
}

/// Tells the socket why and disconnects it; the event is queued before the
/// disconnect packet, so the client sees it first.
fn end_socket<A: Adapter>(s: SocketRef<A>, reason: &str) {
    if let Err(e) = s.emit(SESSION_ENDED, &json!({ "reason": reason })) {
        tracing::debug!(error = %e, sid = %s.id, "could not send sessionEnded");
    }
    tracing::info!(sid = %s.id, ns = s.ns(), reason, "socket of an ended session disconnected");
    if let Err(e) = s.disconnect() {
        tracing::debug!(error = %e, "could not disconnect the socket");
    }
}

/// Binds a freshly authenticated socket to its session and token, for as
/// long as the lease is kept.
pub fn bind<A: Adapter>(s: &SocketRef<A>, expiries: &Expiries, claims: &Claims) -> Lease {
    s.join(session_key(&claims.sid));
    expiries.lease(s.ns(), s.id, claims.exp)
}

/// What the sweeper does to a socket whose token ran out.
fn end_expired<A: Adapter>(s: SocketRef<A>) {
    end_socket(s, EXPIRED);
}

/// `renewToken {token}` → `{ok: true}`: the socket now lives on `token`,
/// which must be valid, of a live session and of the same user.
pub async fn renew_token<A: Adapter>(cx: Cx<A>, data: Value) -> Outcome {
    let refused = || Error::Unauthorized("That token is not a valid token of this user".into());
    let token = data
        .get("token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(refused)?;
    let claims = cx
        .st
        .app
        .verifier
        .verify(token)
        .await
        .map_err(|_| refused())?;
    let conn = conn(&cx.socket).ok_or_else(refused)?;
    if claims.sub != conn.me.user_id {
        return Err(refused());
    }
    // A fresh token of another session of the user binds the socket to that
    // one too: ending either ends the socket.
    cx.socket.join(session_key(&claims.sid));
    conn.lease.extend(claims.exp);
    Ok(json!({ "ok": true }))
}

/// Ends this node's sockets of each ending's session.
fn end_local<A: Adapter>(io: &SocketIo<A>, endings: &[Ending]) {
    for ns in CHAT_NAMESPACES.into_iter().chain([NOTIFICATIONS]) {
        let Some(op) = io.of(ns) else { continue };
        for e in endings {
            let room = session_key(&e.session_id);
            for s in op.clone().local().to(room).sockets() {
                end_socket(s, &e.reason);
            }
        }
    }
}

/// Starts everything that ends this node's sockets with their sessions:
/// the sweeper for expired tokens, and the follower of ended sessions.
pub async fn enforce<A: Adapter>(
    expiries: &Expiries,
    revocations: &Revocations,
    io: SocketIo<A>,
    link: Option<RedisLink>,
) -> Result<(), Error> {
    expiries.sweep(io.clone(), end_expired);
    follow(revocations, io, link).await
}

/// Wires endings to this node's sockets and, with Redis, to every node.
async fn follow<A: Adapter>(
    revocations: &Revocations,
    io: SocketIo<A>,
    link: Option<RedisLink>,
) -> Result<(), Error> {
    revocations.on_end(move |endings| end_local(&io, endings));
    let Some(link) = link else { return Ok(()) };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Vec<Ending>>();
    revocations.set_publisher(tx);
    let publisher = link.clone();
    tokio::spawn(async move {
        while let Some(endings) = rx.recv().await {
            let Ok(payload) = serde_json::to_vec(&endings) else {
                continue;
            };
            // Lost while Redis is down: the other nodes catch up from the
            // auth service within a second.
            if let Err(e) = publisher.publish(CHANNEL.into(), payload).await {
                tracing::warn!(error = %e, "could not announce session endings on Redis");
            }
        }
    });
    let mut stream = link
        .subscribe(CHANNEL.into(), 1024)
        .await
        .map_err(|e| Error::Io(std::io::Error::other(format!("Redis subscribe: {e}"))))?;
    let revocations = revocations.clone();
    tokio::spawn(async move {
        while let Some((_, payload)) = stream.next().await {
            match serde_json::from_slice::<Vec<Ending>>(&payload) {
                Ok(endings) => {
                    revocations.record(&endings);
                }
                Err(e) => tracing::warn!(error = %e, "unreadable session ending on Redis"),
            }
        }
    });
    Ok(())
}
