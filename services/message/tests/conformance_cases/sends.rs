//! Posting: what is stored, idempotency per (sender, client_id), refusals.

use std::sync::Arc;

use chat_message::Error;
use chat_message::model::Attachment;
use chat_message::service::NewPost;

use super::{ids, post};
use crate::Harness;

fn with_client_id(sender: &str, client_id: &str, content: &str) -> NewPost {
    NewPost {
        room: "room".into(),
        sender: sender.into(),
        content: content.into(),
        client_id: Some(client_id.into()),
        ..NewPost::default()
    }
}

pub async fn stores_trimmed_content_and_fields(h: Arc<Harness>) {
    let attachment = Attachment {
        id: "media-1".into(),
        content_type: "image/png".into(),
        size: 1234,
        name: "cat.png".into(),
    };
    let (message, created) = h
        .post(NewPost {
            room: "room".into(),
            sender: "alice".into(),
            content: "  héllo 😀 \n".into(),
            client_id: Some("c-1".into()),
            avatar_media_id: Some("avatar-1".into()),
            attachments: vec![attachment.clone()],
            reply_to: None,
        })
        .await
        .unwrap();
    assert!(created);
    assert_eq!(message.content, "héllo 😀");
    assert!(!message.deleted && message.edited_at.is_none());
    let stored = h.get(&message.id).await.unwrap();
    assert_eq!(stored, message, "what was returned is what is stored");
    assert_eq!(stored.avatar_media_id.as_deref(), Some("avatar-1"));
    assert_eq!(stored.client_id.as_deref(), Some("c-1"));
    assert_eq!(stored.attachments, vec![attachment]);
    assert!(uuid::Uuid::parse_str(&stored.id).unwrap().get_version_num() == 7);
    let now = chat_common::time::now_millis();
    assert!(
        (now - 60_000..=now).contains(&stored.ts),
        "server time at insert"
    );
    assert!(matches!(h.get("no-such-id").await, Err(Error::NotFound(_))));
}

pub async fn client_id_dedupes_per_sender(h: Arc<Harness>) {
    let (first, created) = h
        .post(with_client_id("alice", "c-42", "first"))
        .await
        .unwrap();
    assert!(created);
    let (again, created) = h
        .post(with_client_id("alice", "c-42", "second"))
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(again, first, "the stored message comes back unchanged");

    // The key is per sender: bob may use the same client id.
    let (bobs, created) = h
        .post(with_client_id("bob", "c-42", "bob's"))
        .await
        .unwrap();
    assert!(created);
    assert_ne!(bobs.id, first.id);

    assert_eq!(h.by_client_id("alice", "c-42").await.unwrap(), first);
    assert_eq!(h.by_client_id("bob", "c-42").await.unwrap().id, bobs.id);
    assert!(matches!(
        h.by_client_id("carol", "c-42").await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        h.by_client_id("alice", "c-43").await,
        Err(Error::NotFound(_))
    ));

    // Posts without a client id are never merged.
    let a = post(&h, "room", "alice", "same").await;
    let b = post(&h, "room", "alice", "same").await;
    assert_ne!(a.id, b.id);
    let page = h.history("room", None, None, 50).await.unwrap();
    assert_eq!(ids(&page.messages), [&first.id, &bobs.id, &a.id, &b.id]);
}

pub async fn racing_posts_with_one_client_id_store_one(h: Arc<Harness>) {
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let h = h.clone();
            tokio::spawn(async move {
                h.post(with_client_id("alice", "race", &format!("attempt {i}")))
                    .await
            })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap().unwrap());
    }
    assert_eq!(results.iter().filter(|(_, created)| *created).count(), 1);
    let winner = &results[0].0;
    assert!(
        results.iter().all(|(m, _)| m == winner),
        "every caller sees one message"
    );
    let page = h.history("room", None, None, 50).await.unwrap();
    assert_eq!(ids(&page.messages), [winner.id.as_str()]);
}

pub async fn rejects_invalid_posts(h: Arc<Harness>) {
    let invalid = |r: Result<_, Error>| matches!(r, Err(Error::InvalidArgument(_)));
    let base = NewPost {
        room: "room".into(),
        sender: "alice".into(),
        content: "hi".into(),
        ..NewPost::default()
    };
    for bad in [
        NewPost {
            content: "   \n\t".into(),
            ..base.clone()
        },
        NewPost {
            content: String::new(),
            ..base.clone()
        },
        NewPost {
            content: "é".repeat(4001),
            ..base.clone()
        },
        NewPost {
            room: String::new(),
            ..base.clone()
        },
        NewPost {
            sender: String::new(),
            ..base.clone()
        },
    ] {
        assert!(invalid(h.post(bad).await));
    }
    let (longest, _) = h
        .post(NewPost {
            content: format!(" {} ", "é".repeat(4000)),
            ..base.clone()
        })
        .await
        .unwrap();
    assert_eq!(longest.content.chars().count(), 4000);
    // A refused post with a client id stores nothing under it.
    let refused = NewPost {
        content: " ".into(),
        client_id: Some("c".into()),
        ..base
    };
    assert!(invalid(h.post(refused).await));
    assert!(matches!(
        h.by_client_id("alice", "c").await,
        Err(Error::NotFound(_))
    ));
}

/// Whatever a call has written is seen by any call issued after it
/// returned, from any task: the embedded store reads on other connections
/// than it writes on, so this pins read-your-writes across them, under
/// concurrent writers.
pub async fn reads_after_a_write_see_it(h: Arc<Harness>) {
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let h = h.clone();
            tokio::spawn(async move {
                let (room, client_id) = (format!("room-{i}"), format!("c-{i}"));
                let (sent, _) = h
                    .post(NewPost {
                        room: room.clone(),
                        ..with_client_id("alice", &client_id, "hi")
                    })
                    .await
                    .unwrap();
                let reader = {
                    let (h, id) = (h.clone(), sent.id.clone());
                    tokio::spawn(async move {
                        (h.get(&id).await, h.by_client_id("alice", &client_id).await)
                    })
                };
                let (by_id, by_client) = reader.await.unwrap();
                assert_eq!(by_id.unwrap(), sent);
                assert_eq!(by_client.unwrap(), sent);
                let page = h.history(&room, None, None, 50).await.unwrap();
                assert_eq!(page.messages, std::slice::from_ref(&sent));
                let unread = h.unread("bob", std::slice::from_ref(&room)).await.unwrap();
                assert_eq!(
                    (unread[0].1.count, unread[0].1.last_read.as_deref()),
                    (1, None)
                );

                let edited = h.edit(&sent.id, "alice", "edited").await.unwrap();
                assert_eq!(h.get(&sent.id).await.unwrap(), edited);
                h.mark_read(&room, "bob", &sent.id).await.unwrap();
                let unread = h.unread("bob", std::slice::from_ref(&room)).await.unwrap();
                assert_eq!(
                    (unread[0].1.count, unread[0].1.last_read.as_deref()),
                    (0, Some(sent.id.as_str()))
                );
                h.delete(&sent.id, "alice").await.unwrap();
                let page = h.history(&room, None, None, 50).await.unwrap();
                assert!(page.messages[0].deleted && page.messages[0].content.is_empty());
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}
