//! Rooms and memberships: creation, joins, invites, removal and bans,
//! roles, topics, the room list, and direct-message memberships, through
//! the room rules so both backends are held to the same behaviour.

use std::sync::Arc;

use chat_message::Error;
use chat_message::rooms::Role;

use super::post;
use crate::Harness;

fn denied<T: std::fmt::Debug>(r: Result<T, Error>) -> bool {
    matches!(r, Err(Error::PermissionDenied(_)))
}

fn role_of(members: &[chat_message::rooms::Membership], user: &str) -> Option<Role> {
    members.iter().find(|m| m.user == user).map(|m| m.role)
}

pub async fn first_join_makes_an_ownerless_public_room(h: Arc<Harness>) {
    let (room, role) = h.rooms.join("lobby", "Alice").await.unwrap();
    assert!(!room.private && room.owner.is_none(), "{room:?}");
    assert_eq!(role, Role::Member);
    // Joining again changes nothing; case does not make a second member.
    h.rooms.join("lobby", "alice").await.unwrap();
    h.rooms.join("lobby", "bob").await.unwrap();
    let members = h.rooms.members("lobby", "bob").await.unwrap();
    assert_eq!(members.len(), 2, "{members:?}");
    // The name as first seen is kept.
    assert_eq!(role_of(&members, "Alice"), Some(Role::Member));
    assert!(matches!(
        h.rooms.join("bad name", "bob").await,
        Err(Error::InvalidArgument(_))
    ));
}

pub async fn create_room_is_unique_and_makes_the_owner(h: Arc<Harness>) {
    let (room, role) = h
        .rooms
        .create("team", true, "plans", "alice")
        .await
        .unwrap();
    assert!(room.private && room.owner.as_deref() == Some("alice") && room.topic == "plans");
    assert_eq!(role, Role::Owner);
    assert!(matches!(
        h.rooms.create("team", false, "", "bob").await,
        Err(Error::AlreadyExists(_))
    ));
    // A public room made by a join is taken too.
    h.rooms.join("open", "bob").await.unwrap();
    assert!(matches!(
        h.rooms.create("open", false, "", "carol").await,
        Err(Error::AlreadyExists(_))
    ));
    assert!(matches!(
        h.rooms.create("dm:alice:bob", true, "", "alice").await,
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        h.rooms
            .create("long", true, &"t".repeat(251), "alice")
            .await,
        Err(Error::InvalidArgument(_))
    ));
    let members = h.rooms.members("team", "alice").await.unwrap();
    assert_eq!(role_of(&members, "alice"), Some(Role::Owner));
}

pub async fn private_rooms_admit_members_only(h: Arc<Harness>) {
    h.rooms.create("secret", true, "", "alice").await.unwrap();
    assert!(denied(h.rooms.join("secret", "bob").await));
    assert!(denied(h.rooms.members("secret", "bob").await));
    assert!(h.rooms.invite("secret", "bob", "alice").await.unwrap());
    let (_, role) = h.rooms.join("secret", "bob").await.unwrap();
    assert_eq!(role, Role::Member);
    assert!(matches!(
        h.rooms.members("nowhere", "bob").await,
        Err(Error::NotFound(_))
    ));
}

pub async fn invites_follow_the_roles(h: Arc<Harness>) {
    h.rooms.create("priv", true, "", "alice").await.unwrap();
    h.rooms.invite("priv", "bob", "alice").await.unwrap();
    // A plain member cannot invite to a private room; an admin can.
    assert!(denied(h.rooms.invite("priv", "carol", "bob").await));
    h.rooms
        .set_role("priv", "bob", "admin", "alice")
        .await
        .unwrap();
    assert!(h.rooms.invite("priv", "carol", "bob").await.unwrap());
    // Inviting a member again adds nothing.
    assert!(!h.rooms.invite("priv", "carol", "alice").await.unwrap());
    // Non-members cannot invite anywhere; any member of a public room can.
    assert!(denied(h.rooms.invite("priv", "erin", "dave").await));
    h.rooms.join("pub", "dave").await.unwrap();
    assert!(h.rooms.invite("pub", "erin", "dave").await.unwrap());
    assert!(denied(h.rooms.invite("pub", "frank", "gina").await));
    assert!(matches!(
        h.rooms.invite("nowhere", "erin", "dave").await,
        Err(Error::NotFound(_))
    ));
}

pub async fn removal_and_bans(h: Arc<Harness>) {
    h.rooms.create("r", true, "", "alice").await.unwrap();
    for u in ["bob", "carol", "dave"] {
        h.rooms.invite("r", u, "alice").await.unwrap();
    }
    h.rooms
        .set_role("r", "bob", "admin", "alice")
        .await
        .unwrap();
    // A member removes nobody but themselves.
    assert!(denied(h.rooms.remove("r", "dave", "carol", false).await));
    assert!(h.rooms.remove("r", "carol", "carol", false).await.unwrap());
    assert!(
        denied(h.rooms.join("r", "carol").await),
        "left a private room"
    );
    // Nobody removes the owner; an admin removes an admin or member.
    assert!(denied(h.rooms.remove("r", "alice", "bob", false).await));
    assert!(denied(h.rooms.remove("r", "alice", "bob", true).await));
    assert!(h.rooms.remove("r", "dave", "bob", true).await.unwrap());
    assert!(denied(h.rooms.invite("r", "dave", "alice").await), "banned");
    assert!(denied(h.rooms.join("r", "dave").await));
    let members = h.rooms.members("r", "alice").await.unwrap();
    assert_eq!(role_of(&members, "dave"), None, "a ban is not a membership");
    assert!(h.rooms.unban("r", "dave", "alice").await.unwrap());
    assert!(!h.rooms.unban("r", "dave", "alice").await.unwrap());
    assert!(h.rooms.invite("r", "dave", "alice").await.unwrap());
    // Removing a non-member is NOT_FOUND; a member cannot ban or unban.
    assert!(matches!(
        h.rooms.remove("r", "zed", "alice", false).await,
        Err(Error::NotFound(_))
    ));
    assert!(denied(h.rooms.unban("r", "dave", "dave").await));
    // Bans also keep people out of public rooms.
    h.rooms.create("pub", false, "", "alice").await.unwrap();
    h.rooms.join("pub", "erin").await.unwrap();
    h.rooms.remove("pub", "erin", "alice", true).await.unwrap();
    assert!(denied(h.rooms.join("pub", "erin").await));
    assert!(denied(h.rooms.join("pub", "ERIN").await), "ignoring case");
}

pub async fn roles_are_the_owners_to_give(h: Arc<Harness>) {
    h.rooms.create("r", false, "", "alice").await.unwrap();
    h.rooms.join("r", "bob").await.unwrap();
    h.rooms.join("r", "carol").await.unwrap();
    assert!(denied(h.rooms.set_role("r", "carol", "admin", "bob").await));
    h.rooms
        .set_role("r", "bob", "admin", "alice")
        .await
        .unwrap();
    assert!(
        denied(h.rooms.set_role("r", "carol", "admin", "bob").await),
        "admins do not promote"
    );
    assert!(denied(
        h.rooms.set_role("r", "alice", "member", "alice").await
    ));
    assert!(matches!(
        h.rooms.set_role("r", "bob", "owner", "alice").await,
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        h.rooms.set_role("r", "zed", "admin", "alice").await,
        Err(Error::NotFound(_))
    ));
    h.rooms
        .set_role("r", "bob", "member", "alice")
        .await
        .unwrap();
    let members = h.rooms.members("r", "carol").await.unwrap();
    assert_eq!(role_of(&members, "bob"), Some(Role::Member));
}

pub async fn topics_by_role_and_length(h: Arc<Harness>) {
    h.rooms.create("owned", false, "", "alice").await.unwrap();
    h.rooms.join("owned", "bob").await.unwrap();
    assert!(denied(h.rooms.set_topic("owned", "mine", "bob").await));
    let room = h
        .rooms
        .set_topic("owned", "release", "alice")
        .await
        .unwrap();
    assert_eq!(room.topic, "release");
    // In an ownerless public room any member may; non-members never.
    h.rooms.join("free", "bob").await.unwrap();
    assert_eq!(
        h.rooms.set_topic("free", "hi", "bob").await.unwrap().topic,
        "hi"
    );
    assert!(denied(h.rooms.set_topic("free", "x", "carol").await));
    assert!(
        h.rooms
            .set_topic("free", &"é".repeat(250), "bob")
            .await
            .is_ok()
    );
    assert!(matches!(
        h.rooms.set_topic("free", &"é".repeat(251), "bob").await,
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        h.rooms.set_topic("nowhere", "x", "bob").await,
        Err(Error::NotFound(_))
    ));
    let list = h.rooms.list("bob").await.unwrap();
    let free = list.iter().find(|e| e.room.name == "free").unwrap();
    assert_eq!(free.room.topic, "é".repeat(250), "the topic is stored");
}

pub async fn room_list_has_unread_last_message_and_activity_order(h: Arc<Harness>) {
    h.rooms.join("a", "bob").await.unwrap();
    h.rooms.join("b", "bob").await.unwrap();
    h.rooms.join("c", "bob").await.unwrap();
    post(&h, "a", "alice", "one").await;
    let two = post(&h, "a", "alice", "two").await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let last = post(&h, "b", "alice", "newest").await;
    let list = h.rooms.list("bob").await.unwrap();
    let names: Vec<&str> = list.iter().map(|e| e.room.name.as_str()).collect();
    assert_eq!(names, ["b", "a", "c"]);
    assert_eq!(
        list[0].last_message.as_ref().map(|m| m.id.as_str()),
        Some(last.id.as_str())
    );
    assert_eq!((list[0].unread, list[1].unread, list[2].unread), (1, 2, 0));
    assert!(list[2].last_message.is_none());
    h.mark_read("a", "bob", &two.id).await.unwrap();
    let list = h.rooms.list("bob").await.unwrap();
    assert_eq!(list[1].unread, 0);
    // A removed member no longer lists the room.
    h.rooms.remove("c", "bob", "bob", false).await.unwrap();
    assert_eq!(h.rooms.list("bob").await.unwrap().len(), 2);
}

pub async fn first_direct_message_makes_both_members(h: Arc<Harness>) {
    assert!(h.rooms.list("bob").await.unwrap().is_empty());
    post(&h, "dm:alice:bob", "Alice", "hello").await;
    let bob = h.rooms.list("bob").await.unwrap();
    assert_eq!(bob.len(), 1);
    assert_eq!(bob[0].room.name, "dm:alice:bob");
    assert!(bob[0].room.private);
    assert_eq!(bob[0].unread, 1);
    // Unread counts compare senders by the name as registered.
    let alice = h.rooms.list("Alice").await.unwrap();
    assert_eq!((alice.len(), alice[0].unread), (1, 0));
    let members = h.rooms.members("dm:alice:bob", "bob").await.unwrap();
    let mut users: Vec<&str> = members.iter().map(|m| m.user.as_str()).collect();
    users.sort();
    assert_eq!(users, ["Alice", "bob"]);
    assert!(denied(h.rooms.members("dm:alice:bob", "carol").await));
    assert!(denied(h.rooms.join("dm:alice:bob", "carol").await));
    assert!(denied(
        h.rooms.invite("dm:alice:bob", "carol", "alice").await
    ));
    // Later messages add nobody.
    post(&h, "dm:alice:bob", "bob", "hi").await;
    assert_eq!(
        h.rooms
            .members("dm:alice:bob", "alice")
            .await
            .unwrap()
            .len(),
        2
    );
}

pub async fn racing_joins_make_one_membership(h: Arc<Harness>) {
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let h = h.clone();
            let user = if i % 2 == 0 { "Bob" } else { "bob" };
            tokio::spawn(async move { h.rooms.join("race", user).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(h.rooms.members("race", "bob").await.unwrap().len(), 1);
}
