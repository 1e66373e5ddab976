//! Search: every word, the last as a prefix, case and accents ignored,
//! newest first, only the rooms asked, never deleted messages, edits seen at
//! once, paging with `before`, and code-point offsets of the matches.

use std::sync::Arc;

use chat_message::Error;
use chat_message::service::SearchHit;

use super::post;
use crate::Harness;

fn rooms(list: &[&str]) -> Vec<String> {
    list.iter().map(|r| r.to_string()).collect()
}

async fn find(h: &Harness, query: &str, within: &[&str]) -> Vec<SearchHit> {
    h.search(query, &rooms(within), None, 0).await.unwrap().0
}

fn contents(hits: &[SearchHit]) -> Vec<&str> {
    hits.iter().map(|h| h.message.content.as_str()).collect()
}

pub async fn every_word_last_as_prefix_ignoring_case_and_accents(h: Arc<Harness>) {
    post(&h, "room", "alice", "Le Café est fermé").await;
    post(&h, "room", "bob", "CAFE au lait").await;
    post(&h, "room", "carol", "the cafeteria is open").await;
    post(&h, "room", "dave", "nothing here").await;
    assert_eq!(
        contents(&find(&h, "cafe", &["room"]).await),
        ["the cafeteria is open", "CAFE au lait", "Le Café est fermé"],
        "newest first; prefix on the last word"
    );
    assert_eq!(
        contents(&find(&h, "CAFÉ FER", &["room"]).await),
        ["Le Café est fermé"]
    );
    // A word before the last must be whole: "caf" is not "café".
    assert!(find(&h, "caf ferme", &["room"]).await.is_empty());
    assert_eq!(
        contents(&find(&h, "lait café", &["room"]).await),
        ["CAFE au lait"]
    );
    assert!(find(&h, "cafe nothing", &["room"]).await.is_empty());
    // Punctuation is not a word; a query of none finds nothing.
    assert_eq!(
        contents(&find(&h, "\"au\" lait!", &["room"]).await),
        ["CAFE au lait"]
    );
    assert!(find(&h, "!!!", &["room"]).await.is_empty());
}

pub async fn matches_are_code_point_offsets(h: Arc<Harness>) {
    post(&h, "room", "alice", "😀 Crème brûlée, crème!").await;
    let hits = find(&h, "creme bru", &["room"]).await;
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].matches, [(2, 7), (8, 14), (16, 21)]);
}

pub async fn only_the_rooms_asked_and_never_deleted(h: Arc<Harness>) {
    post(&h, "a", "alice", "secret plan").await;
    post(&h, "b", "alice", "secret recipe").await;
    let gone = post(&h, "a", "alice", "secret deleted").await;
    h.delete(&gone.id, "alice").await.unwrap();
    assert_eq!(contents(&find(&h, "secret", &["a"]).await), ["secret plan"]);
    assert_eq!(
        contents(&find(&h, "secret", &["b"]).await),
        ["secret recipe"]
    );
    assert_eq!(find(&h, "secret", &["a", "b"]).await.len(), 2);
    assert!(
        find(&h, "secret", &[]).await.is_empty(),
        "no rooms, nothing"
    );
    assert!(find(&h, "secret", &["c"]).await.is_empty());
    assert!(find(&h, "deleted", &["a"]).await.is_empty());
}

pub async fn edits_are_searched_as_they_are_now(h: Arc<Harness>) {
    let m = post(&h, "room", "alice", "meet at the station").await;
    h.edit(&m.id, "alice", "meet at the airport").await.unwrap();
    assert!(find(&h, "station", &["room"]).await.is_empty());
    let hits = find(&h, "airport", &["room"]).await;
    assert_eq!(hits.len(), 1);
    assert!(hits[0].message.edited_at.is_some());
}

pub async fn pages_newest_first_with_before(h: Arc<Harness>) {
    let mut sent = Vec::new();
    for i in 0..5 {
        sent.push(post(&h, "room", "alice", &format!("report number {i}")).await);
        post(&h, "room", "alice", "unrelated").await;
    }
    let r = rooms(&["room"]);
    let (page, more) = h.search("report", &r, None, 2).await.unwrap();
    assert_eq!(contents(&page), ["report number 4", "report number 3"]);
    assert!(more);
    let last = page[1].message.id.clone();
    let (page, more) = h.search("report", &r, Some(&last), 2).await.unwrap();
    assert_eq!(contents(&page), ["report number 2", "report number 1"]);
    assert!(more);
    let last = page[1].message.id.clone();
    let (page, more) = h.search("report", &r, Some(&last), 2).await.unwrap();
    assert_eq!(contents(&page), ["report number 0"]);
    assert!(!more);
    // Results carry the message as every read does.
    h.react(&sent[0].id, "bob", "👍", true).await.unwrap();
    let (page, _) = h.search("report number 0", &r, None, 0).await.unwrap();
    assert_eq!(page[0].message.reactions.len(), 1);
}

pub async fn search_refusals(h: Arc<Harness>) {
    post(&h, "room", "alice", "hello").await;
    let r = rooms(&["room"]);
    for q in ["", "   ", &"a".repeat(201)] {
        assert!(
            matches!(
                h.search(q, &r, None, 0).await,
                Err(Error::InvalidArgument(_))
            ),
            "{q:?}"
        );
    }
    assert!(h.search(&"a".repeat(200), &r, None, 0).await.is_ok());
    assert!(matches!(
        h.search("hello", &r, None, 101).await,
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        h.search("hello", &r, Some("no-such-id"), 0).await,
        Err(Error::NotFound(_))
    ));
}

/// Embedded only: a database written before replies, reactions and search
/// existed gains them at open, and its messages are found.
pub async fn migrates_an_older_database() {
    use chat_message::service::Messages;
    use chat_message::store::{EmbeddedStore, Store};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("message.sqlite3");
    {
        let old = rusqlite::Connection::open(&path).unwrap();
        old.execute_batch(
            "CREATE TABLE messages (
                id TEXT PRIMARY KEY, room TEXT NOT NULL, sender TEXT NOT NULL,
                content TEXT NOT NULL, avatar_media_id TEXT, ts INTEGER NOT NULL,
                client_id TEXT, attachments TEXT NOT NULL DEFAULT '[]',
                edited_at INTEGER, deleted INTEGER NOT NULL DEFAULT 0,
                UNIQUE (sender, client_id));
             INSERT INTO messages (id, room, sender, content, ts)
                VALUES ('old-1', 'room', 'alice', 'Déjà vu from before', 1000);",
        )
        .unwrap();
    }
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(&path).await.unwrap());
    let h = Messages::new(store, crate::LIMITS);
    let r = rooms(&["room"]);
    let (hits, _) = h.search("deja", &r, None, 0).await.unwrap();
    assert_eq!(contents(&hits), ["Déjà vu from before"]);
    let (m, _) = h.react("old-1", "bob", "👍", true).await.unwrap();
    assert_eq!(m.reactions.len(), 1);
    // New messages are indexed by the triggers, old ones stay found.
    h.post(chat_message::service::NewPost {
        room: "room".into(),
        sender: "bob".into(),
        content: "déjà again".into(),
        reply_to: Some("old-1".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    let (hits, _) = h.search("DEJA", &r, None, 0).await.unwrap();
    assert_eq!(contents(&hits), ["déjà again", "Déjà vu from before"]);
    assert_eq!(
        hits[0].message.reply.as_ref().unwrap().excerpt,
        "Déjà vu from before"
    );
}
