//! `chat-bench-floor`: the reference server (`bench/reference/server.js`)
//! rewritten in Rust on the same crates as our gateway. It uses axum and
//! socketioxide with their defaults (but for the gateway's 1 KiB websocket
//! read buffer, and TCP_NODELAY, which Node's http server also sets),
//! jsonwebtoken, and keeps messages in memory. It has none of the gateway's
//! work: no persistence, no gRPC, no limits, no sessions.
//!
//! The bench runs it as the system `floor`. What it costs is the least any
//! server built on socketioxide and engineioxide can cost for these
//! scenarios. Issue 17's targets are ratios to Node. Where the floor itself
//! misses a target, no change to our own code can meet it without leaving
//! those crates; where the floor meets it, the gap is ours to close.
//!
//! With `FLOOR_HOP` set it is the system `floor-distributed` (`hop.rs`):
//! each send also makes one `PostMessages` round trip over gRPC with
//! mutual TLS to another process that answers at once, the least the split
//! layout's hop to the message service can cost.
//!
//! With `FLOOR_DB` set (`chat-bench --durable-floors`) each send is also
//! committed to SQLite before it is broadcast and acknowledged — by the
//! echo, in the split floor (`journal.rs`): the least that storing every
//! message adds.
//!
//! Like the reference, it serves exactly what the bench uses: `POST
//! /register`, `GET /healthz`, and the `/chat` and `/` namespaces with
//! `joinRoom`, `sendMessage` and `history`. It is not a chat server: there
//! are no passwords (registration only names a user) and nothing is kept
//! past the process.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, Data, Extension, SocketRef, State, TryData};
use socketioxide::handler::ConnectHandler;

mod hop;
mod journal;
use hop::Hop;
use journal::{Ids, Journal, Row};

/// Matches the reference's `listen` backlog (Node's default).
const BACKLOG: u32 = 511;

#[derive(Clone)]
struct Floor {
    keys: Arc<Keys>,
    rooms: Arc<Mutex<HashMap<String, Vec<Arc<Message>>>>>,
    /// Message ids, and each send committed first with `FLOOR_DB` (unless
    /// there is a hop: the echo commits instead).
    ids: Arc<Ids>,
    /// The split floor's other process, when `FLOOR_HOP` names it.
    hop: Option<Arc<Hop>>,
}

struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl_secs: u64,
}

#[derive(Serialize, Deserialize)]
struct Claims {
    sub: String,
    username: String,
    exp: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Message {
    id: String,
    room: String,
    sender: String,
    content: String,
    avatar: Option<String>,
    timestamp: String,
    client_id: Option<String>,
    attachments: [(); 0],
    edited_at: Option<String>,
    deleted: bool,
}

/// The acknowledgement of `joinRoom` (with `room`) and of `history`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Page<'a> {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    room: Option<&'a str>,
    messages: Messages<'a>,
    has_more: bool,
}

/// Stored messages as a JSON array (serde's `rc` feature would do this, but
/// turning it on rebuilds everything in the workspace that uses serde).
struct Messages<'a>(&'a [Arc<Message>]);

impl Serialize for Messages<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        ser.collect_seq(self.0.iter().map(|m| &**m))
    }
}

#[derive(Serialize)]
struct Sent<'a> {
    ok: bool,
    message: &'a Message,
}

/// Who a socket is, from its token.
#[derive(Clone)]
struct User(Arc<str>);

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // As every one of our binaries does. Without a subscriber each of h2's
    // and socketioxide's spans is handed to `log` instead (tracing's `log`
    // feature, which a dependency turns on): a few thousand instructions a
    // send that our processes do not pay.
    chat_common::telemetry::init();
    let args: Vec<String> = std::env::args().collect();
    if let [_, mode, addr] = &args[..]
        && mode == "echo"
    {
        let listener = tokio::net::TcpListener::bind(addr.parse::<SocketAddr>()?).await?;
        let ids = Ids::new(Journal::from_env()?);
        return Ok(hop::serve(listener, hop::credentials()?, ids).await?);
    }
    let hop = match std::env::var("FLOOR_HOP") {
        Ok(url) => Some(Arc::new(Hop::connect(&url, &hop::credentials()?).await?)),
        Err(_) => None,
    };
    let journal = match hop {
        None => Journal::from_env()?,
        Some(_) => None,
    };
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(5002);
    let ttl_secs = std::env::var("ACCESS_TOKEN_TTL_SECS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(15 * 60);
    let secret: [u8; 32] = rand::random();
    let floor = Floor {
        keys: Arc::new(Keys {
            encoding: EncodingKey::from_secret(&secret),
            decoding: DecodingKey::from_secret(&secret),
            ttl_secs,
        }),
        rooms: Arc::default(),
        ids: Arc::new(Ids::new(journal)),
        hop,
    };
    // engineioxide's defaults, but for the websocket read buffer: 1 KiB as
    // the gateway sets it, since that is memory per socket that any
    // server on these crates can save.
    let (layer, io) = SocketIo::builder()
        .with_state(floor.clone())
        .ws_read_buffer_size(1024)
        .build_layer();
    for ns in ["/chat", "/"] {
        io.ns(ns, connected.with(authenticate));
    }
    let app = axum::Router::new()
        .route("/register", post(register))
        .route(
            "/healthz",
            get(|| async { Json(serde_json::json!({ "status": "ok" })) }),
        )
        .with_state(floor)
        .layer(layer);
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(SocketAddr::from(([127, 0, 0, 1], port)))?;
    let listener = socket.listen(BACKLOG)?;
    // TCP_NODELAY on every accepted socket, as the gateway and Node's http
    // server (`noDelay`, on by default since Node 18) both set it. Without
    // it, Nagle's algorithm let this server's small writes wait in the
    // kernel: at 10,000 sends/s it used 0.49 cores instead of 0.93, and at
    // middling rates its p99 was 30–41 ms (delayed ACKs) instead of 2 ms.
    // A floor no server that answers promptly could stand on.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    println!("floor listening on {port}");
    // As the gateway does: a bare `Router` would be rebuilt per connection.
    axum::serve(listener, app.into_make_service()).await?;
    Ok(())
}

#[derive(Deserialize)]
struct Register {
    username: String,
}

async fn register(
    axum::extract::State(floor): axum::extract::State<Floor>,
    Json(body): Json<Register>,
) -> Result<(StatusCode, Json<serde_json::Value>), (StatusCode, String)> {
    let exp = unix_secs() + floor.keys.ttl_secs;
    let claims = Claims {
        sub: uuid::Uuid::new_v4().to_string(),
        username: body.username,
        exp,
    };
    let token = jsonwebtoken::encode(&Header::default(), &claims, &floor.keys.encoding)
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let user = serde_json::json!({ "id": claims.sub, "username": claims.username });
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "token": token, "user": user })),
    ))
}

/// socketioxide sends CONNECT before it spawns the connect handler, so the
/// event handlers are set here, in the middleware, before the client can
/// send anything (as the gateway does).
async fn authenticate(
    s: SocketRef,
    State(floor): State<Floor>,
    TryData(auth): TryData<serde_json::Value>,
) -> Result<(), &'static str> {
    let token = auth
        .ok()
        .and_then(|a| a.get("token")?.as_str().map(str::to_owned))
        .ok_or("No token provided")?;
    let claims =
        jsonwebtoken::decode::<Claims>(&token, &floor.keys.decoding, &Validation::default())
            .map_err(|_| "Authentication error")?;
    s.extensions.insert(User(claims.claims.username.into()));
    s.on("joinRoom", join_room);
    s.on("sendMessage", send_message);
    s.on("history", history);
    Ok(())
}

async fn connected() {}

#[derive(Deserialize)]
struct Join {
    room: Option<String>,
    limit: Option<usize>,
}

async fn join_room(
    s: SocketRef,
    State(floor): State<Floor>,
    Data(join): Data<Join>,
    ack: AckSender,
) {
    let room = join.room.unwrap_or_else(|| "general".into());
    s.join(room.clone());
    let (messages, has_more) = floor.page(&room, None, join.limit.unwrap_or(50));
    let _ = s.emit("previousMessages", &Messages(&messages));
    let _ = ack.send(&Page {
        ok: true,
        room: Some(&room),
        messages: Messages(&messages),
        has_more,
    });
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Send {
    content: Option<String>,
    room: Option<String>,
    client_id: Option<String>,
}

async fn send_message(
    s: SocketRef,
    State(floor): State<Floor>,
    Extension(User(sender)): Extension<User>,
    Data(send): Data<Send>,
    ack: AckSender,
) {
    let room = send.room.unwrap_or_else(|| "general".into());
    let content = send.content.unwrap_or_default().trim().to_owned();
    let now = chat_common::time::now_millis();
    let row = Row {
        room: &room,
        sender: &sender,
        content: &content,
        client_id: send.client_id.as_deref(),
        ts_millis: now,
    };
    let seq = match floor.ids.next(&row) {
        Ok(seq) => seq,
        Err(e) => {
            let _ = ack.send(&serde_json::json!({ "ok": false, "error": e.to_string() }));
            return;
        }
    };
    let message = Arc::new(Message {
        id: format!("{seq:012}"),
        room: room.clone(),
        sender: sender.to_string(),
        content,
        avatar: None,
        timestamp: chat_common::time::millis_to_rfc3339(now),
        client_id: send.client_id,
        attachments: [],
        edited_at: None,
        deleted: false,
    });
    if let Some(hop) = &floor.hop {
        let post = chat_proto::message::v1::PostMessageRequest {
            room: message.room.clone(),
            sender: message.sender.clone(),
            content: message.content.clone(),
            client_id: message.client_id.clone(),
            ..Default::default()
        };
        if !hop.round_trip(post).await {
            let _ =
                ack.send(&serde_json::json!({ "ok": false, "error": "the other process is gone" }));
            return;
        }
    }
    floor
        .rooms
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(room.clone())
        .or_default()
        .push(message.clone());
    let _ = s.within(room).emit("message", &*message).await;
    let _ = ack.send(&Sent {
        ok: true,
        message: &message,
    });
}

#[derive(Deserialize)]
struct History {
    room: Option<String>,
    before: Option<String>,
    limit: Option<usize>,
}

async fn history(State(floor): State<Floor>, Data(q): Data<History>, ack: AckSender) {
    let room = q.room.unwrap_or_default();
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let (messages, has_more) = floor.page(&room, q.before.as_deref(), limit);
    let _ = ack.send(&Page {
        ok: true,
        room: None,
        messages: Messages(&messages),
        has_more,
    });
}

impl Floor {
    /// The last `limit` messages of `room` (before the one with id `before`,
    /// when given), oldest first, and whether older ones exist.
    fn page(&self, room: &str, before: Option<&str>, limit: usize) -> (Vec<Arc<Message>>, bool) {
        let rooms = self.rooms.lock().unwrap_or_else(|p| p.into_inner());
        let all = rooms.get(room).map_or(&[][..], Vec::as_slice);
        let list = match before {
            Some(id) => all
                .iter()
                .position(|m| m.id == id)
                .map_or(&[][..], |i| &all[..i]),
            None => all,
        };
        let start = list.len().saturating_sub(limit);
        (list[start..].to_vec(), start > 0)
    }
}

fn unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
