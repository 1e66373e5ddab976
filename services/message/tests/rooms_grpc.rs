//! `chat.message.v1.RoomService` over a real server: who may do what, per
//! role, as status codes; and the first direct message sent through
//! `MessageService` making both users members.

#[allow(dead_code)]
mod support;

use chat_proto::message::v1 as pb;
use pb::room_service_client::RoomServiceClient;
use support::{code, send, start};
use tonic::Code;
use tonic::transport::Channel;

type Rooms = RoomServiceClient<Channel>;

async fn create(c: &mut Rooms, room: &str, private: bool, owner: &str) -> pb::RoomSummary {
    c.create_room(pb::CreateRoomRequest {
        room: room.into(),
        private,
        topic: String::new(),
        owner: owner.into(),
    })
    .await
    .unwrap()
    .into_inner()
}

fn invite(room: &str, user: &str, by: &str) -> pb::InviteRequest {
    pb::InviteRequest {
        room: room.into(),
        user: user.into(),
        by: by.into(),
    }
}

fn remove(room: &str, user: &str, by: &str, ban: bool) -> pb::RemoveMemberRequest {
    pb::RemoveMemberRequest {
        room: room.into(),
        user: user.into(),
        by: by.into(),
        ban,
    }
}

fn role(room: &str, user: &str, role: pb::Role, by: &str) -> pb::SetRoleRequest {
    pb::SetRoleRequest {
        room: room.into(),
        user: user.into(),
        role: role as i32,
        by: by.into(),
    }
}

fn topic(room: &str, topic: &str, by: &str) -> pb::SetTopicRequest {
    pb::SetTopicRequest {
        room: room.into(),
        topic: topic.into(),
        by: by.into(),
    }
}

fn join(room: &str, user: &str) -> pb::JoinRoomRequest {
    pb::JoinRoomRequest {
        room: room.into(),
        user: user.into(),
    }
}

#[tokio::test]
async fn each_role_may_do_what_the_contract_says() {
    let server = start().await;
    let mut c = Rooms::new(server.channel.clone());
    let made = create(&mut c, "crew", true, "owner1").await;
    assert_eq!(made.role, pb::Role::Owner as i32);
    assert_eq!(
        code(
            c.create_room(pb::CreateRoomRequest {
                room: "crew".into(),
                owner: "x".into(),
                ..Default::default()
            })
            .await
        ),
        Code::AlreadyExists
    );
    // Outsider: cannot join, list members, invite or set the topic.
    assert_eq!(
        code(c.join_room(join("crew", "outsider")).await),
        Code::PermissionDenied
    );
    let members = pb::ListMembersRequest {
        room: "crew".into(),
        requester: "outsider".into(),
    };
    assert_eq!(code(c.list_members(members).await), Code::PermissionDenied);
    assert_eq!(
        code(c.invite(invite("crew", "x1", "outsider")).await),
        Code::PermissionDenied
    );
    assert_eq!(
        code(c.set_topic(topic("crew", "t", "outsider")).await),
        Code::PermissionDenied
    );

    // Owner invites; plain member cannot invite, remove, ban, promote or set the topic.
    for u in ["admin1", "member1", "member2"] {
        assert!(
            c.invite(invite("crew", u, "owner1"))
                .await
                .unwrap()
                .into_inner()
                .added
        );
    }
    assert_eq!(
        code(c.invite(invite("crew", "x2", "member1")).await),
        Code::PermissionDenied
    );
    assert_eq!(
        code(
            c.remove_member(remove("crew", "member2", "member1", false))
                .await
        ),
        Code::PermissionDenied
    );
    assert_eq!(
        code(
            c.set_role(role("crew", "member2", pb::Role::Admin, "member1"))
                .await
        ),
        Code::PermissionDenied
    );
    assert_eq!(
        code(c.set_topic(topic("crew", "t", "member1")).await),
        Code::PermissionDenied
    );

    // Owner promotes; admin invites, sets the topic, removes and bans
    // members but never the owner, and does not promote.
    c.set_role(role("crew", "admin1", pb::Role::Admin, "owner1"))
        .await
        .unwrap();
    assert!(
        c.invite(invite("crew", "member3", "admin1"))
            .await
            .unwrap()
            .into_inner()
            .added
    );
    let t = c
        .set_topic(topic("crew", "Ship it", "admin1"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(t.room.unwrap().topic, "Ship it");
    assert_eq!(
        code(
            c.set_role(role("crew", "member1", pb::Role::Admin, "admin1"))
                .await
        ),
        Code::PermissionDenied
    );
    assert_eq!(
        code(
            c.remove_member(remove("crew", "owner1", "admin1", false))
                .await
        ),
        Code::PermissionDenied
    );
    assert!(
        c.remove_member(remove("crew", "member2", "admin1", true))
            .await
            .unwrap()
            .into_inner()
            .removed
    );
    assert_eq!(
        code(c.join_room(join("crew", "member2")).await),
        Code::PermissionDenied
    );
    assert_eq!(
        code(c.invite(invite("crew", "member2", "owner1")).await),
        Code::PermissionDenied
    );
    let unban = pb::UnbanRequest {
        room: "crew".into(),
        user: "member2".into(),
        by: "member1".into(),
    };
    assert_eq!(code(c.unban(unban.clone()).await), Code::PermissionDenied);
    let unban = pb::UnbanRequest {
        by: "admin1".into(),
        ..unban
    };
    assert!(c.unban(unban).await.unwrap().into_inner().unbanned);

    // Anyone leaves; bad input is INVALID_ARGUMENT; unknown rooms NOT_FOUND.
    assert!(
        c.remove_member(remove("crew", "member1", "member1", false))
            .await
            .unwrap()
            .into_inner()
            .removed
    );
    assert_eq!(
        code(
            c.set_role(role("crew", "member3", pb::Role::Owner, "owner1"))
                .await
        ),
        Code::InvalidArgument
    );
    assert_eq!(
        code(c.set_topic(topic("crew", &"x".repeat(251), "owner1")).await),
        Code::InvalidArgument
    );
    assert_eq!(
        code(c.join_room(join("no room", "a")).await),
        Code::InvalidArgument
    );
    assert_eq!(
        code(c.invite(invite("ghost", "a", "b")).await),
        Code::NotFound
    );

    let listed = c
        .list_members(pb::ListMembersRequest {
            room: "crew".into(),
            requester: "owner1".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .members;
    let mut who: Vec<(String, i32)> = listed.into_iter().map(|m| (m.user, m.role)).collect();
    who.sort();
    assert_eq!(
        who,
        [
            ("admin1".to_string(), pb::Role::Admin as i32),
            ("member3".to_string(), pb::Role::Member as i32),
            ("owner1".to_string(), pb::Role::Owner as i32),
        ]
    );
    let _ = server.stop.send(());
}

#[tokio::test]
async fn a_first_direct_message_lists_the_room_for_both() {
    let mut server = start().await;
    let mut c = Rooms::new(server.channel.clone());
    let sent = send(&mut server.client, "dm:ann:ben", "Ann", "hi").await;
    let list = c
        .list_rooms(pb::ListRoomsRequest { user: "ben".into() })
        .await
        .unwrap()
        .into_inner()
        .rooms;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].room.as_ref().unwrap().name, "dm:ann:ben");
    assert_eq!(list[0].unread, 1);
    assert_eq!(list[0].last_message.as_ref().unwrap().id, sent.id);
    let _ = server.stop.send(());
}
