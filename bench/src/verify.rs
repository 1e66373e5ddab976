//! After a scenario: pages back through each room's stored history and
//! checks it holds exactly the acknowledged messages.

use std::collections::HashMap;

use crate::error::Error;
use crate::sio::{self, Ws};

const PAGE: u64 = 200;

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Check {
    pub rooms: usize,
    pub acknowledged: u64,
    pub stored: u64,
    /// Acknowledged but not in history (or stored under another id).
    pub missing: u64,
    /// In history but never acknowledged (a send whose ack never came).
    pub extra: u64,
    /// The same clientId stored more than once.
    pub duplicates: u64,
}

impl Check {
    pub fn add(&mut self, other: &Check) {
        self.rooms += other.rooms;
        self.acknowledged += other.acknowledged;
        self.stored += other.stored;
        self.missing += other.missing;
        self.extra += other.extra;
        self.duplicates += other.duplicates;
    }
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page {
    ok: bool,
    #[serde(default)]
    messages: Vec<Stored>,
    #[serde(default)]
    has_more: bool,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Stored {
    id: String,
    client_id: Option<String>,
}

/// Reads all of `room` through `ws` (already a member) with `history`
/// pages walking back by `before`; returns `(id, clientId)` newest last.
pub async fn stored(
    ws: &mut Ws,
    room: &str,
    first_ack_id: u64,
) -> Result<Vec<(String, Option<String>)>, Error> {
    let mut all: Vec<(String, Option<String>)> = Vec::new();
    let mut before: Option<String> = None;
    let mut ack_id = first_ack_id;
    loop {
        let mut query = serde_json::json!({ "room": room, "limit": PAGE });
        if let Some(b) = &before {
            query["before"] = serde_json::Value::String(b.clone());
        }
        ack_id += 1;
        let reply = sio::call(ws, ack_id, "history", &query).await?;
        let page: Page = serde_json::from_value(reply.clone())?;
        if !page.ok {
            return Err(Error::Server(format!("history of {room} refused: {reply}")));
        }
        let Some(oldest) = page.messages.first() else {
            break;
        };
        before = Some(oldest.id.clone());
        let mut chunk: Vec<_> = page
            .messages
            .into_iter()
            .map(|m| (m.id, m.client_id))
            .collect();
        chunk.append(&mut all);
        all = chunk;
        if !page.has_more {
            break;
        }
    }
    Ok(all)
}

/// Compares a room's acknowledged `(clientId, id)` pairs with what it stores.
pub fn compare(acked: &[(String, String)], stored: &[(String, Option<String>)]) -> Check {
    let mut by_client: HashMap<&str, &str> = HashMap::with_capacity(stored.len());
    let mut duplicates = 0;
    for (id, cid) in stored
        .iter()
        .filter_map(|(id, cid)| Some((id, cid.as_deref()?)))
    {
        if by_client.insert(cid, id).is_some() {
            duplicates += 1;
        }
    }
    let mut matched = 0u64;
    let mut missing = 0u64;
    for (cid, id) in acked {
        match by_client.get(cid.as_str()) {
            Some(stored_id) if *stored_id == id => matched += 1,
            _ => missing += 1,
        }
    }
    Check {
        rooms: 1,
        acknowledged: acked.len() as u64,
        stored: stored.len() as u64,
        missing,
        extra: stored.len() as u64 - matched - duplicates,
        duplicates,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ack(c: &str, i: &str) -> (String, String) {
        (c.into(), i.into())
    }
    fn st(i: &str, c: &str) -> (String, Option<String>) {
        (i.into(), Some(c.into()))
    }

    #[test]
    fn exact_history_passes() {
        let check = compare(
            &[ack("a", "1"), ack("b", "2")],
            &[st("1", "a"), st("2", "b")],
        );
        assert_eq!((check.missing, check.extra, check.duplicates), (0, 0, 0));
    }

    #[test]
    fn finds_missing_extra_and_duplicates() {
        let check = compare(
            &[ack("a", "1"), ack("b", "2"), ack("c", "3")],
            &[
                st("1", "a"),
                st("9", "b"),
                st("4", "d"),
                st("5", "d"),
                (String::from("6"), None),
            ],
        );
        // "b" is stored under another id, "c" not at all.
        assert_eq!(check.missing, 2);
        // "b" under id 9, "d" once, the unlabelled one.
        assert_eq!(check.extra, 3);
        assert_eq!(check.duplicates, 1);
    }
}
