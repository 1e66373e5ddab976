//! Read positions, unread counts, and (embedded only) persistence.

use std::sync::Arc;

use chat_message::Error;
use chat_message::service::{Messages, NewPost};
use chat_message::store::{EmbeddedStore, Store};

use super::{ids, post, post_many};
use crate::{Harness, LIMITS};

pub async fn read_position_moves_only_forward(h: Arc<Harness>) {
    let m = post_many(&h, "room", "alice", 5).await;
    let r = h.mark_read("room", "bob", &m[2].id).await.unwrap();
    assert!(r.moved && r.message_id == m[2].id, "{r:?}");

    let r = h.mark_read("room", "bob", &m[1].id).await.unwrap();
    assert!(
        !r.moved && r.message_id == m[2].id,
        "backwards is ignored: {r:?}"
    );

    let r = h.mark_read("room", "bob", &m[2].id).await.unwrap();
    assert!(
        !r.moved && r.message_id == m[2].id,
        "the same position is not a move"
    );

    let r = h.mark_read("room", "bob", &m[4].id).await.unwrap();
    assert!(r.moved && r.message_id == m[4].id);

    // Positions are per user.
    let r = h.mark_read("room", "carol", &m[0].id).await.unwrap();
    assert!(r.moved && r.message_id == m[0].id);
    let bob = h.unread("bob", &["room".into()]).await.unwrap();
    assert_eq!(bob[0].1.last_read.as_deref(), Some(m[4].id.as_str()));
}

pub async fn concurrent_marks_keep_the_newest(h: Arc<Harness>) {
    let m = post_many(&h, "room", "alice", 20).await;
    // Mark every message at once, in an order unrelated to theirs.
    let order: Vec<usize> = (0..20).map(|i| (i * 7) % 20).collect();
    let tasks: Vec<_> = order
        .iter()
        .map(|&i| {
            let (h, id) = (h.clone(), m[i].id.clone());
            tokio::spawn(async move { (i, h.mark_read("room", "bob", &id).await) })
        })
        .collect();
    let mut moves = 0;
    for t in tasks {
        let (i, r) = t.await.unwrap();
        let r = r.unwrap();
        moves += usize::from(r.moved);
        let now_at = ids(&m).iter().position(|id| *id == r.message_id).unwrap();
        assert!(
            now_at >= i,
            "the position after a mark is never older than it"
        );
    }
    assert!(moves >= 1);
    let last = m.last().unwrap();
    let r = h.mark_read("room", "bob", &m[0].id).await.unwrap();
    assert!(
        !r.moved && r.message_id == last.id,
        "the newest mark won: {r:?}"
    );
}

pub async fn mark_read_needs_a_message_in_the_room(h: Arc<Harness>) {
    let here = post(&h, "here", "alice", "hi").await;
    let there = post(&h, "there", "alice", "hi").await;
    assert!(matches!(
        h.mark_read("here", "bob", &there.id).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        h.mark_read("here", "bob", "no-such-id").await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        h.mark_read("here", "", &here.id).await,
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        h.mark_read("", "bob", &here.id).await,
        Err(Error::InvalidArgument(_))
    ));
    let unread = h.unread("bob", &["here".into()]).await.unwrap();
    assert_eq!(unread[0].1.last_read, None, "failed marks store nothing");
}

/// Bob's `(count, last read)` per room, checking the rooms come back in
/// the order asked.
async fn bob_counts(h: &Harness, rooms: &[String]) -> Vec<(u64, Option<String>)> {
    let r = h.unread("bob", rooms).await.unwrap();
    let order: Vec<&str> = r.iter().map(|(room, _)| room.as_str()).collect();
    assert_eq!(order, rooms.iter().map(String::as_str).collect::<Vec<_>>());
    r.into_iter().map(|(_, u)| (u.count, u.last_read)).collect()
}

pub async fn unread_counts_skip_own_deleted_and_read(h: Arc<Harness>) {
    let a1 = post(&h, "room", "alice", "1").await;
    let _b1 = post(&h, "room", "bob", "2").await;
    let a2 = post(&h, "room", "alice", "3").await;
    let a3 = post(&h, "room", "alice", "4").await;
    let _other = post(&h, "other", "alice", "elsewhere").await;
    let rooms = ["room".to_string(), "other".into(), "empty".into()];

    assert_eq!(
        bob_counts(&h, &rooms).await,
        [(3, None), (1, None), (0, None)]
    );

    h.delete(&a2.id, "alice").await.unwrap();
    assert_eq!(
        bob_counts(&h, &rooms).await[0],
        (2, None),
        "deleted messages are not unread"
    );

    h.mark_read("room", "bob", &a1.id).await.unwrap();
    assert_eq!(bob_counts(&h, &rooms).await[0], (1, Some(a1.id.clone())));

    h.mark_read("room", "bob", &a3.id).await.unwrap();
    assert_eq!(bob_counts(&h, &rooms).await[0], (0, Some(a3.id.clone())));

    post(&h, "room", "alice", "5").await;
    post(&h, "room", "bob", "own messages never count").await;
    assert_eq!(bob_counts(&h, &rooms).await[0], (1, Some(a3.id.clone())));

    // Alice's view: bob's one message in "room" is all she has not sent.
    let alice = h.unread("alice", &["room".into()]).await.unwrap();
    assert_eq!(alice[0].1.count, 2);
    assert!(matches!(
        h.unread("", &rooms).await,
        Err(Error::InvalidArgument(_))
    ));
    assert!(h.unread("bob", &[]).await.unwrap().is_empty());
}

/// Everything written survives closing and reopening the SQLite file.
pub async fn persists_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("message.sqlite3");
    let open = || async {
        let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(&path).await.unwrap());
        Messages::new(store, LIMITS)
    };
    let (kept, edited, deleted);
    {
        let s = open().await;
        kept = s
            .post(NewPost {
                room: "room".into(),
                sender: "alice".into(),
                content: "kept".into(),
                client_id: Some("c-1".into()),
                ..NewPost::default()
            })
            .await
            .unwrap()
            .0;
        let e = s
            .post(NewPost {
                room: "room".into(),
                sender: "alice".into(),
                content: "v1".into(),
                ..NewPost::default()
            })
            .await
            .unwrap()
            .0;
        edited = s.edit(&e.id, "alice", "v2").await.unwrap();
        let d = s
            .post(NewPost {
                room: "room".into(),
                sender: "bob".into(),
                content: "bye".into(),
                ..NewPost::default()
            })
            .await
            .unwrap()
            .0;
        deleted = s.delete(&d.id, "bob").await.unwrap().message;
        s.mark_read("room", "bob", &kept.id).await.unwrap();
    }
    let s = open().await;
    let page = s.history("room", None, None, 50).await.unwrap();
    assert_eq!(page.messages, vec![kept.clone(), edited.clone(), deleted]);
    let (again, created) = s
        .post(NewPost {
            room: "room".into(),
            sender: "alice".into(),
            content: "resend".into(),
            client_id: Some("c-1".into()),
            ..NewPost::default()
        })
        .await
        .unwrap();
    assert!(!created && again == kept);
    let unread = s.unread("bob", &["room".into()]).await.unwrap();
    assert_eq!(
        (unread[0].1.count, unread[0].1.last_read.as_deref()),
        (1, Some(kept.id.as_str()))
    );
    let r = s.mark_read("room", "bob", &kept.id).await.unwrap();
    assert!(!r.moved);
    // Closed before the search index caught up with these sends: the index
    // catches up from the file, with the edit and the delete applied.
    let found = async |q: &str| {
        let (hits, _) = s.search(q, &["room".to_string()], None, 0).await.unwrap();
        hits.into_iter().map(|h| h.message.id).collect::<Vec<_>>()
    };
    assert_eq!(found("kept").await, [kept.id.as_str()]);
    assert_eq!(found("v2").await, [edited.id.as_str()]);
    assert!(found("v1").await.is_empty());
    assert!(found("bye").await.is_empty());
}
