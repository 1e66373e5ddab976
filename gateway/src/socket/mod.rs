//! Socket.IO namespaces `/`, `/chat` and `/notifications` (PROTOCOL.md §
//! Socket.IO), on socketioxide. Handlers are generic over the socketioxide
//! adapter and keep room state in socket.io rooms only, so a shared adapter
//! (Redis) spans several gateway nodes without changing them.

mod auth;
mod chat;
mod event;
mod fanout;
mod input;
mod limits;
mod membership;
mod mentions;
mod notifications;
mod payload;
mod presence;
mod rooms;
mod send;

use axum::Router;
use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;
use socketioxide::handler::ConnectHandler;
use socketioxide::{ParserConfig, SocketIo, SocketIoBuilder};

use crate::config::Parser;
use crate::error::Error;
use crate::state::AppState;

use self::auth::{authenticate, identity};
use self::event::{Sequencer, on, on_unknown};
use self::fanout::{CHAT_NAMESPACES, NOTIFICATIONS};
use self::limits::RateLimits;
use self::rooms::{name_key, user_key};

/// Socket-only state, handed to socketioxide as its state.
#[derive(Clone)]
pub struct SocketState {
    pub app: AppState,
    limits: RateLimits,
}

/// Wraps `router` with the Socket.IO layer.
pub async fn attach(state: AppState, router: Router) -> Result<Router, Error> {
    let st = SocketState {
        limits: RateLimits::new(&state.config.limits),
        app: state.clone(),
    };
    st.limits.spawn_cleanup();
    let builder = configure(SocketIo::builder(), &st);
    let (layer, io) = builder.build_layer();
    for ns in CHAT_NAMESPACES {
        io.ns(ns, connected.with(setup_chat).with(authenticate));
    }
    io.ns(
        NOTIFICATIONS,
        connected.with(setup_notifications).with(authenticate),
    );
    tracing::info!(parser = ?state.config.parser, "socket.io namespaces ready (in-memory adapter)");
    Ok(router.layer(layer))
}

fn configure<A: Adapter>(builder: SocketIoBuilder<A>, st: &SocketState) -> SocketIoBuilder<A> {
    let builder = builder.with_state(st.clone());
    match st.app.config.parser {
        Parser::Json => builder,
        Parser::Msgpack => builder.with_parser(ParserConfig::msgpack()),
    }
}

/// Everything happens in the middlewares, which run before socketioxide
/// tells the client it is connected: handlers registered later (in the
/// spawned connect handler) could miss the client's first events.
async fn connected() {}

fn count_connection<A: Adapter>(s: &SocketRef<A>) {
    metrics::counter!("chat_socket_connections_total", "namespace" => s.ns().to_string())
        .increment(1);
    metrics::gauge!("chat_socket_connected", "namespace" => s.ns().to_string()).increment(1.0);
}

async fn setup_chat<A: Adapter>(s: SocketRef<A>) -> Result<(), Error> {
    let me = identity(&s).ok_or_else(|| Error::Unauthorized("Authentication error".into()))?;
    s.extensions.insert(Sequencer::default());
    s.join([user_key(&me.lower), name_key(&me.username)]);
    on(&s, "joinRoom", membership::join_room::<A>);
    on(&s, "join", membership::join_general::<A>);
    on(&s, "leaveRoom", membership::leave_room::<A>);
    on(&s, "sendMessage", send::send_message::<A>);
    on(&s, "history", chat::history::<A>);
    on(&s, "editMessage", chat::edit_message::<A>);
    on(&s, "deleteMessage", chat::delete_message::<A>);
    on(&s, "typing", chat::typing::<A>);
    on(&s, "markRead", chat::mark_read::<A>);
    on(&s, "presence", presence::presence::<A>);
    on_unknown(&s);
    s.on_disconnect(membership::on_disconnect::<A>);
    count_connection(&s);
    tracing::debug!(sid = %s.id, ns = s.ns(), user = %me.username, "socket connected");
    Ok(())
}

async fn setup_notifications<A: Adapter>(s: SocketRef<A>) -> Result<(), Error> {
    let me = identity(&s).ok_or_else(|| Error::Unauthorized("Authentication error".into()))?;
    s.extensions.insert(Sequencer::default());
    s.join(user_key(&me.lower));
    on(
        &s,
        "sendNotification",
        notifications::send_notification::<A>,
    );
    on_unknown(&s);
    s.on_disconnect(async |s: SocketRef<A>| {
        metrics::gauge!("chat_socket_connected", "namespace" => s.ns().to_string()).decrement(1.0);
    });
    count_connection(&s);
    tracing::debug!(sid = %s.id, ns = s.ns(), user = %me.username, "socket connected");
    Ok(())
}
