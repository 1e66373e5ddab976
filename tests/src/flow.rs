//! The conversation every layout must carry: two users register, join a
//! room from their own sockets (possibly on different gateways), see each
//! other arrive, and exchange messages both ways with acks.

use std::time::Duration;

use anyhow::{Context, ensure};
use rust_socketio::TransportType;
use serde_json::{Value, json};

use crate::api::{self, Session};
use crate::socket::ChatSocket;
use crate::unique;

pub const PASSWORD: &str = "correct horse battery";

/// What a finished conversation leaves behind, for later checks.
pub struct Conversation {
    pub room: String,
    pub alice: Session,
    pub bob: Session,
    /// Ids of the messages sent, in order.
    pub sent: Vec<String>,
}

fn ids(messages: &Value) -> anyhow::Result<Vec<String>> {
    messages
        .as_array()
        .with_context(|| format!("not a message array: {messages}"))?
        .iter()
        .map(|m| {
            m.get("id")
                .and_then(Value::as_str)
                .map(str::to_string)
                .with_context(|| format!("message without id: {m}"))
        })
        .collect()
}

/// Joins `room` and checks the ack and the `previousMessages` event agree;
/// returns the ids they hold, oldest first.
pub async fn join(socket: &mut ChatSocket, room: &str) -> anyhow::Result<Vec<String>> {
    let ack = socket.ack_ok("joinRoom", json!({ "room": room })).await?;
    ensure!(ack["room"] == room, "joinRoom acked another room: {ack}");
    let from_ack = ids(&ack["messages"])?;
    let previous = socket.expect("previousMessages").await?;
    let from_event = ids(&previous)?;
    ensure!(
        from_ack == from_event,
        "joinRoom ack {from_ack:?} and previousMessages {from_event:?} differ"
    );
    Ok(from_event)
}

/// Sends `content` from `from` and checks the ack, the sender's own echo and
/// the copy `to` receives all carry the same stored message.
async fn send(
    from: &mut ChatSocket,
    sender: &str,
    to: &mut ChatSocket,
    room: &str,
    content: &str,
) -> anyhow::Result<String> {
    let client_id = unique("c");
    let ack = from
        .ack_ok(
            "sendMessage",
            json!({ "room": room, "content": format!("  {content}\n"), "clientId": client_id }),
        )
        .await?;
    let message = &ack["message"];
    let id = message["id"]
        .as_str()
        .with_context(|| format!("sendMessage ack without message id: {ack}"))?
        .to_string();
    ensure!(message["sender"] == sender, "wrong sender: {message}");
    ensure!(message["room"] == room, "wrong room: {message}");
    ensure!(
        message["content"] == content,
        "content not trimmed: {message}"
    );
    ensure!(
        message["clientId"] == client_id.as_str(),
        "clientId lost: {message}"
    );
    ensure!(
        message["deleted"] == false,
        "new message deleted: {message}"
    );
    for (who, socket) in [("sender", &mut *from), ("recipient", &mut *to)] {
        let got = socket
            .expect_where("message", |m| m["id"] == id.as_str())
            .await
            .with_context(|| format!("the {who} never saw message {id}"))?;
        ensure!(got == *message, "{who} got {got}, ack said {message}");
    }
    Ok(id)
}

/// Sending the stored message's `clientId` again returns that message and
/// broadcasts nothing.
async fn resend_is_idempotent(
    from: &mut ChatSocket,
    to: &mut ChatSocket,
    room: &str,
    id: &str,
) -> anyhow::Result<()> {
    let history = from.ack_ok("history", json!({ "room": room })).await?;
    let stored = history["messages"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["id"] == id))
        .with_context(|| format!("message {id} not in history: {history}"))?
        .clone();
    let again = from
        .ack_ok(
            "sendMessage",
            json!({ "room": room, "content": stored["content"], "clientId": stored["clientId"] }),
        )
        .await?;
    ensure!(
        again["message"] == stored,
        "resend returned {again}, stored {stored}"
    );
    to.expect_none("message", Duration::from_millis(500))
        .await?;
    from.expect_none("message", Duration::from_millis(100))
        .await
}

/// The whole conversation: alice connects to `alice_base`, bob to `bob_base`
/// (the same gateway or two nodes sharing Redis). Alice uses WebSocket, bob
/// long-polling, so both transports are covered.
pub async fn converse(alice_base: &str, bob_base: &str) -> anyhow::Result<Conversation> {
    let room = unique("room");
    let alice = api::register(alice_base, &unique("alice"), PASSWORD).await?;
    let bob = api::register(bob_base, &unique("bob"), PASSWORD).await?;

    let mut a = ChatSocket::connect(
        alice_base,
        "/chat",
        Some(&alice.token),
        TransportType::Websocket,
    )
    .await?;
    let mut b =
        ChatSocket::connect(bob_base, "/chat", Some(&bob.token), TransportType::Polling).await?;

    ensure!(
        join(&mut a, &room).await?.is_empty(),
        "a new room has history"
    );
    ensure!(
        join(&mut b, &room).await?.is_empty(),
        "a new room has history"
    );
    let joined = a.expect("userJoined").await?;
    ensure!(
        joined == json!({ "room": room, "user": bob.username }),
        "alice saw {joined}"
    );

    let presence = b.ack_ok("presence", json!({ "room": room })).await?;
    let mut users: Vec<String> = serde_json::from_value(presence["users"].clone())
        .with_context(|| format!("presence without users: {presence}"))?;
    users.sort();
    let mut expected = vec![alice.username.clone(), bob.username.clone()];
    expected.sort();
    ensure!(
        users == expected,
        "presence {users:?}, expected {expected:?}"
    );

    a.emit("typing", json!({ "room": room, "typing": true }))
        .await?;
    let typing = b.expect("typing").await?;
    ensure!(
        typing == json!({ "room": room, "user": alice.username, "typing": true }),
        "bob saw {typing}"
    );

    let first = send(&mut a, &alice.username, &mut b, &room, "hello bob").await?;
    resend_is_idempotent(&mut a, &mut b, &room, &first).await?;
    let second = send(&mut b, &bob.username, &mut a, &room, "hi alice, got it").await?;

    let history = a.ack_ok("history", json!({ "room": room })).await?;
    ensure!(
        ids(&history["messages"])? == [first.clone(), second.clone()],
        "history out of order: {history}"
    );
    ensure!(
        history["hasMore"] == false,
        "hasMore on a short room: {history}"
    );

    a.disconnect().await?;
    b.disconnect().await?;
    Ok(Conversation {
        room,
        alice,
        bob,
        sent: vec![first, second],
    })
}

/// After a restart (or on another node): the old access token still opens a
/// socket, and joining the room replays the conversation.
pub async fn history_survives(base: &str, conv: &Conversation) -> anyhow::Result<()> {
    let (status, me) = api::me(base, &conv.alice.token).await?;
    ensure!(status == 200, "old token refused by /me: {status} {me}");
    let mut a = ChatSocket::connect(
        base,
        "/chat",
        Some(&conv.alice.token),
        TransportType::Websocket,
    )
    .await
    .context("the old access token no longer opens a socket")?;
    let replayed = join(&mut a, &conv.room).await?;
    ensure!(
        replayed == conv.sent,
        "history after restart {replayed:?}, expected {:?}",
        conv.sent
    );
    let again = api::login(base, &conv.bob.username, PASSWORD).await?;
    ensure!(again.user["id"] == conv.bob.user["id"], "bob's id changed");
    a.disconnect().await
}

/// A 1×1 transparent PNG.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

/// Uploads an avatar through `upload_base` and reads it back, byte for byte,
/// through `fetch_base`; the user's `/me` then shows it. Returns the media id.
pub async fn avatar_roundtrip(
    upload_base: &str,
    fetch_base: &str,
    who: &Session,
) -> anyhow::Result<String> {
    let (status, body) =
        api::upload(upload_base, &who.token, "avatar", "me.png", PNG.to_vec()).await?;
    ensure!(status == 201, "avatar upload: {status} {body}");
    ensure!(body["contentType"] == "image/png", "sniffed type: {body}");
    ensure!(body["size"] == PNG.len(), "stored size: {body}");
    let id = body["id"]
        .as_str()
        .with_context(|| format!("upload reply without id: {body}"))?
        .to_string();
    let (status, content_type, bytes) = api::media(fetch_base, &id).await?;
    ensure!(status == 200, "GET /media/{id}: {status}");
    ensure!(content_type == "image/png", "served as {content_type}");
    ensure!(bytes == PNG, "served bytes differ from the upload");
    let (status, me) = api::me(fetch_base, &who.token).await?;
    ensure!(status == 200, "/me: {status} {me}");
    ensure!(
        me["avatar"].as_str().is_some_and(|url| url.contains(&id)),
        "/me does not show the new avatar: {me}"
    );
    Ok(id)
}
