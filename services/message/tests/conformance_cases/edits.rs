//! Edits and soft deletes: authorship, the deleted state, what history shows.

use std::sync::Arc;

use chat_message::Error;
use chat_message::model::Attachment;
use chat_message::service::NewPost;

use super::post;
use crate::Harness;

pub async fn author_edits_and_others_cannot(h: Arc<Harness>) {
    let m = post(&h, "room", "alice", "first").await;
    let edited = h.edit(&m.id, "alice", "  second  ").await.unwrap();
    assert_eq!(edited.content, "second");
    assert!(edited.edited_at.is_some_and(|t| t >= m.ts));
    assert_eq!(
        (edited.ts, &edited.id, &edited.sender),
        (m.ts, &m.id, &m.sender)
    );
    assert_eq!(h.get(&m.id).await.unwrap(), edited);

    let denied = h.edit(&m.id, "bob", "mine now").await;
    assert!(
        matches!(&denied, Err(Error::PermissionDenied(t)) if t == "Only the author can edit this message"),
        "{denied:?}"
    );
    // Usernames are exact: a case variant is someone else.
    assert!(matches!(
        h.edit(&m.id, "Alice", "x").await,
        Err(Error::PermissionDenied(_))
    ));
    assert!(matches!(
        h.edit("no-such-id", "alice", "x").await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        h.edit(&m.id, "alice", " \n ").await,
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        h.edit(&m.id, "alice", &"a".repeat(4001)).await,
        Err(Error::InvalidArgument(_))
    ));
    assert_eq!(
        h.get(&m.id).await.unwrap().content,
        "second",
        "refused edits change nothing"
    );
}

pub async fn deleted_messages_cannot_be_edited(h: Arc<Harness>) {
    let m = post(&h, "room", "alice", "hi").await;
    h.delete(&m.id, "alice").await.unwrap();
    assert!(matches!(
        h.edit(&m.id, "alice", "back").await,
        Err(Error::FailedPrecondition(_))
    ));
    // The store's own condition holds even if the rules layer were raced.
    assert_eq!(h.store.edit(&m.id, "back", 1).await.unwrap(), None);
    let stored = h.get(&m.id).await.unwrap();
    assert!(stored.deleted && stored.content.is_empty());
}

pub async fn soft_delete_keeps_the_message_in_history(h: Arc<Harness>) {
    let files = vec![
        Attachment {
            id: "m1".into(),
            content_type: "image/png".into(),
            size: 10,
            name: "a.png".into(),
        },
        Attachment {
            id: "m2".into(),
            content_type: "text/plain".into(),
            size: 20,
            name: "b.txt".into(),
        },
    ];
    let before = post(&h, "room", "bob", "before").await;
    let (m, _) = h
        .post(NewPost {
            room: "room".into(),
            sender: "alice".into(),
            content: "with files".into(),
            client_id: Some("c-1".into()),
            attachments: files.clone(),
            ..NewPost::default()
        })
        .await
        .unwrap();
    let after = post(&h, "room", "bob", "after").await;

    let deleted = h.delete(&m.id, "alice").await.unwrap();
    assert!(deleted.changed);
    assert_eq!(deleted.removed, files);
    let gone = &deleted.message;
    assert!(gone.deleted && gone.content.is_empty() && gone.attachments.is_empty());
    assert_eq!(
        (&gone.id, &gone.room, &gone.sender, gone.ts),
        (&m.id, &m.room, &m.sender, m.ts)
    );

    let page = h.history("room", None, None, 50).await.unwrap();
    let listed: Vec<_> = page
        .messages
        .iter()
        .map(|x| (x.id.as_str(), x.deleted))
        .collect();
    assert_eq!(
        listed,
        [
            (before.id.as_str(), false),
            (m.id.as_str(), true),
            (after.id.as_str(), false)
        ]
    );
    assert_eq!(&page.messages[1], gone);
    // The client id stays taken: a resend returns the deleted message.
    let (resent, created) = h
        .post(NewPost {
            room: "room".into(),
            sender: "alice".into(),
            content: "again".into(),
            client_id: Some("c-1".into()),
            ..NewPost::default()
        })
        .await
        .unwrap();
    assert!(!created && resent.deleted && resent.id == m.id);
}

pub async fn delete_rules(h: Arc<Harness>) {
    let m = post(&h, "room", "alice", "hi").await;
    let denied = h.delete(&m.id, "bob").await;
    assert!(
        matches!(denied, Err(Error::PermissionDenied(_))),
        "{denied:?}"
    );
    assert!(!h.get(&m.id).await.unwrap().deleted);
    assert!(matches!(
        h.delete("no-such-id", "alice").await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        h.delete(&m.id, "").await,
        Err(Error::InvalidArgument(_))
    ));

    let first = h.delete(&m.id, "alice").await.unwrap();
    let second = h.delete(&m.id, "alice").await.unwrap();
    assert!(first.changed && !second.changed);
    assert!(second.removed.is_empty());
    assert_eq!(second.message, first.message);
    // Still author only once deleted.
    assert!(matches!(
        h.delete(&m.id, "bob").await,
        Err(Error::PermissionDenied(_))
    ));

    // Racing deletes: exactly one reports the change.
    let m = post(&h, "room", "alice", "race").await;
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let (h, id) = (h.clone(), m.id.clone());
            tokio::spawn(async move { h.delete(&id, "alice").await })
        })
        .collect();
    let mut changed = 0;
    for t in tasks {
        changed += usize::from(t.await.unwrap().unwrap().changed);
    }
    assert_eq!(changed, 1);
}
