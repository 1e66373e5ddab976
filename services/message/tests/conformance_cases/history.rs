//! Ordering and the three paging modes.

use std::sync::Arc;

use chat_message::Error;
use chat_message::model::Message;

use super::{ids, post, post_many};
use crate::Harness;

fn at(ts: i64, id: &str, room: &str) -> Message {
    Message {
        id: id.into(),
        room: room.into(),
        sender: "alice".into(),
        content: format!("{ts}/{id}"),
        avatar_media_id: None,
        ts,
        client_id: None,
        attachments: Vec::new(),
        edited_at: None,
        deleted: false,
        reply_to: None,
        reply: None,
        reactions: Vec::new(),
    }
}

pub async fn orders_by_timestamp_then_id(h: Arc<Harness>) {
    // Inserted out of order, with ties on the timestamp broken by id.
    for (ts, id) in [
        (2000, "b"),
        (1000, "z"),
        (2000, "a"),
        (3000, "c"),
        (2000, "d"),
    ] {
        let (_, created) = h.store.insert(at(ts, id, "r")).await.unwrap();
        assert!(created);
    }
    let page = h.history("r", None, None, 0).await.unwrap();
    assert_eq!(ids(&page.messages), ["z", "a", "b", "d", "c"]);
    assert!(!page.has_more);

    // Cursors respect the tie-break too.
    let older = h.history("r", Some("d"), None, 2).await.unwrap();
    assert_eq!(ids(&older.messages), ["a", "b"]);
    assert!(older.has_more);
    let newer = h.history("r", None, Some("a"), 2).await.unwrap();
    assert_eq!(ids(&newer.messages), ["b", "d"]);
    assert!(newer.has_more);
    let latest = h.history("r", None, None, 2).await.unwrap();
    assert_eq!(ids(&latest.messages), ["d", "c"]);
}

pub async fn latest_page_is_the_newest_oldest_first(h: Arc<Harness>) {
    let all = post_many(&h, "room", "alice", 5).await;
    let page = h.history("room", None, None, 3).await.unwrap();
    assert_eq!(ids(&page.messages), ids(&all[2..]));
    assert!(page.has_more, "two older messages exist");

    let page = h.history("room", None, None, 5).await.unwrap();
    assert_eq!(ids(&page.messages), ids(&all));
    assert!(!page.has_more);

    let page = h.history("room", None, None, 0).await.unwrap();
    assert_eq!(ids(&page.messages), ids(&all), "0 means the default (50)");
    assert!(!page.has_more);

    let empty = h.history("nobody-here", None, None, 10).await.unwrap();
    assert!(empty.messages.is_empty() && !empty.has_more);
}

pub async fn pages_backwards_with_before(h: Arc<Harness>) {
    let all = post_many(&h, "room", "alice", 7).await;
    let page = h.history("room", Some(&all[4].id), None, 2).await.unwrap();
    assert_eq!(ids(&page.messages), ids(&all[2..4]));
    assert!(page.has_more);

    let page = h.history("room", Some(&all[2].id), None, 2).await.unwrap();
    assert_eq!(ids(&page.messages), ids(&all[0..2]));
    assert!(!page.has_more, "exactly the oldest two were left");

    let page = h.history("room", Some(&all[0].id), None, 2).await.unwrap();
    assert!(page.messages.is_empty() && !page.has_more);

    // Walking back from the latest page visits every message once.
    let mut seen = Vec::new();
    let mut page = h.history("room", None, None, 3).await.unwrap();
    loop {
        let mut chunk: Vec<String> = page.messages.iter().map(|m| m.id.clone()).collect();
        chunk.extend(seen);
        seen = chunk;
        if !page.has_more {
            break;
        }
        let oldest = page.messages[0].id.clone();
        page = h.history("room", Some(&oldest), None, 3).await.unwrap();
    }
    assert_eq!(seen, ids(&all));
}

pub async fn pages_forwards_with_after(h: Arc<Harness>) {
    let all = post_many(&h, "room", "alice", 6).await;
    let page = h.history("room", None, Some(&all[1].id), 2).await.unwrap();
    assert_eq!(
        ids(&page.messages),
        ids(&all[2..4]),
        "just newer, oldest first"
    );
    assert!(page.has_more);

    let page = h.history("room", None, Some(&all[3].id), 2).await.unwrap();
    assert_eq!(ids(&page.messages), ids(&all[4..6]));
    assert!(!page.has_more);

    let page = h.history("room", None, Some(&all[5].id), 2).await.unwrap();
    assert!(page.messages.is_empty() && !page.has_more);

    // A newer message arriving later is found by catching up from the last.
    let late = post(&h, "room", "bob", "late").await;
    let page = h.history("room", None, Some(&all[5].id), 50).await.unwrap();
    assert_eq!(ids(&page.messages), [late.id.as_str()]);
}

pub async fn rejects_bad_cursors_and_limits(h: Arc<Harness>) {
    let here = post(&h, "here", "alice", "hi").await;
    let there = post(&h, "there", "alice", "hi").await;
    let not_found = |r: Result<_, Error>| matches!(r, Err(Error::NotFound(_)));
    let invalid = |r: Result<_, Error>| matches!(r, Err(Error::InvalidArgument(_)));

    assert!(not_found(
        h.history("here", Some(&there.id), None, 10).await
    ));
    assert!(not_found(
        h.history("here", None, Some(&there.id), 10).await
    ));
    assert!(not_found(
        h.history("here", Some("no-such-id"), None, 10).await
    ));
    assert!(invalid(
        h.history("here", Some(&here.id), Some(&here.id), 10).await
    ));
    assert!(invalid(h.history("here", None, None, 201).await));
    assert!(invalid(h.history("", None, None, 10).await));
    assert!(h.history("here", None, None, 200).await.is_ok());
    // An empty cursor means "no cursor".
    let page = h.history("here", Some(""), None, 10).await.unwrap();
    assert_eq!(ids(&page.messages), [here.id.as_str()]);
}

pub async fn rooms_are_separate(h: Arc<Harness>) {
    let a = post_many(&h, "a", "alice", 3).await;
    let b = post_many(&h, "b", "alice", 2).await;
    assert_eq!(
        ids(&h.history("a", None, None, 10).await.unwrap().messages),
        ids(&a)
    );
    assert_eq!(
        ids(&h.history("b", None, None, 10).await.unwrap().messages),
        ids(&b)
    );
    // Room names are exact: no prefix or case folding.
    assert!(
        h.history("A", None, None, 10)
            .await
            .unwrap()
            .messages
            .is_empty()
    );
}
