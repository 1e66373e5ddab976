//! Socket.IO namespaces `/`, `/chat` and `/notifications` (PROTOCOL.md §
//! Socket.IO), on socketioxide. Handlers are generic over the socketioxide
//! adapter and keep room state in socket.io rooms only, so a shared adapter
//! (Redis) spans several gateway nodes without changing them.

mod auth;
mod avatar_sync;
mod buckets;
mod chat;
mod cluster;
mod event;
mod fanout;
mod gcra;
mod input;
mod limits;
mod membership;
mod mentions;
mod notifications;
mod payload;
mod presence;
mod reactions;
mod rooms;
mod search;
mod send;
#[cfg(test)]
mod test_redis;

use std::time::Duration;

use axum::Router;
use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;
use socketioxide::handler::ConnectHandler;
use socketioxide::{ParserConfig, SocketIo, SocketIoBuilder};
use socketioxide_core::adapter::DefinedAdapter;
use socketioxide_redis::{CustomRedisAdapter, RedisAdapterConfig, RedisAdapterCtr};

use crate::config::Parser;
use crate::error::Error;
use crate::state::AppState;

use self::auth::{authenticate, identity};
use self::cluster::RedisLink;
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

/// How long a question to every node (who is in a room) waits for the
/// answers; a node that stopped answering without closing its Redis
/// connection costs this much, and its sockets are left out of the answer.
const NODE_REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

/// Initial websocket read buffer, allocated per socket for its whole life
/// (engineioxide's default is 4 KiB). Client events are well under 1 KiB;
/// a larger frame still arrives whole, as tungstenite grows the buffer to
/// the frame's length, just over more reads. Measured: −3 KiB RSS per idle
/// socket.
const WS_READ_BUFFER: usize = 1024;

/// The socket.io adapter over Redis, through [`RedisLink`].
type RedisAdapter<E> = CustomRedisAdapter<E, RedisLink>;

/// Wraps `router` with the Socket.IO layer: over the Redis adapter when
/// `REDIS_URL` is set (every node sees every room), else the in-memory one.
pub async fn attach(state: AppState, router: Router) -> Result<Router, Error> {
    let link = match &state.config.redis_url {
        Some(url) => Some(RedisLink::connect(url).await?),
        None => None,
    };
    let st = SocketState {
        limits: RateLimits::new(&state.config.limits, link.clone()),
        app: state.clone(),
    };
    st.limits.spawn_cleanup();
    let parser = state.config.parser;
    let Some(link) = link else {
        let (layer, io) = configure(SocketIo::builder(), &st).build_layer();
        namespaces(&io);
        tracing::info!(
            ?parser,
            adapter = "in-memory",
            "socket.io ready: this node alone"
        );
        return Ok(router.layer(layer));
    };
    let ctr = RedisAdapterCtr::new_with_driver(
        link.clone(),
        RedisAdapterConfig::new()
            .with_prefix("chat-socket.io")
            .with_request_timeout(NODE_REQUEST_TIMEOUT),
    );
    let builder = SocketIo::builder().with_adapter::<RedisAdapter<_>>(ctr);
    let (layer, io) = configure(builder, &st).build_layer();
    for init in namespaces(&io) {
        init.await.map_err(|e| {
            Error::Io(std::io::Error::other(format!(
                "socket.io adapter could not subscribe on Redis: {e}"
            )))
        })?;
    }
    link.spawn_watchdog();
    avatar_sync::follow(&state.avatars, link.clone());
    let check = link.clone();
    state.clients.checks.register_degrading("redis", move || {
        let link = check.clone();
        async move { link.ping().await }
    });
    tracing::info!(?parser, adapter = "redis", redis = %link.addr(), "socket.io ready: rooms shared with every node on this Redis");
    Ok(router.layer(layer))
}

/// Declares the namespaces; what comes back is the adapter's start-up
/// (subscribing to Redis), nothing for the in-memory adapter.
fn namespaces<A: Adapter + DefinedAdapter>(io: &SocketIo<A>) -> Vec<A::InitRes> {
    let mut inits: Vec<A::InitRes> = CHAT_NAMESPACES
        .into_iter()
        .map(|ns| io.ns(ns, connected.with(setup_chat).with(authenticate)))
        .collect();
    inits.push(io.ns(
        NOTIFICATIONS,
        connected.with(setup_notifications).with(authenticate),
    ));
    inits
}

fn configure<A: Adapter>(builder: SocketIoBuilder<A>, st: &SocketState) -> SocketIoBuilder<A> {
    let builder = builder
        .with_state(st.clone())
        .req_path(crate::http::detach::SOCKET_IO_PATH)
        .ws_read_buffer_size(WS_READ_BUFFER);
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
    on(&s, "react", reactions::react::<A>);
    on(&s, "search", search::search::<A>);
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
