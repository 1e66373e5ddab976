//! The v1.2 room events (PROTOCOL.md § Rooms and membership): `createRoom`,
//! `rooms`, `members`, `invite`, `removeMember`, `unban`, `setRole`,
//! `setTopic` (`rooms: "all"` at the handshake is `join_all.rs`). The rules live in the
//! message service's `RoomService`; this file turns its answers into acks
//! and room events. A removed member's sockets leave the socket.io room
//! through the adapter, so on every node at once; since every room event
//! checks that the socket is in the room, that is also what ends its access
//! (no membership lookup is added to the send path).

use std::collections::BTreeSet;

use chat_common::time::timestamp_to_rfc3339;
use chat_proto::auth::v1::{GetUserRequest, get_user_request};
use chat_proto::message::v1 as pb;
use serde_json::{Value, json};
use socketioxide::adapter::Adapter;

use crate::error::Error;

use super::event::{Cx, Outcome};
use super::fanout::{CHAT_NAMESPACES, connected_users, notify_user, to_room};
use super::input::Input;
use super::order;
use super::rooms::{RoomName, user_key};

fn role_name(role: i32) -> Value {
    match pb::Role::try_from(role) {
        Ok(pb::Role::Owner) => json!("owner"),
        Ok(pb::Role::Admin) => json!("admin"),
        Ok(pb::Role::Member) => json!("member"),
        _ => Value::Null,
    }
}

/// The room fields every summary carries.
fn room_fields(room: &pb::Room) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("room".into(), json!(room.name));
    m.insert("private".into(), json!(room.private));
    m.insert("topic".into(), json!(room.topic));
    let owner = (!room.owner.is_empty()).then_some(&room.owner);
    m.insert("owner".into(), json!(owner));
    let created = room.created.as_ref().map(timestamp_to_rfc3339);
    m.insert("createdAt".into(), json!(created));
    m
}

fn summary(s: pb::RoomSummary) -> Value {
    let mut m = s.room.as_ref().map(room_fields).unwrap_or_default();
    m.insert("role".into(), role_name(s.role));
    Value::Object(m)
}

/// The username as registered of `raw` (any case); `NOT_FOUND` when there
/// is no such user.
async fn registered<A: Adapter>(cx: &Cx<A>, raw: &str) -> Result<String, Error> {
    if !super::rooms::is_username(raw) {
        return Err(Error::InvalidInput(format!(
            "'{raw}' is not a valid username"
        )));
    }
    let req = GetUserRequest {
        key: Some(get_user_request::Key::Username(raw.to_string())),
    };
    match cx.st.app.clients.auth.clone().get_user(req).await {
        Ok(u) => Ok(u.into_inner().username),
        Err(s) if s.code() == tonic::Code::NotFound => {
            Err(Error::NotFound(format!("There is no user named '{raw}'")))
        }
        Err(s) => Err(s.into()),
    }
}

/// `createRoom {room, private?, topic?}` → `{ok, room}`.
pub async fn create_room<A: Adapter>(cx: Cx<A>, data: Value) -> Outcome {
    let input = Input::new(&data)?;
    let room = input.room()?;
    if room.is_direct() {
        return Err(Error::InvalidInput(
            "A direct-message room is made by sending it a first message".into(),
        ));
    }
    let private = input.opt_bool("private")?.unwrap_or(false);
    let topic = input.opt_str("topic")?.unwrap_or_default();
    chat_common::names::check_topic(topic).map_err(|e| Error::InvalidInput(e.0))?;
    let req = pb::CreateRoomRequest {
        room: room.name(),
        private,
        topic: topic.to_string(),
        owner: cx.me.username.clone(),
    };
    let created = cx.st.app.clients.rooms.clone().create_room(req).await?;
    let mut room = summary(created.into_inner());
    if let Value::Object(m) = &mut room {
        m.insert("unread".into(), json!(0));
        m.insert("lastMessage".into(), Value::Null);
    }
    Ok(json!({ "ok": true, "room": room }))
}

/// `rooms {}` → `{ok, rooms}`, most recently active first.
pub async fn rooms<A: Adapter>(cx: Cx<A>, data: Value) -> Outcome {
    if !data.is_null() {
        Input::new(&data)?;
    }
    let req = pb::ListRoomsRequest {
        user: cx.me.username.clone(),
    };
    let list = cx.st.app.clients.rooms.clone().list_rooms(req).await?;
    let links = cx.links();
    let rooms: Vec<Value> = list
        .into_inner()
        .rooms
        .into_iter()
        .map(|e| {
            let mut m = e.room.as_ref().map(room_fields).unwrap_or_default();
            m.insert("role".into(), role_name(e.role));
            m.insert("unread".into(), json!(e.unread));
            let last = e.last_message.map(|l| links.message(l));
            m.insert("lastMessage".into(), json!(last));
            Value::Object(m)
        })
        .collect();
    Ok(json!({ "ok": true, "rooms": rooms }))
}

/// `members {room}` → `{ok, members: [{user, role, online}]}`.
pub async fn members<A: Adapter>(cx: Cx<A>, data: Value) -> Outcome {
    let room = Input::new(&data)?.room()?;
    let req = pb::ListMembersRequest {
        room: room.name(),
        requester: cx.me.username.clone(),
    };
    let list = cx.st.app.clients.rooms.clone().list_members(req).await?;
    let online: BTreeSet<String> = connected_users(&cx.io)
        .await?
        .into_iter()
        .map(|u| u.to_lowercase())
        .collect();
    let members: Vec<Value> = list
        .into_inner()
        .members
        .into_iter()
        .map(|m| {
            let on = online.contains(&m.user.to_lowercase());
            json!({ "user": m.user, "role": role_name(m.role), "online": on })
        })
        .collect();
    Ok(json!({ "ok": true, "members": members }))
}

/// `invite {room, user}`: the user becomes a member, is notified, and the
/// room hears `memberJoined`.
pub async fn invite<A: Adapter>(cx: Cx<A>, data: Value) -> Outcome {
    let input = Input::new(&data)?;
    let room = input.room()?;
    let user = registered(&cx, input.str("user")?).await?;
    let req = pb::InviteRequest {
        room: room.name(),
        user: user.clone(),
        by: cx.me.username.clone(),
    };
    let res = cx.st.app.clients.rooms.clone().invite(req).await?;
    if res.into_inner().added {
        let note = json!({ "type": "invite", "room": room.name(), "from": cx.me.username });
        notify_user(&cx.io, &user.to_lowercase(), &note).await;
        let joined = json!({ "room": room.name(), "user": user, "by": cx.me.username });
        to_room(&cx.io, &room.key(), "memberJoined", &joined).await;
    }
    Ok(json!({ "ok": true }))
}

/// `removeMember {room, user, ban?}`: the user's sockets leave the room on
/// every node and hear `removedFromRoom`; the room hears `memberLeft`.
pub async fn remove_member<A: Adapter>(cx: Cx<A>, data: Value) -> Outcome {
    let input = Input::new(&data)?;
    let room = input.room()?;
    let ban = input.opt_bool("ban")?.unwrap_or(false);
    let raw = input.str("user")?;
    let user = if raw.eq_ignore_ascii_case(&cx.me.username) {
        cx.me.username.clone()
    } else {
        registered(&cx, raw).await?
    };
    let req = pb::RemoveMemberRequest {
        room: room.name(),
        user: user.clone(),
        by: cx.me.username.clone(),
        ban,
    };
    let removed = cx.st.app.clients.rooms.clone().remove_member(req).await?;
    if removed.into_inner().removed {
        evict(&cx, &room, &user).await;
    }
    Ok(json!({ "ok": true }))
}

/// Takes every chat socket of `user` out of `room`, on every node, then
/// tells them and the room.
async fn evict<A: Adapter>(cx: &Cx<A>, room: &RoomName, user: &str) {
    let (io, by) = (&cx.io, &cx.me.username);
    let key = room.key();
    let lower = user.to_lowercase();
    for ns in CHAT_NAMESPACES {
        let Some(op) = io.of(ns) else { continue };
        let sockets = op.to(user_key(&lower));
        if let Err(e) = sockets.clone().leave(key.clone()).await {
            tracing::warn!(error = %e, ns, "cross-node leave failed: this node only");
            if let Err(e) = sockets.local().leave(key.clone()).await {
                tracing::warn!(error = %e, ns, "could not take sockets out of a room");
            }
        }
    }
    if let Some(roster) = cx.st.roster.as_ref().filter(|r| r.is_up()) {
        let _order = order::lock(&key, &lower).await;
        if let Err(e) = roster.forget(&key, &lower, user).await {
            tracing::warn!(error = %e, "the roster still lists a removed member in the room");
        }
    }
    let note = json!({ "room": room.name(), "by": by });
    to_room(io, &user_key(&lower), "removedFromRoom", &note).await;
    let left = json!({ "room": room.name(), "user": user, "by": by });
    to_room(io, &key, "memberLeft", &left).await;
}

/// `unban {room, user}`.
pub async fn unban<A: Adapter>(cx: Cx<A>, data: Value) -> Outcome {
    let input = Input::new(&data)?;
    let room = input.room()?;
    let user = registered(&cx, input.str("user")?).await?;
    let req = pb::UnbanRequest {
        room: room.name(),
        user,
        by: cx.me.username.clone(),
    };
    cx.st.app.clients.rooms.clone().unban(req).await?;
    Ok(json!({ "ok": true }))
}

/// `setRole {room, user, role}`: the room hears `roomUpdated`.
pub async fn set_role<A: Adapter>(cx: Cx<A>, data: Value) -> Outcome {
    let input = Input::new(&data)?;
    let room = input.room()?;
    let raw_role = input.str("role")?;
    let role = match raw_role {
        "admin" => pb::Role::Admin,
        "member" => pb::Role::Member,
        _ => {
            return Err(Error::InvalidInput(
                "'role' must be \"admin\" or \"member\"".into(),
            ));
        }
    };
    let user = registered(&cx, input.str("user")?).await?;
    let req = pb::SetRoleRequest {
        room: room.name(),
        user: user.clone(),
        role: role as i32,
        by: cx.me.username.clone(),
    };
    let res = cx.st.app.clients.rooms.clone().set_role(req).await?;
    let mut update = res
        .into_inner()
        .room
        .as_ref()
        .map(room_fields)
        .unwrap_or_default();
    update.insert("user".into(), json!(user));
    update.insert("role".into(), json!(raw_role));
    update.insert("by".into(), json!(cx.me.username));
    to_room(&cx.io, &room.key(), "roomUpdated", &update).await;
    Ok(json!({ "ok": true }))
}

/// `setTopic {room, topic}`: the room hears `roomUpdated`.
pub async fn set_topic<A: Adapter>(cx: Cx<A>, data: Value) -> Outcome {
    let input = Input::new(&data)?;
    let room = input.room()?;
    let topic = input.str("topic")?;
    chat_common::names::check_topic(topic).map_err(|e| Error::InvalidInput(e.0))?;
    let req = pb::SetTopicRequest {
        room: room.name(),
        topic: topic.to_string(),
        by: cx.me.username.clone(),
    };
    let res = cx.st.app.clients.rooms.clone().set_topic(req).await?;
    let mut update = res
        .into_inner()
        .room
        .as_ref()
        .map(room_fields)
        .unwrap_or_default();
    update.insert("by".into(), json!(cx.me.username));
    to_room(&cx.io, &room.key(), "roomUpdated", &update).await;
    Ok(json!({ "ok": true }))
}
