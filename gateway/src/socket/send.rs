//! `sendMessage`: validation, idempotent resends, attachments, the rate
//! limit, storing, and fanning the message out (room, mentions, DMs). A
//! resend of a message whose broadcast may never have happened (its reply
//! was lost) broadcasts it then (see `delivered`).

use chat_proto::auth::v1::{GetUserRequest, get_user_request};
use chat_proto::media::v1::GetMediaRequest;
use chat_proto::message::v1::{
    Attachment, GetByClientIdRequest, Message, PostMessageRequest, PostMessageResponse,
};
use futures::future::try_join_all;
use serde::Serialize;
use serde_json::Value;
use socketioxide::adapter::Adapter;

use crate::config::Parser;
use crate::error::Error;

use super::delivered;
use super::event::{Cx, Outcome};
use super::fanout::{notify_user, to_room};
use super::input::Input;
use super::membership::member_key;
use super::mentions;
use super::payload::{MessageJson, Rendered};
use super::rooms::RoomName;

/// The most attachments one message may carry.
pub const MAX_ATTACHMENTS: usize = 10;

/// What a `sendMessage` asks for, once its shape, limits and access passed.
#[derive(Debug, PartialEq)]
struct Draft {
    content: String,
    room: RoomName,
    /// The internal room.
    key: String,
    client_id: Option<String>,
    attachment_ids: Vec<String>,
    /// v1.2: the id of the message this one answers.
    reply_to: Option<String>,
}

/// Steps 1 and 2 of PROTOCOL.md's order: input shape and limits
/// (`INVALID_INPUT`), then access (`FORBIDDEN`), before any service call.
fn draft<R: AsRef<str>>(data: &Value, max_chars: usize, joined: &[R]) -> Result<Draft, Error> {
    let input = Input::new(data)?;
    let content = input.content("content", max_chars)?;
    let room = input.room_or_general()?;
    let client_id = input.opt_str("clientId")?.filter(|c| !c.is_empty());
    if client_id.is_some_and(|c| c.chars().count() > 128) {
        return Err(Error::InvalidInput(
            "'clientId' must be at most 128 characters".into(),
        ));
    }
    let attachment_ids = input.ids("attachments", MAX_ATTACHMENTS)?;
    let reply_to = input.opt_id("replyTo")?.map(str::to_string);
    let key = member_key(joined, &room)?;
    Ok(Draft {
        content,
        room,
        key,
        client_id: client_id.map(str::to_string),
        attachment_ids,
        reply_to,
    })
}

/// The ack of a stored message, `{ "ok": true, "message": … }`, with the
/// message serialised once for the room's broadcast (both namespaces) and
/// this ack alike: serialising it each time was three times a send.
#[derive(Serialize)]
pub struct Sent {
    ok: bool,
    message: Rendered,
}

/// A stored message on its way out: as clients see it, and serialised once
/// for the room's broadcast and the ack.
struct Outgoing {
    message: MessageJson,
    rendered: Rendered,
}

impl Outgoing {
    fn new(message: MessageJson, parser: Parser) -> Result<Self, Error> {
        let rendered = Rendered::new(&message, parser)?;
        Ok(Self { message, rendered })
    }

    fn ack(self) -> Sent {
        Sent {
            ok: true,
            message: self.rendered,
        }
    }
}

pub async fn send_message<A: Adapter>(cx: Cx<A>, data: Value) -> Outcome<Sent> {
    let app = &cx.st.app;
    let Draft {
        content,
        room,
        key,
        client_id,
        attachment_ids,
        reply_to,
    } = draft(
        &data,
        app.config.limits.max_message_chars,
        &cx.socket.rooms(),
    )?;
    let links = cx.links();
    let resend = async |stored: Message| {
        let out = Outgoing::new(links.message(stored.clone()), app.config.parser)?;
        deliver_if_lost(&cx, &room, &key, &stored, &out).await;
        Ok(out.ack())
    };
    // 3. A resend of a stored clientId answers with the stored message. Most
    // sends are not resends, so the common path does not ask first: the
    // store's unique (sender, clientId) index answers "already stored" at
    // insert time, and the token spent meanwhile is given back. Attachments
    // keep the asking order, so that a resend whose files are gone still
    // gets its message rather than an attachment error.
    let mut asked = false;
    let attachments = if attachment_ids.is_empty() {
        Vec::new()
    } else {
        asked = true;
        if let Some(stored) = stored_by_client_id(&cx, client_id.as_deref()).await? {
            return resend(stored).await;
        }
        attachments(&cx, &attachment_ids).await?
    };
    // 4. Rate limit: only messages that will be stored cost a token.
    let token = match cx.st.limits.message(&cx.me.lower).await {
        Ok(token) => token,
        Err(limited) if asked => return Err(limited),
        Err(limited) => {
            return match stored_by_client_id(&cx, client_id.as_deref()).await? {
                Some(stored) => resend(stored).await,
                None => Err(limited),
            };
        }
    };
    // 5. Store, with the sender's current avatar.
    let posted = match post(&cx, room.name(), content, client_id, attachments, reply_to).await {
        Ok(posted) => posted,
        Err(e) => {
            cx.st.limits.refund_message(token).await;
            return Err(e);
        }
    };
    let stored = posted
        .message
        .ok_or_else(|| Error::Internal("the message service answered without a message".into()))?;
    if !posted.created {
        cx.st.limits.refund_message(token).await;
        return resend(stored).await;
    }
    let out = Outgoing::new(links.message(stored), app.config.parser)?;
    broadcast(&cx, &room, &key, &out).await;
    Ok(out.ack())
}

/// The room's `message`, the notifications, and the mark saying both went.
async fn broadcast<A: Adapter>(cx: &Cx<A>, room: &RoomName, key: &str, out: &Outgoing) {
    to_room(&cx.io, key, "message", &out.rendered).await;
    notify(cx, room, &out.message.id, &out.message.content).await;
    cx.st.delivered.mark(&out.message.id).await;
}

/// A resend found `stored`: broadcast it when it is recent and no node
/// marked it broadcast (the first attempt's reply was lost).
async fn deliver_if_lost<A: Adapter>(
    cx: &Cx<A>,
    room: &RoomName,
    key: &str,
    stored: &Message,
    out: &Outgoing,
) {
    let age_ms = stored
        .timestamp
        .as_ref()
        .map(|ts| chat_common::time::now_millis() - chat_common::time::timestamp_to_millis(ts));
    let recent = age_ms.is_some_and(|ms| ms < delivered::WINDOW.as_millis() as i64);
    if !recent || stored.deleted || cx.st.delivered.was_marked(&stored.id).await {
        return;
    }
    tracing::info!(id = %stored.id, "a resend found a message that may never have been broadcast: broadcasting it");
    broadcast(cx, room, key, out).await;
}

async fn post<A: Adapter>(
    cx: &Cx<A>,
    room: String,
    content: String,
    client_id: Option<String>,
    attachments: Vec<Attachment>,
    reply_to: Option<String>,
) -> Result<PostMessageResponse, Error> {
    let avatar = current_avatar(cx).await?;
    let posted = cx
        .st
        .app
        .clients
        .posts
        .post(PostMessageRequest {
            room,
            sender: cx.me.username.clone(),
            content,
            client_id,
            avatar_media_id: avatar,
            attachments,
            reply_to,
        })
        .await?;
    Ok(posted)
}

/// The message `client_id` stored for this sender, if any.
async fn stored_by_client_id<A: Adapter>(
    cx: &Cx<A>,
    client_id: Option<&str>,
) -> Result<Option<Message>, Error> {
    let Some(client_id) = client_id else {
        return Ok(None);
    };
    let req = GetByClientIdRequest {
        sender: cx.me.username.clone(),
        client_id: client_id.to_string(),
    };
    match cx
        .st
        .app
        .clients
        .message
        .clone()
        .get_by_client_id(req)
        .await
    {
        Ok(m) => Ok(Some(m.into_inner())),
        Err(s) if s.code() == tonic::Code::NotFound => Ok(None),
        Err(s) => Err(s.into()),
    }
}

/// Looks every attachment up: each must exist and belong to the sender.
async fn attachments<A: Adapter>(cx: &Cx<A>, ids: &[String]) -> Result<Vec<Attachment>, Error> {
    let lookups = ids.iter().map(|id| async move {
        let req = GetMediaRequest { id: id.clone() };
        let info = match cx.st.app.clients.media.clone().get_media(req).await {
            Ok(info) => info.into_inner(),
            Err(s)
                if matches!(
                    s.code(),
                    tonic::Code::NotFound | tonic::Code::InvalidArgument
                ) =>
            {
                return Err(Error::InvalidInput(format!(
                    "Attachment '{id}' does not exist; upload it first"
                )));
            }
            Err(s) => return Err(Error::from(s)),
        };
        if !info.owner.eq_ignore_ascii_case(&cx.me.username) {
            return Err(Error::InvalidInput(format!(
                "Attachment '{id}' is not one of your uploads"
            )));
        }
        Ok(Attachment {
            id: info.id,
            content_type: info.content_type,
            size: info.size,
            name: info.name,
        })
    });
    try_join_all(lookups).await
}

async fn current_avatar<A: Adapter>(cx: &Cx<A>) -> Result<Option<String>, Error> {
    let app = &cx.st.app;
    app.avatars
        .get(&cx.me.user_id, || async {
            let req = GetUserRequest {
                key: Some(get_user_request::Key::Id(cx.me.user_id.clone())),
            };
            let user = app.clients.auth.clone().get_user(req).await?.into_inner();
            Ok(user.avatar_media_id.filter(|a| !a.is_empty()))
        })
        .await
}

/// A direct message notifies the other member; elsewhere every mentioned
/// user is notified.
async fn notify<A: Adapter>(cx: &Cx<A>, room: &RoomName, message_id: &str, content: &str) {
    let note = |kind: &str| {
        serde_json::json!({
            "type": kind,
            "room": room.name(),
            "messageId": message_id,
            "from": cx.me.username,
            "message": content,
        })
    };
    if let Some(peer) = room.dm_peer(&cx.me.lower) {
        notify_user(&cx.io, peer, &note("dm")).await;
        return;
    }
    let mentioned = mentions::parse(content, &cx.me.lower, cx.st.app.config.limits.max_mentions);
    if mentioned.is_empty() {
        return;
    }
    let note = note("mention");
    for user in mentioned {
        notify_user(&cx.io, &user, &note).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use serde_json::json;

    fn code(data: Value, joined: &[&str]) -> ErrorCode {
        draft(&data, 10, joined).unwrap_err().code()
    }

    #[test]
    fn input_is_checked_before_access() {
        let none: &[&str] = &[];
        // Bad input to a room not joined is INVALID_INPUT, not FORBIDDEN.
        assert_eq!(
            code(json!({"room": "x", "content": "  "}), none),
            ErrorCode::InvalidInput
        );
        assert_eq!(
            code(json!({"room": "x", "content": "a".repeat(11)}), none),
            ErrorCode::InvalidInput
        );
        assert_eq!(
            code(json!({"room": "x y", "content": "hi"}), none),
            ErrorCode::InvalidInput
        );
        assert_eq!(
            code(json!({"room": "x", "content": 5}), none),
            ErrorCode::InvalidInput
        );
        assert_eq!(
            code(
                json!({"room": "x", "content": "hi", "attachments": [1]}),
                none
            ),
            ErrorCode::InvalidInput
        );
        assert_eq!(
            code(json!({"room": "x", "content": "hi", "clientId": 7}), none),
            ErrorCode::InvalidInput
        );
        assert_eq!(
            code(json!({"room": "x", "content": "hi", "replyTo": 7}), none),
            ErrorCode::InvalidInput
        );
        assert_eq!(code(json!("hi"), none), ErrorCode::InvalidInput);
        // Good input to a room not joined is FORBIDDEN.
        assert_eq!(
            code(json!({"room": "x", "content": "hi"}), none),
            ErrorCode::Forbidden
        );
        assert_eq!(
            code(json!({"content": "hi"}), &["r:x"]),
            ErrorCode::Forbidden
        );
    }

    #[test]
    fn a_valid_draft_is_trimmed_and_targets_the_internal_room() {
        let d = draft(
            &json!({"content": " hi ", "clientId": "c-1", "attachments": ["a", "a"], "sender": "x", "avatar": "y"}),
            10,
            &["r:general", "u:me"],
        )
        .unwrap();
        assert_eq!(
            d,
            Draft {
                content: "hi".into(),
                room: RoomName::Public("general".into()),
                key: "r:general".into(),
                client_id: Some("c-1".into()),
                attachment_ids: vec!["a".into()],
                reply_to: None,
            }
        );
        let d = draft(
            &json!({"content": "hi", "clientId": ""}),
            10,
            &["r:general"],
        )
        .unwrap();
        assert_eq!(d.client_id, None);
    }

    #[test]
    fn internal_rooms_do_not_count_as_joined_client_rooms() {
        // A socket sits in `u:<name>`; a client naming that room still is
        // refused (the name is invalid) and never reaches it.
        assert_eq!(
            code(json!({"room": "u:me", "content": "hi"}), &["u:me"]),
            ErrorCode::InvalidInput
        );
    }
}
