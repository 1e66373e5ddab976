//! Replies: validation (same room), and an excerpt that follows the
//! replied-to message's edits and deletion wherever the reply is read.

use std::sync::Arc;

use chat_message::Error;
use chat_message::model::{Message, ReplyRef};
use chat_message::service::NewPost;

use super::post;
use crate::Harness;

async fn reply(h: &Harness, room: &str, sender: &str, to: &str, content: &str) -> Message {
    h.post(NewPost {
        room: room.into(),
        sender: sender.into(),
        content: content.into(),
        reply_to: Some(to.into()),
        ..NewPost::default()
    })
    .await
    .expect("a valid reply is stored")
    .0
}

pub async fn replies_carry_the_replied_message(h: Arc<Harness>) {
    let original = post(&h, "room", "alice", "Is lunch at noon?").await;
    let r = reply(&h, "room", "bob", &original.id, "yes").await;
    let expected = Some(ReplyRef {
        id: original.id.clone(),
        sender: "alice".into(),
        excerpt: "Is lunch at noon?".into(),
    });
    assert_eq!(r.reply_to.as_deref(), Some(original.id.as_str()));
    assert_eq!(r.reply, expected);
    assert_eq!(h.get(&r.id).await.unwrap().reply, expected);
    let page = h.history("room", None, None, 0).await.unwrap();
    assert_eq!(
        page.messages[0].reply, None,
        "the original replies to nothing"
    );
    assert_eq!(page.messages[1].reply, expected);
}

pub async fn the_excerpt_is_the_first_100_code_points(h: Arc<Harness>) {
    let long = format!("{}{}", "é".repeat(99), "😀xyz");
    let original = post(&h, "room", "alice", &long).await;
    let r = reply(&h, "room", "bob", &original.id, "wow").await;
    let excerpt = r.reply.unwrap().excerpt;
    assert_eq!(excerpt.chars().count(), 100);
    assert!(excerpt.ends_with('😀'));
}

pub async fn the_excerpt_follows_edits_and_deletion(h: Arc<Harness>) {
    let original = post(&h, "room", "alice", "first words").await;
    let r = reply(&h, "room", "bob", &original.id, "agreed").await;
    h.edit(&original.id, "alice", "second words").await.unwrap();
    let read = |h: Arc<Harness>, id: String| async move {
        let page = h.history("room", None, None, 0).await.unwrap();
        let in_page = page.messages.into_iter().find(|m| m.id == id).unwrap();
        let alone = h.get(&id).await.unwrap();
        assert_eq!(in_page.reply, alone.reply);
        alone.reply.unwrap()
    };
    assert_eq!(read(h.clone(), r.id.clone()).await.excerpt, "second words");
    h.delete(&original.id, "alice").await.unwrap();
    let after = read(h.clone(), r.id.clone()).await;
    assert_eq!(
        (
            after.id.as_str(),
            after.sender.as_str(),
            after.excerpt.as_str()
        ),
        (original.id.as_str(), "alice", "")
    );
}

pub async fn replies_must_name_a_message_of_the_same_room(h: Arc<Harness>) {
    let elsewhere = post(&h, "other", "alice", "hi").await;
    for target in [elsewhere.id.as_str(), "no-such-id"] {
        let r = h
            .post(NewPost {
                room: "room".into(),
                sender: "bob".into(),
                content: "hello".into(),
                reply_to: Some(target.into()),
                ..NewPost::default()
            })
            .await;
        assert!(matches!(r, Err(Error::NotFound(_))), "{r:?}");
    }
    let page = h.history("room", None, None, 0).await.unwrap();
    assert!(page.messages.is_empty(), "a refused reply stores nothing");
    // An empty id means no reply.
    let m = h
        .post(NewPost {
            room: "room".into(),
            sender: "bob".into(),
            content: "plain".into(),
            reply_to: Some(String::new()),
            ..NewPost::default()
        })
        .await
        .unwrap()
        .0;
    assert_eq!((m.reply_to, m.reply), (None, None));
}
