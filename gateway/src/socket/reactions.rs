//! `react {id, emoji, on}` (PROTOCOL.md § Replies, reactions and search):
//! adds or removes the caller's reaction and tells the room with
//! `messageReactions` when something changed.

use chat_proto::message::v1::{GetMessageRequest, ReactRequest};
use serde_json::{Value, json};
use socketioxide::adapter::Adapter;

use crate::error::Error;

use super::event::{Cx, Outcome};
use super::fanout::to_room;
use super::input::Input;
use super::payload::reactions;
use super::rooms::room_key;

/// Input first (`INVALID_INPUT`), then the message must exist (`NOT_FOUND`)
/// in a room this socket is in (`FORBIDDEN`); a deleted message is the
/// service's `CONFLICT`.
pub async fn react<A: Adapter>(cx: Cx<A>, data: Value) -> Outcome {
    let input = Input::new(&data)?;
    let id = input.id("id")?.to_string();
    let emoji = input.str("emoji")?;
    if !chat_common::emoji::is_single_emoji(emoji) {
        return Err(Error::InvalidInput(
            "'emoji' must be exactly one emoji".into(),
        ));
    }
    let on = input.bool("on")?;
    let mut messages = cx.st.app.clients.message.clone();
    let target = messages
        .get_message(GetMessageRequest { id: id.clone() })
        .await?
        .into_inner();
    let key = room_key(&target.room);
    if !cx.socket.rooms().iter().any(|r| *r == key) {
        return Err(Error::Forbidden(format!(
            "Join the room '{}' first",
            target.room
        )));
    }
    let res = messages
        .react(ReactRequest {
            id: id.clone(),
            user: cx.me.username.clone(),
            emoji: emoji.to_string(),
            on,
        })
        .await?
        .into_inner();
    let list = reactions(res.message.map(|m| m.reactions).unwrap_or_default());
    if res.changed {
        let payload = json!({ "id": id, "room": target.room, "reactions": list });
        to_room(&cx.io, &key, "messageReactions", &payload).await;
    }
    Ok(json!({ "ok": true, "reactions": list }))
}
