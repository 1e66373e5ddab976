//! Reactions: unique per (message, emoji, user), idempotent, ordered by
//! first appearance, capped per message, refused on deleted messages.

use std::sync::Arc;

use chat_message::Error;
use chat_message::model::Reaction;

use super::post;
use crate::Harness;

fn summary(list: &[Reaction]) -> Vec<(&str, u32, Vec<&str>)> {
    list.iter()
        .map(|r| {
            (
                r.emoji.as_str(),
                r.count,
                r.users.iter().map(String::as_str).collect(),
            )
        })
        .collect()
}

pub async fn reactions_add_remove_and_are_idempotent(h: Arc<Harness>) {
    let m = post(&h, "room", "alice", "party").await;
    let (after, changed) = h.react(&m.id, "bob", "👍", true).await.unwrap();
    assert!(changed);
    assert_eq!(summary(&after.reactions), [("👍", 1, vec!["bob"])]);
    let (after, changed) = h.react(&m.id, "bob", "👍", true).await.unwrap();
    assert!(!changed, "the same reaction twice is a no-op");
    assert_eq!(summary(&after.reactions), [("👍", 1, vec!["bob"])]);
    h.react(&m.id, "carol", "🎉", true).await.unwrap();
    let (after, _) = h.react(&m.id, "alice", "👍", true).await.unwrap();
    assert_eq!(
        summary(&after.reactions),
        [("👍", 2, vec!["bob", "alice"]), ("🎉", 1, vec!["carol"])]
    );
    let (after, changed) = h.react(&m.id, "bob", "👍", false).await.unwrap();
    assert!(changed);
    let (_, changed) = h.react(&m.id, "bob", "👍", false).await.unwrap();
    assert!(!changed, "removing what is not there is a no-op");
    assert_eq!(
        summary(&after.reactions),
        [("👍", 1, vec!["alice"]), ("🎉", 1, vec!["carol"])]
    );
    // Every read shows them.
    let page = h.history("room", None, None, 0).await.unwrap();
    assert_eq!(page.messages[0].reactions, after.reactions);
    assert_eq!(h.get(&m.id).await.unwrap().reactions, after.reactions);
    // The last one gone, the emoji goes too.
    h.react(&m.id, "carol", "🎉", false).await.unwrap();
    let (after, _) = h.react(&m.id, "alice", "👍", false).await.unwrap();
    assert!(after.reactions.is_empty());
}

pub async fn reaction_refusals(h: Arc<Harness>) {
    let m = post(&h, "room", "alice", "hi").await;
    for bad in ["", "ok", "👍👍", " 👍"] {
        let r = h.react(&m.id, "bob", bad, true).await;
        assert!(
            matches!(r, Err(Error::InvalidArgument(_))),
            "{bad:?}: {r:?}"
        );
    }
    assert!(matches!(
        h.react("no-such-id", "bob", "👍", true).await,
        Err(Error::NotFound(_))
    ));
    h.react(&m.id, "bob", "👍", true).await.unwrap();
    h.delete(&m.id, "alice").await.unwrap();
    assert!(matches!(
        h.react(&m.id, "bob", "🎉", true).await,
        Err(Error::FailedPrecondition(_))
    ));
    assert!(matches!(
        h.react(&m.id, "bob", "👍", false).await,
        Err(Error::FailedPrecondition(_))
    ));
    assert!(
        h.get(&m.id).await.unwrap().reactions.is_empty(),
        "a deleted message shows no reactions"
    );
}

pub async fn at_most_20_distinct_emoji(h: Arc<Harness>) {
    let m = post(&h, "room", "alice", "vote").await;
    let emoji: Vec<&str> = vec![
        "😀", "😃", "😄", "😁", "😆", "😅", "🤣", "😂", "🙂", "🙃", "😉", "😊", "😇", "🥰", "😍",
        "🤩", "😘", "😗", "😚", "😙", "😋",
    ];
    for e in &emoji[..20] {
        h.react(&m.id, "bob", e, true).await.unwrap();
    }
    let r = h.react(&m.id, "carol", emoji[20], true).await;
    assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
    // One already there can still gain users.
    let (after, changed) = h.react(&m.id, "carol", emoji[0], true).await.unwrap();
    assert!(changed);
    assert_eq!(after.reactions.len(), 20);
    assert_eq!(after.reactions[0].users, ["bob", "carol"]);
    let order: Vec<&str> = after.reactions.iter().map(|r| r.emoji.as_str()).collect();
    assert_eq!(order, emoji[..20]);
}
