//! Who is in a room, read from socket.io's own room lists (every chat socket
//! also sits in a room named after its user), so the answer covers every
//! node once the adapter is shared.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;

use crate::error::Error;

use super::event::{Cx, Outcome};
use super::fanout::chat_rooms_of;
use super::input::Input;
use super::membership::require_member;
use super::rooms::username_of_name_key;

/// `presence {room}` → `{ok, users}`.
pub async fn presence<A: Adapter>(cx: Cx<A>, data: Value) -> Outcome {
    let room = Input::new(&data)?.room()?;
    let key = require_member(&cx, &room)?;
    let users = users_in_room(&cx.io, &key).await?;
    Ok(json!({ "ok": true, "users": users }))
}

/// The usernames (as registered, sorted) with a chat socket in room `key`.
pub async fn users_in_room<A: Adapter>(io: &SocketIo<A>, key: &str) -> Result<Vec<String>, Error> {
    let rooms = chat_rooms_of(io, key).await?;
    let users: BTreeSet<&str> = rooms
        .iter()
        .filter_map(|r| username_of_name_key(r))
        .collect();
    Ok(users.into_iter().map(str::to_string).collect())
}
