//! Socket.IO namespaces `/`, `/chat` and `/notifications` (PROTOCOL.md §
//! Socket.IO), on socketioxide. Handlers are generic over the socketioxide
//! adapter and keep room state in socket.io rooms only, so a shared adapter
//! (Redis) spans several gateway nodes without changing them.

mod auth;
mod avatar_sync;
mod buckets;
mod budget;
mod chat;
mod cluster;
mod conn;
mod delivered;
mod departure;
mod event;
mod expiry;
mod fanout;
#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod fuzz_frames;
mod gcra;
pub(crate) mod input;
mod join_all;
mod limits;
mod membership;
pub(crate) mod mentions;
mod notifications;
mod order;
mod payload;
mod presence;
mod reactions;
mod room_admin;
pub(crate) mod rooms;
mod roster;
pub(crate) mod search;
mod send;
mod sequencer;
mod sessions;
#[cfg(test)]
mod test_redis;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use futures::future::BoxFuture;
use serde_json::Value;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{SocketRef, State, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::{ParserConfig, SocketIo, SocketIoBuilder};
use socketioxide_core::adapter::DefinedAdapter;
use socketioxide_redis::{CustomRedisAdapter, RedisAdapterConfig, RedisAdapterCtr};

use crate::config::Parser;
use crate::error::Error;
use crate::http::socket_request;
use crate::state::AppState;

use self::auth::{authenticate, identity};
use self::cluster::RedisLink;
use self::conn::conn;
use self::event::{Call, route};
use self::fanout::{CHAT_NAMESPACES, NOTIFICATIONS};
use self::limits::RateLimits;
use self::rooms::{name_key, user_key};

/// Socket-only state, handed to socketioxide as its state. One reference
/// count to clone: socketioxide's `State` extractor clones it for every
/// event.
#[derive(Clone)]
pub struct SocketState(Arc<SocketShared>);

impl std::ops::Deref for SocketState {
    type Target = SocketShared;

    fn deref(&self) -> &SocketShared {
        &self.0
    }
}

/// What [`SocketState`] shares.
pub struct SocketShared {
    pub app: AppState,
    limits: RateLimits,
    /// Cluster-wide room membership, with Redis.
    roster: Option<roster::Roster>,
    /// Recently broadcast messages, for resends.
    delivered: Arc<delivered::Delivered>,
    /// This node's sockets by token expiry.
    expiries: expiry::Expiries,
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

/// This node's sockets, whatever the adapter, for a graceful stop.
#[derive(Clone)]
pub struct Sockets(Arc<dyn Fn(bool) -> BoxFuture<'static, ()> + Send + Sync>);

impl Sockets {
    fn of<A: Adapter>(io: SocketIo<A>) -> Self {
        Sockets(Arc::new(move |close| {
            let io = io.clone();
            Box::pin(async move {
                if close {
                    io.close().await;
                    return;
                }
                for ns in CHAT_NAMESPACES.into_iter().chain([NOTIFICATIONS]) {
                    let Some(op) = io.of(ns) else { continue };
                    // `local`: the other nodes keep their sockets.
                    if let Err(e) = op.local().disconnect().await {
                        tracing::warn!(error = %e, ns, "could not disconnect the sockets");
                    }
                }
            })
        }))
    }

    /// Disconnects every socket of this node from the server side: clients
    /// hear `io server disconnect` and reconnect (to another node).
    pub async fn disconnect_all(&self) {
        (self.0)(false).await
    }

    /// Closes whatever transports are still open.
    pub async fn close(&self) {
        (self.0)(true).await
    }
}

/// Wraps `router` with the Socket.IO layer: over the Redis adapter when
/// `REDIS_URL` is set (every node sees every room), else the in-memory one.
pub async fn attach(state: AppState, router: Router) -> Result<(Router, Sockets), Error> {
    let link = match &state.config.redis_url {
        Some(url) => Some(RedisLink::connect(url).await?),
        None => None,
    };
    let st = SocketState(Arc::new(SocketShared {
        limits: RateLimits::new(&state.config.limits, link.clone()),
        roster: link.clone().map(roster::Roster::new),
        delivered: Arc::new(delivered::Delivered::new(link.clone())),
        expiries: expiry::Expiries::default(),
        app: state.clone(),
    }));
    st.limits.spawn_cleanup();
    let parser = state.config.parser;
    let Some(link) = link else {
        let (layer, io) = configure(SocketIo::builder(), &st).build_layer();
        namespaces(&io);
        sessions::enforce(&st.expiries, &state.verifier.revocations, io.clone(), None).await?;
        tracing::info!(
            ?parser,
            adapter = "in-memory",
            "socket.io ready: this node alone"
        );
        return Ok((whole(layer, router), Sockets::of(io)));
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
    sessions::enforce(
        &st.expiries,
        &state.verifier.revocations,
        io.clone(),
        Some(link.clone()),
    )
    .await?;
    link.spawn_watchdog();
    if let Some(roster) = &st.roster {
        roster.spawn(io.clone());
    }
    avatar_sync::follow(&state.avatars, link.clone());
    let check = link.clone();
    state.clients.checks.register_degrading("redis", move || {
        let link = check.clone();
        async move { link.ping().await }
    });
    tracing::info!(?parser, adapter = "redis", redis = %link.addr(), "socket.io ready: rooms shared with every node on this Redis");
    Ok((whole(layer, router), Sockets::of(io)))
}

/// `router` behind the Socket.IO layer, as one service: `Router::layer`
/// would wrap each route in its own box, cloned for every request. A
/// Socket.IO request reaches engineioxide trimmed to what it reads
/// ([`socket_request`]).
fn whole<A: Adapter>(layer: socketioxide::layer::SocketIoLayer<A>, router: Router) -> Router {
    let service = tower::ServiceBuilder::new()
        .layer(socket_request::layer())
        .layer(layer)
        .service(router);
    Router::new().fallback_service(service)
}

/// Declares the namespaces; what comes back is the adapter's start-up
/// (subscribing to Redis), nothing for the in-memory adapter.
fn namespaces<A: Adapter + DefinedAdapter>(io: &SocketIo<A>) -> Vec<A::InitRes> {
    let mut inits: Vec<A::InitRes> = CHAT_NAMESPACES
        .into_iter()
        .map(|ns| io.ns(ns, join_all::join::<A>.with(setup_chat).with(authenticate)))
        .collect();
    inits.push(io.ns(
        NOTIFICATIONS,
        connected.with(setup_notifications).with(authenticate),
    ));
    inits
}

/// Packets queued for one socket before `emit` refuses (socketioxide's
/// default is 128). Engine.IO's heartbeat ping goes through the same queue:
/// a client flooding events fills it with its own refusals (`chatError`),
/// and with the short heartbeat (`PING_INTERVAL_MS`) a full queue at ping
/// time closed the socket after 5 s instead of the 10 s of refusals the
/// contract allows. tokio's channel allocates slots in blocks of 32 as they
/// fill, so an idle socket pays nothing for the larger bound.
const MAX_BUFFERED_PACKETS: usize = 1024;

/// Binary attachments one packet may announce: the chat events carry none,
/// and socketioxide's default (10 000) lets one packet hold the socket's
/// parser open waiting for that many frames.
pub(crate) const MAX_BINARY_ATTACHMENTS: usize = 16;

/// The packet size cap (PROTOCOL.md § Limits): one WebSocket message
/// (engineioxide's own default is 64 MiB) or long-polling body, and the
/// binary attachments of one packet, at most `MAX_PACKET_BYTES`; anything
/// bigger closes the connection.
fn configure<A: Adapter>(builder: SocketIoBuilder<A>, st: &SocketState) -> SocketIoBuilder<A> {
    let max = st.app.config.limits.max_packet_bytes;
    let max_usize = usize::try_from(max).unwrap_or(usize::MAX);
    let builder = builder
        .with_state(st.clone())
        .req_path(socket_request::SOCKET_IO_PATH)
        .ws_read_buffer_size(WS_READ_BUFFER)
        .ping_interval(st.app.config.ping_interval)
        .ping_timeout(st.app.config.ping_timeout)
        .max_buffer_size(MAX_BUFFERED_PACKETS)
        .max_payload(max)
        .ws_max_message_size(max_usize)
        .ws_max_frame_size(max_usize);
    match st.app.config.parser {
        Parser::Json => builder.with_parser(
            ParserConfig::common()
                .max_incoming_binary_buf_size(max_usize)
                .max_incoming_binaries(MAX_BINARY_ATTACHMENTS),
        ),
        Parser::Msgpack => builder.with_parser(ParserConfig::msgpack()),
    }
}

/// Everything happens in the middlewares, which run before socketioxide
/// tells the client it is connected: handlers registered later (in the
/// spawned connect handler) could miss the client's first events. (The
/// chat namespaces' connect handler only does what must wait for the
/// connection: `join_all::join`.)
async fn connected() {}

fn count_connection<A: Adapter>(s: &SocketRef<A>) {
    metrics::counter!("chat_socket_connections_total", "namespace" => s.ns().to_string())
        .increment(1);
    metrics::gauge!("chat_socket_connected", "namespace" => s.ns().to_string()).increment(1.0);
}

async fn setup_chat<A: Adapter>(
    s: SocketRef<A>,
    State(st): State<SocketState>,
    TryData(auth): TryData<Value>,
) -> Result<(), Error> {
    let c = conn(&s).ok_or_else(|| Error::Unauthorized("Authentication error".into()))?;
    c.departure.hold(st.app.drain.socket());
    let me = &c.me;
    s.join([user_key(&me.lower), name_key(&me.username)]);
    let all = auth
        .ok()
        .and_then(|a| a.get("rooms").cloned())
        .is_some_and(|r| r == "all");
    if all {
        join_all::rooms_of_user(&s, &st, me).await?;
    }
    event::serve(&s, chat_event::<A>);
    s.on_disconnect(membership::on_disconnect::<A>);
    count_connection(&s);
    tracing::debug!(sid = %s.id, ns = s.ns(), user = %me.username, "socket connected");
    Ok(())
}

/// The `/chat` events (PROTOCOL.md § Socket.IO), by name.
fn chat_event<A: Adapter>(call: Call<A>) -> BoxFuture<'static, ()> {
    route!(call,
        "joinRoom" => membership::join_room::<A>,
        "join" => membership::join_general::<A>,
        "leaveRoom" => membership::leave_room::<A>,
        "sendMessage" => send::send_message::<A>,
        "history" => chat::history::<A>,
        "editMessage" => chat::edit_message::<A>,
        "deleteMessage" => chat::delete_message::<A>,
        "typing" => chat::typing::<A>,
        "markRead" => chat::mark_read::<A>,
        "presence" => presence::presence::<A>,
        "renewToken" => sessions::renew_token::<A>,
        "createRoom" => room_admin::create_room::<A>,
        "rooms" => room_admin::rooms::<A>,
        "members" => room_admin::members::<A>,
        "invite" => room_admin::invite::<A>,
        "removeMember" => room_admin::remove_member::<A>,
        "unban" => room_admin::unban::<A>,
        "setRole" => room_admin::set_role::<A>,
        "setTopic" => room_admin::set_topic::<A>,
        "react" => reactions::react::<A>,
        "search" => search::search::<A>,
    )
}

/// The `/notifications` events, by name.
fn notifications_event<A: Adapter>(call: Call<A>) -> BoxFuture<'static, ()> {
    route!(call,
        "sendNotification" => notifications::send_notification::<A>,
        "renewToken" => sessions::renew_token::<A>,
    )
}

async fn setup_notifications<A: Adapter>(s: SocketRef<A>) -> Result<(), Error> {
    let me = identity(&s).ok_or_else(|| Error::Unauthorized("Authentication error".into()))?;
    s.join(user_key(&me.lower));
    event::serve(&s, notifications_event::<A>);
    s.on_disconnect(async |s: SocketRef<A>| {
        metrics::gauge!("chat_socket_connected", "namespace" => s.ns().to_string()).decrement(1.0);
    });
    count_connection(&s);
    tracing::debug!(sid = %s.id, ns = s.ns(), user = %me.username, "socket connected");
    Ok(())
}
