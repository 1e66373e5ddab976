//! Room events besides sending: `history`, `editMessage`, `deleteMessage`,
//! `typing` and `markRead`.

use chat_proto::media::v1::DeleteMediaRequest;
use chat_proto::message::v1::{
    DeleteMessageRequest, EditMessageRequest, ListMessagesRequest, MarkReadRequest,
};
use serde_json::{Value, json};
use socketioxide::adapter::Adapter;

use crate::error::Error;

use super::event::{Cx, Outcome};
use super::fanout::{to_room, to_room_except};
use super::input::Input;
use super::membership::require_member;
use super::rooms::room_key;

/// `history {room, before?, after?, limit?}` → `{ok, messages, hasMore}`.
pub async fn history<A: Adapter>(cx: Cx<A>, data: Value) -> Outcome {
    let input = Input::new(&data)?;
    let room = input.room()?;
    let before = input.opt_id("before")?;
    let after = input.opt_id("after")?;
    if before.is_some() && after.is_some() {
        return Err(Error::InvalidInput(
            "Give either 'before' or 'after', not both".into(),
        ));
    }
    let limit = input.limit(&cx.st.app.config.limits)?;
    require_member(&cx, &room)?;
    let req = ListMessagesRequest {
        room: room.name(),
        before: before.map(str::to_string),
        after: after.map(str::to_string),
        limit,
    };
    let page = cx
        .st
        .app
        .clients
        .message
        .clone()
        .list_messages(req)
        .await?
        .into_inner();
    Ok(
        json!({ "ok": true, "messages": cx.links().messages(page.messages), "hasMore": page.has_more }),
    )
}

/// `editMessage {id, content}`: the message service enforces authorship.
pub async fn edit_message<A: Adapter>(cx: Cx<A>, data: Value) -> Outcome {
    let input = Input::new(&data)?;
    let id = input.id("id")?;
    let content = input.content("content", cx.st.app.config.limits.max_message_chars)?;
    let req = EditMessageRequest {
        id: id.to_string(),
        editor: cx.me.username.clone(),
        content,
    };
    let edited = cx
        .st
        .app
        .clients
        .message
        .clone()
        .edit_message(req)
        .await?
        .into_inner();
    let message = cx.links().message(edited);
    to_room(&cx.io, &room_key(&message.room), "messageEdited", &message).await;
    Ok(json!({ "ok": true, "message": message }))
}

/// `deleteMessage {id}`: a soft delete; its attachments are purged.
pub async fn delete_message<A: Adapter>(cx: Cx<A>, data: Value) -> Outcome {
    let id = Input::new(&data)?.id("id")?.to_string();
    let req = DeleteMessageRequest {
        id: id.clone(),
        requester: cx.me.username.clone(),
    };
    let res = cx
        .st
        .app
        .clients
        .message
        .clone()
        .delete_message(req)
        .await?
        .into_inner();
    if res.changed {
        let room = res.message.map(|m| m.room).unwrap_or_default();
        to_room(
            &cx.io,
            &room_key(&room),
            "messageDeleted",
            &json!({ "id": id, "room": room }),
        )
        .await;
        purge_media(
            &cx,
            res.removed_attachments.into_iter().map(|a| a.id).collect(),
        )
        .await;
    }
    Ok(json!({ "ok": true }))
}

/// Awaited before the ack, so that once a client hears "deleted" the files
/// are gone too. Best effort: the message no longer shows them, so a failure
/// only leaves orphaned bytes behind, which is logged.
async fn purge_media<A: Adapter>(cx: &Cx<A>, ids: Vec<String>) {
    let media = &cx.st.app.clients.media;
    let deletes = ids.into_iter().map(|id| {
        let req = DeleteMediaRequest {
            id: id.clone(),
            requester: cx.me.username.clone(),
        };
        let mut media = media.clone();
        async move {
            if let Err(e) = media.delete(req).await {
                tracing::warn!(media_id = id, error = %e, "could not purge a deleted message's attachment");
            }
        }
    });
    futures::future::join_all(deletes).await;
}

/// `typing {room, typing}` → `typing {room, user, typing}` to the others.
pub async fn typing<A: Adapter>(cx: Cx<A>, data: Value) -> Outcome {
    let input = Input::new(&data)?;
    let room = input.room()?;
    let typing = input.bool("typing")?;
    let key = require_member(&cx, &room)?;
    let payload = json!({ "room": room.name(), "user": cx.me.username, "typing": typing });
    to_room_except(&cx.socket, &cx.io, &key, "typing", &payload, true).await;
    Ok(json!({ "ok": true }))
}

/// `markRead {room, messageId}`: `read` only when the position moved.
pub async fn mark_read<A: Adapter>(cx: Cx<A>, data: Value) -> Outcome {
    let input = Input::new(&data)?;
    let room = input.room()?;
    let message_id = input.id("messageId")?;
    let key = require_member(&cx, &room)?;
    let req = MarkReadRequest {
        room: room.name(),
        user: cx.me.username.clone(),
        message_id: message_id.to_string(),
    };
    let res = cx
        .st
        .app
        .clients
        .message
        .clone()
        .mark_read(req)
        .await?
        .into_inner();
    if res.moved {
        let payload =
            json!({ "room": room.name(), "user": cx.me.username, "messageId": res.message_id });
        to_room(&cx.io, &key, "read", &payload).await;
    }
    Ok(json!({ "ok": true }))
}
