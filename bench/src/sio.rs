//! A minimal Socket.IO v5 client over Engine.IO v4, WebSocket transport
//! only, JSON parser only: exactly the text framing the bench needs.
//!
//! Why not a full client crate (`rust_socketio`, as the e2e tests use): the
//! generator has to hold 15,000 sockets in one process next to the server
//! under test on a 2-core machine. A full client spawns several tasks,
//! channels and callback boxes per socket, parses every payload into a
//! value tree and keeps 128 KiB WebSocket buffers. Here a socket is one
//! `WebSocketStream` with 4 KiB buffers, owned by one task that decides per
//! frame how much to parse (a drained broadcast is a prefix check).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::error::Error;

/// The namespace every scenario uses.
pub const NAMESPACE: &str = "/chat";

pub type Ws = WebSocketStream<TcpStream>;

/// One decoded text frame, borrowing from it.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// Engine.IO open (`0{…}`).
    Open,
    /// Engine.IO ping (`2`): must be answered with [`PONG`].
    Ping,
    /// Socket.IO CONNECT accepted on our namespace.
    Connected,
    /// Socket.IO CONNECT_ERROR with its JSON payload.
    ConnectError(&'a str),
    /// Socket.IO EVENT: `name` and the raw JSON array `[name, …]`.
    Event { name: &'a str, args: &'a str },
    /// Socket.IO ACK: id and the raw JSON array of the reply arguments.
    Ack { id: u64, args: &'a str },
    /// Engine.IO close or Socket.IO DISCONNECT.
    Closed,
    /// Anything else (noop, other namespaces, binary packets).
    Other,
}

pub const PONG: &str = "3";

/// Decodes one text frame addressed to [`NAMESPACE`].
pub fn decode(text: &str) -> Frame<'_> {
    let mut chars = text.chars();
    match chars.next() {
        Some('0') => return Frame::Open,
        Some('1') => return Frame::Closed,
        Some('2') => return Frame::Ping,
        Some('4') => {}
        _ => return Frame::Other,
    }
    let Some(kind) = text.as_bytes().get(1).copied() else {
        return Frame::Other;
    };
    let rest = &text[2..];
    let Some(rest) = rest
        .strip_prefix(NAMESPACE)
        .and_then(|r| r.strip_prefix(','))
    else {
        return Frame::Other;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let (id, body) = rest.split_at(digits);
    match kind {
        b'0' => Frame::Connected,
        b'1' => Frame::Closed,
        b'4' => Frame::ConnectError(body),
        b'2' => match event_name(body) {
            Some(name) => Frame::Event { name, args: body },
            None => Frame::Other,
        },
        b'3' => match id.parse() {
            Ok(id) => Frame::Ack { id, args: body },
            Err(_) => Frame::Other,
        },
        _ => Frame::Other,
    }
}

/// The event name of `["name", …]` (names never contain escapes here).
fn event_name(body: &str) -> Option<&str> {
    let rest = body.strip_prefix("[\"")?;
    let end = rest.find('"')?;
    Some(&rest[..end])
}

/// `40/chat,{"token":…}`: the namespace CONNECT with the handshake auth.
pub fn connect_packet(token: &str) -> String {
    format!("40{NAMESPACE},{}", serde_json::json!({ "token": token }))
}

/// `42/chat,<id>["name",data]`; `ack` asks the server to answer with that id.
pub fn event_packet(name: &str, ack: Option<u64>, data: &serde_json::Value) -> String {
    let args = serde_json::json!([name, data]);
    match ack {
        Some(id) => format!("42{NAMESPACE},{id}{args}"),
        None => format!("42{NAMESPACE},{args}"),
    }
}

/// Small buffers: thousands of mostly idle sockets, frames of a few hundred
/// bytes. (A history page of 200 messages still fits: buffers grow.)
fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_write_buffer_size(1 << 20)
}

/// Opens a WebSocket to `server` from `source` (an address on loopback, so
/// 15,000 sockets can be spread over several source addresses' ports), and
/// connects to [`NAMESPACE`] with `token`. Returns once the server accepted.
pub async fn connect(
    server: SocketAddr,
    source: Option<IpAddr>,
    token: &str,
    timeout: Duration,
) -> Result<Ws, Error> {
    tokio::time::timeout(timeout, handshake(server, source, token))
        .await
        .map_err(|_| Error::Handshake("timed out".into()))?
}

async fn handshake(server: SocketAddr, source: Option<IpAddr>, token: &str) -> Result<Ws, Error> {
    let socket = TcpSocket::new_v4()?;
    if let Some(ip) = source {
        socket.bind(SocketAddr::new(ip, 0))?;
    }
    let tcp = socket.connect(server).await?;
    tcp.set_nodelay(true)?;
    let url = format!("ws://{server}/socket.io/?EIO=4&transport=websocket");
    let (mut ws, _) =
        tokio_tungstenite::client_async_with_config(url, tcp, Some(ws_config())).await?;
    ws.send(Message::text(connect_packet(token))).await?;
    while let Some(msg) = ws.next().await {
        let msg = msg?;
        let Message::Text(text) = msg else { continue };
        match decode(&text) {
            Frame::Connected => return Ok(ws),
            Frame::ConnectError(body) => return Err(Error::Handshake(body.to_string())),
            Frame::Ping => ws.send(Message::text(PONG)).await?,
            Frame::Closed => break,
            _ => {}
        }
    }
    Err(Error::Handshake(
        "connection closed during the handshake".into(),
    ))
}

/// Sends an event with an ack id and waits for that ack, answering pings
/// and skipping every other frame; returns the first reply argument.
pub async fn call(
    ws: &mut Ws,
    id: u64,
    name: &str,
    data: &serde_json::Value,
) -> Result<serde_json::Value, Error> {
    ws.send(Message::text(event_packet(name, Some(id), data)))
        .await?;
    while let Some(msg) = ws.next().await {
        let Message::Text(text) = msg? else { continue };
        match decode(&text) {
            Frame::Ack { id: got, args } if got == id => {
                let mut reply: Vec<serde_json::Value> = serde_json::from_str(args)?;
                return Ok(if reply.is_empty() {
                    serde_json::Value::Null
                } else {
                    reply.swap_remove(0)
                });
            }
            Frame::Ping => ws.send(Message::text(PONG)).await?,
            Frame::Closed => break,
            _ => {}
        }
    }
    Err(Error::Closed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_engine_io_packets() {
        assert_eq!(decode(r#"0{"sid":"x","pingInterval":25000}"#), Frame::Open);
        assert_eq!(decode("2"), Frame::Ping);
        assert_eq!(decode("1"), Frame::Closed);
        assert_eq!(decode("6"), Frame::Other);
    }

    #[test]
    fn decodes_namespace_connect_and_refusal() {
        assert_eq!(decode(r#"40/chat,{"sid":"abc"}"#), Frame::Connected);
        assert_eq!(
            decode(r#"44/chat,{"message":"Authentication error"}"#),
            Frame::ConnectError(r#"{"message":"Authentication error"}"#)
        );
        // Another namespace's packets are not ours.
        assert_eq!(decode(r#"40/notifications,{"sid":"abc"}"#), Frame::Other);
    }

    #[test]
    fn decodes_events_and_acks() {
        let text = r#"42/chat,["message",{"id":"1","content":"hi"}]"#;
        assert_eq!(
            decode(text),
            Frame::Event {
                name: "message",
                args: r#"["message",{"id":"1","content":"hi"}]"#
            }
        );
        assert_eq!(
            decode(r#"43/chat,17[{"ok":true}]"#),
            Frame::Ack {
                id: 17,
                args: r#"[{"ok":true}]"#
            }
        );
        assert_eq!(decode("43/chat,[{}]"), Frame::Other, "an ack needs an id");
    }

    #[test]
    fn encodes_what_socket_io_servers_expect() {
        assert_eq!(connect_packet("t\"k"), r#"40/chat,{"token":"t\"k"}"#);
        let data = serde_json::json!({ "room": "r" });
        assert_eq!(
            event_packet("joinRoom", Some(3), &data),
            r#"42/chat,3["joinRoom",{"room":"r"}]"#
        );
        assert_eq!(
            event_packet("typing", None, &data),
            r#"42/chat,["typing",{"room":"r"}]"#
        );
    }

    #[test]
    fn round_trips_an_encoded_event() {
        let data = serde_json::json!({ "content": "a,b" });
        let text = event_packet("sendMessage", None, &data);
        assert!(matches!(
            decode(&text),
            Frame::Event {
                name: "sendMessage",
                ..
            }
        ));
    }
}
