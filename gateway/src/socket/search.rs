//! `search {query, room?, before?, limit?}` (PROTOCOL.md § Replies,
//! reactions and search): the message service's full-text search over the
//! rooms this socket is in, or over `room` alone.
//!
//! The rooms searched are the socket's joined rooms until memberships exist
//! on this branch; the service takes the list, so switching to the user's
//! memberships changes only `rooms_to_search`.

use std::collections::BTreeSet;

use chat_proto::message::v1::{ListRoomsRequest, SearchRequest};
use serde_json::{Value, json};
use socketioxide::adapter::Adapter;

use crate::error::Error;

use super::event::{Cx, Outcome};
use super::input::Input;
use super::membership::require_member;
use super::rooms::{RoomName, room_name_of_key};
use chat_common::text;

const DEFAULT_LIMIT: u32 = text::SEARCH_DEFAULT_LIMIT;
const MAX_LIMIT: u64 = text::SEARCH_MAX_LIMIT as u64;

/// The query, by the shared rule (`chat_common::text`).
pub(crate) fn query<'a>(input: &Input<'a>) -> Result<&'a str, Error> {
    text::search_query(input.str("query")?).map_err(|e| Error::InvalidInput(e.0))
}

/// `limit`, 1 to 100, default 20.
pub(crate) fn limit(data: &Value) -> Result<u32, Error> {
    let bad = || {
        Error::InvalidInput(format!(
            "'limit' must be a whole number from 1 to {MAX_LIMIT}"
        ))
    };
    match data.get("limit").filter(|v| !v.is_null()) {
        None => Ok(DEFAULT_LIMIT),
        Some(v) => {
            let n = v.as_u64().or_else(|| {
                v.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 1.0 && *f <= MAX_LIMIT as f64)
                    .map(|f| f as u64)
            });
            match n {
                Some(n @ 1..=MAX_LIMIT) => u32::try_from(n).map_err(|_| bad()),
                _ => Err(bad()),
            }
        }
    }
}

/// The rooms a search covers (PROTOCOL.md § Replies, reactions and search):
/// the caller's memberships, kept by the room service across devices, plus
/// the rooms this socket is in; with `room`, that one room, which must be
/// one of them.
async fn rooms_to_search<A: Adapter>(
    cx: &Cx<A>,
    room: Option<RoomName>,
) -> Result<Vec<String>, Error> {
    let list = cx
        .st
        .app
        .clients
        .rooms
        .clone()
        .list_rooms(ListRoomsRequest {
            user: cx.me.username.clone(),
        })
        .await?
        .into_inner();
    let mut rooms: BTreeSet<String> = list
        .rooms
        .into_iter()
        .filter_map(|e| e.room.map(|r| r.name))
        .collect();
    rooms.extend(
        cx.socket
            .rooms()
            .iter()
            .filter_map(|k| room_name_of_key(k).map(str::to_string)),
    );
    match room {
        Some(room) => {
            let name = room.name();
            if !rooms.contains(&name) {
                require_member(cx, &room)?;
            }
            Ok(vec![name])
        }
        None => Ok(rooms.into_iter().collect()),
    }
}

pub async fn search<A: Adapter>(cx: Cx<A>, data: Value) -> Outcome {
    let input = Input::new(&data)?;
    let query = query(&input)?.to_string();
    let room = input.opt_str("room")?.map(RoomName::parse).transpose()?;
    let before = input.opt_id("before")?.map(str::to_string);
    let limit = limit(&data)?;
    let rooms = rooms_to_search(&cx, room).await?;
    let res = cx
        .st
        .app
        .clients
        .message
        .clone()
        .search(SearchRequest {
            query,
            rooms,
            before,
            limit,
        })
        .await?
        .into_inner();
    let links = cx.links();
    let results: Vec<Value> = res
        .results
        .into_iter()
        .filter_map(|hit| {
            let matches: Vec<[u32; 2]> = hit.matches.iter().map(|m| [m.start, m.end]).collect();
            hit.message
                .map(|m| json!({ "message": links.message(m), "matches": matches }))
        })
        .collect();
    Ok(json!({ "ok": true, "results": results, "hasMore": res.has_more }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_checked() {
        assert_eq!(limit(&json!({})).unwrap(), 20);
        assert_eq!(limit(&json!({"limit": null})).unwrap(), 20);
        assert_eq!(limit(&json!({"limit": 100})).unwrap(), 100);
        assert_eq!(limit(&json!({"limit": 1.0})).unwrap(), 1);
        for bad in [json!(0), json!(101), json!(-1), json!(2.5), json!("5")] {
            assert!(limit(&json!({ "limit": bad })).is_err(), "{bad}");
        }
        let ok = json!({"query": "  café "});
        assert_eq!(query(&Input::new(&ok).unwrap()).unwrap(), "café");
        for bad in [
            json!({"query": " "}),
            json!({"query": 5}),
            json!({}),
            json!({"query": "é".repeat(201)}),
        ] {
            assert!(query(&Input::new(&bad).unwrap()).is_err(), "{bad}");
        }
        assert!(query(&Input::new(&json!({"query": "é".repeat(200)})).unwrap()).is_ok());
    }
}
