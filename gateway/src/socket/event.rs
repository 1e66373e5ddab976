//! How every client event is run: routing by name, payload extraction that
//! never fails silently, the socket's event budget and its place in the
//! socket's bounded queue (PROTOCOL.md § Limits; the queue itself is
//! `sequencer.rs`), the deadline, a tracing span, metrics, and the reply
//! (ack, or `chatError` without an ack callback).

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use futures::future::BoxFuture;
use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Event, SocketRef, State, TryData};
use socketioxide::handler::{FromMessageParts, Value as RawValue};
use socketioxide::socket::Socket;
use tracing::Instrument;

use crate::error::{Error, ErrorCode};

use super::SocketState;
use super::auth::Identity;
use super::budget::Verdict;
use super::conn::{Conn, conn};
use super::payload::Links;
use super::sequencer::Turn;

/// What a handler gets to work with.
pub struct Cx<A: Adapter> {
    pub socket: SocketRef<A>,
    pub io: SocketIo<A>,
    pub st: SocketState,
    pub me: Arc<Identity>,
}

impl<A: Adapter> Cx<A> {
    /// Media and avatar links as this socket should see them.
    pub fn links(&self) -> Links<'_> {
        Links {
            state: &self.st.app,
            base: &self.me.base_url,
        }
    }
}

/// The handler's answer: the success ack body, or an error for the client.
/// Most handlers build the body as a `Value`; a handler whose body is
/// already serialised (`sendMessage`, see `send::Sent`) answers with its
/// own `Serialize` type instead.
pub type Outcome<T = Value> = Result<T, Error>;

/// Gives every event of `s` to `route`, which picks its handler by name
/// (see [`route!`]).
///
/// One fallback handler per socket rather than one `socket.on` per event:
/// socketioxide keeps a socket's handlers in a map of boxed closures, per
/// socket, and ~25 of them were 1.3 KiB of every idle connection (massif,
/// bench/README.md). A match on the name costs no more than the map's
/// lookup did.
pub fn serve<A: Adapter>(s: &SocketRef<A>, route: fn(Call<A>) -> BoxFuture<'static, ()>) {
    s.on_fallback(
        move |Event(name): Event,
              inc: Incoming<A>,
              io: SocketIo<A>,
              State(st): State<SocketState>| { route(Call { name, inc, io, st }) },
    );
}

/// `route!(call, "event" => handler, ...)`: runs the handler the event's
/// name picks, or answers `INVALID_INPUT` for an unknown event.
macro_rules! route {
    ($call:expr, $($name:literal => $handler:expr),+ $(,)?) => {{
        let call: $crate::socket::event::Call<_> = $call;
        match call.name() {
            $($name => call.run($name, $handler),)+
            _ => call.unknown(),
        }
    }};
}
pub(crate) use route;

/// One event as it arrived, before its name has picked a handler.
pub struct Call<A: Adapter> {
    name: String,
    inc: Incoming<A>,
    io: SocketIo<A>,
    st: SocketState,
}

impl<A: Adapter> Call<A> {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `handler`; `label` names the event in metrics (a bounded set,
    /// unlike the names clients send).
    pub fn run<F, Fut, T>(self, label: &'static str, handler: F) -> BoxFuture<'static, ()>
    where
        F: FnOnce(Cx<A>, Value) -> Fut + Send + 'static,
        Fut: Future<Output = Outcome<T>> + Send + 'static,
        T: serde::Serialize + 'static,
    {
        // Boxed: socketioxide spawns this future, and tokio moves a spawned
        // future by value several times (into the task, then its stage when
        // done). The handler's state machine holds the gRPC call futures,
        // kilobytes: copying it cost more instructions than a send's own
        // work in the gateway (callgrind, see bench/README.md). A box moves
        // as a pointer. The box is allocated before the future is made so
        // the future is built in it: `Box::pin(run(..))` built it on the
        // stack and copied all of it (12k instructions a send).
        let slot: Box<std::mem::MaybeUninit<_>> = Box::new_uninit();
        let future = Box::write(
            slot,
            run(label, self.name.into(), self.inc, self.io, self.st, handler),
        );
        Box::into_pin(future)
    }

    /// Answers an event nobody handles with `INVALID_INPUT`.
    pub fn unknown(self) -> BoxFuture<'static, ()> {
        let msg = format!("Unknown event '{}'", self.name);
        self.run("unknown", async move |_, _| -> Outcome {
            Err(Error::InvalidInput(msg))
        })
    }
}

/// socketioxide sends the CONNECT packet and only then marks the socket
/// connected; a client that emits the moment it hears CONNECT can have its
/// event handled in between, when `emit` still refuses ("closed") while the
/// ack goes through — `previousMessages` would be lost. Wait out that gap
/// (microseconds), bounded so a socket that really closed does not hang.
async fn until_connected<A: Adapter>(socket: &SocketRef<A>) {
    let deadline = Instant::now() + std::time::Duration::from_secs(1);
    while !socket.connected() && Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
}

/// How much longer than one service call an event may take in all, from
/// its arrival to its ack (queueing and several calls included).
const DEADLINE_SLACK: std::time::Duration = std::time::Duration::from_millis(900);
const TOO_SLOW: &str = "The server could not finish this in time; please try again";
const SHUTTING_DOWN: &str = "This server is shutting down; reconnect and try again";

/// `label` names the event in metrics (a bounded set); `name` is the event
/// as the client sent it, for `chatError`.
async fn run<A, F, Fut, T>(
    label: &'static str,
    name: Cow<'static, str>,
    inc: Incoming<A>,
    io: SocketIo<A>,
    st: SocketState,
    handler: F,
) where
    A: Adapter,
    F: FnOnce(Cx<A>, Value) -> Fut,
    Fut: Future<Output = Outcome<T>>,
    T: serde::Serialize,
{
    let Incoming {
        socket,
        reply,
        data,
        turn,
        me,
    } = inc;
    let turn = match turn {
        Ok(turn) => turn,
        Err(refusal) => return refuse(socket, reply, &name, label, refusal),
    };
    let Some(me) = me else {
        reply.send::<Value>(
            &name,
            Err(Error::Unauthorized("Authentication error".into())),
        );
        return;
    };
    // Held until the ack is sent: a graceful stop waits for it.
    let Some(_in_flight) = st.app.drain.enter() else {
        reply.send::<Value>(&name, Err(Error::Unavailable(SHUTTING_DOWN.into())));
        return;
    };
    let deadline = tokio::time::Instant::now() + st.app.config.grpc_timeout + DEADLINE_SLACK;
    let span = tracing::info_span!(
        "socket_event",
        event = %name,
        sid = %socket.id,
        user = %me.username,
        ns = socket.ns()
    );
    async move {
        // Events of one socket run one after another, as they arrived, so a
        // `joinRoom` sent just before a `sendMessage` is applied first and
        // messages are stored in the order they were sent.
        let started = Instant::now();
        let work = async move {
            let _turn = turn.wait().await;
            until_connected(&socket).await;
            handler(Cx { socket, io, st, me }, data).await
        };
        // Whatever hangs (a frozen service or Redis, a long queue behind
        // them), the client hears back by the deadline and may resend.
        let outcome = tokio::time::timeout_at(deadline, work)
            .await
            .unwrap_or_else(|_| Err(Error::Unavailable(TOO_SLOW.into())));
        let outcome_label = match &outcome {
            Ok(_) => "ok",
            Err(e) => code_label(e.code()),
        };
        match &outcome {
            Err(e) if matches!(e.code(), ErrorCode::Internal | ErrorCode::Unavailable) => {
                tracing::warn!(error = ?e, "event failed");
            }
            Err(e) => tracing::debug!(error = %e, "event refused"),
            Ok(_) => tracing::debug!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                "event done"
            ),
        }
        metrics::counter!("chat_socket_events_total", "event" => label, "outcome" => outcome_label)
            .increment(1);
        metrics::histogram!("chat_socket_event_seconds", "event" => label)
            .record(started.elapsed().as_secs_f64());
        reply.send(&name, outcome);
    }
    .instrument(span)
    .await
}

/// Why an event was refused before it was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// The socket's event budget is spent.
    Budget,
    /// Spent for too long: the socket is disconnected after the answer.
    Flood,
    /// Too many of the socket's events are already waiting.
    Queue,
}

/// Answers a refused event at once, without waiting for the socket's queue.
fn refuse<A: Adapter>(
    socket: SocketRef<A>,
    reply: Reply<A>,
    name: &str,
    label: &'static str,
    refusal: Refusal,
) {
    let reason = match refusal {
        Refusal::Budget => "budget",
        Refusal::Flood => "flood",
        Refusal::Queue => "queue",
    };
    metrics::counter!("chat_socket_events_refused_total", "event" => label, "reason" => reason)
        .increment(1);
    let text = match refusal {
        Refusal::Queue => "Too many of your requests are still waiting; wait for their answers",
        _ => "You are sending too many requests; slow down",
    };
    reply.send::<Value>(name, Err(Error::RateLimited(text.into())));
    if refusal == Refusal::Flood {
        tracing::info!(sid = %socket.id, ns = socket.ns(), "socket disconnected for flooding");
        if let Err(e) = socket.disconnect() {
            tracing::debug!(error = %e, "could not disconnect a flooding socket");
        }
    }
}

/// Spends the event's token of the socket's budget and takes its place in
/// the socket's queue; a socket without them (none past the handshake)
/// passes.
fn admit(c: Option<&Conn>) -> Result<Turn, Refusal> {
    let Some(c) = c else {
        return Ok(Turn::default());
    };
    match c.budget.admit() {
        Verdict::Admit => {}
        Verdict::Refuse => return Err(Refusal::Budget),
        Verdict::Disconnect => return Err(Refusal::Flood),
    }
    c.queue.next().ok_or(Refusal::Queue)
}

fn code_label(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::InvalidInput => "INVALID_INPUT",
        ErrorCode::Unauthorized => "UNAUTHORIZED",
        ErrorCode::Forbidden => "FORBIDDEN",
        ErrorCode::NotFound => "NOT_FOUND",
        ErrorCode::Conflict => "CONFLICT",
        ErrorCode::RateLimited => "RATE_LIMITED",
        ErrorCode::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
        ErrorCode::Unavailable => "UNAVAILABLE",
        ErrorCode::Internal => "INTERNAL",
    }
}

/// Everything an event carries, extracted without ever failing: socketioxide
/// drops events whose extractors fail, and nothing may fail silently.
pub struct Incoming<A: Adapter> {
    socket: SocketRef<A>,
    reply: Reply<A>,
    /// The first argument; `null` when the client sent none (`join`).
    data: Value,
    turn: Result<Turn, Refusal>,
    /// Who sent it; `None` only for a socket the handshake refused.
    me: Option<Arc<Identity>>,
}

impl<A: Adapter> FromMessageParts<A> for Incoming<A> {
    type Error = std::convert::Infallible;

    fn from_message_parts(
        s: &Arc<Socket<A>>,
        v: &mut RawValue,
        ack_id: &Option<i64>,
    ) -> Result<Self, Self::Error> {
        let socket = SocketRef::from_message_parts(s, v, ack_id)?;
        let ack = AckSender::from_message_parts(s, v, ack_id)?;
        // Extraction runs synchronously in arrival order: the place to count
        // the event and take a ticket. A refused event's payload is never
        // even decoded, so a flood costs little.
        let conn = conn(s);
        let turn = admit(conn.as_deref());
        let data = match turn {
            Ok(_) => TryData::<Value>::from_message_parts(s, v, ack_id)?.0,
            Err(_) => Ok(Value::Null),
        };
        Ok(Incoming {
            reply: Reply {
                ack: ack_id.is_some().then_some(ack),
                socket: socket.clone(),
            },
            socket,
            data: data.unwrap_or(Value::Null),
            turn,
            me: conn.map(|c| c.me.clone()),
        })
    }
}

/// Sends the outcome of an event: to the ack callback when the client gave
/// one, else failures as `chatError`.
struct Reply<A: Adapter> {
    ack: Option<AckSender<A>>,
    socket: SocketRef<A>,
}

impl<A: Adapter> Reply<A> {
    fn send<T: serde::Serialize>(self, event: &str, outcome: Outcome<T>) {
        let res = match (self.ack, outcome) {
            (Some(ack), Ok(v)) => ack.send(&v),
            (Some(ack), Err(e)) => ack.send(&e.ack()),
            (None, Ok(_)) => Ok(()),
            (None, Err(e)) => self.socket.emit("chatError", &e.chat_error(event)),
        };
        if let Err(e) = res {
            tracing::debug!(error = %e, "could not reply to the socket");
        }
    }
}
