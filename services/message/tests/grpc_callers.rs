//! Who may call the message service (docs/ARCHITECTURE.md § gRPC callers):
//! a real auth service and a real message service on real sockets; users
//! call directly with their access tokens over plaintext, the way the
//! README's grpcurl examples do, and the platform over mutual TLS.

use std::time::{Duration, Instant};

use chat_auth::testing::{Fixture, User};
use chat_common::caller::bearer;
use chat_common::certs::{default_names, generate};
use chat_common::credentials::Credentials;
use chat_message::Config;
use chat_proto::message::v1 as pb;
use pb::message_service_client::MessageServiceClient;
use pb::room_service_client::RoomServiceClient;
use tonic::Code;
use tonic::transport::Channel;

async fn start() -> Fixture {
    let mut w = Fixture::start().await;
    let (data_dir, auth_url, grpc) = (
        w.dir.path().join("message"),
        w.auth.url.clone(),
        w.set.credentials(),
    );
    w.serve(|listen_addr, listener, stopped| {
        let config = Config {
            listen_addr,
            data_dir,
            auth_url,
            grpc,
            ..Config::default()
        };
        chat_message::serve(config, listener, stopped)
    })
    .await;
    w
}

fn post(
    room: &str,
    sender: &str,
    content: &str,
    user: &User,
) -> tonic::Request<pb::PostMessageRequest> {
    bearer(
        pb::PostMessageRequest {
            room: room.into(),
            sender: sender.into(),
            content: content.into(),
            ..Default::default()
        },
        &user.access_token,
    )
    .unwrap()
}

async fn join(rooms: &mut RoomServiceClient<Channel>, room: &str, user: &User) {
    let req = pb::JoinRoomRequest {
        room: room.into(),
        user: String::new(),
    };
    rooms
        .join_room(bearer(req, &user.access_token).unwrap())
        .await
        .unwrap();
}

#[tokio::test]
async fn users_call_directly_as_themselves_only() {
    let w = start().await;
    let (alice, bob) = (w.auth.register("alice").await, w.auth.register("bob").await);
    let channel = w.plaintext().await;
    let mut messages = MessageServiceClient::new(channel.clone());
    let mut rooms = RoomServiceClient::new(channel);

    // No credential at all.
    let err = messages
        .post_message(pb::PostMessageRequest {
            room: "general".into(),
            sender: "alice".into(),
            content: "hi".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    assert!(err.message().contains("authorization: Bearer"), "{err:?}");

    // The token may take a moment to be checkable: the service fetches the
    // auth service's keys in the background at start.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let req = bearer(pb::ListRoomsRequest::default(), &alice.access_token).unwrap();
        match rooms.list_rooms(req).await {
            Err(e) if e.code() == Code::Unavailable && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => {
                other.unwrap();
                break;
            }
        }
    }
    join(&mut rooms, "general", &alice).await;

    // As herself: the sender comes from the token (named or left empty).
    let sent = messages
        .post_message(post("general", "", "hello", &alice))
        .await
        .unwrap()
        .into_inner()
        .message
        .unwrap();
    assert_eq!(sent.sender, "alice");
    assert!(
        messages
            .post_message(post("general", "Alice", "again", &alice))
            .await
            .is_ok()
    );

    // As somebody else: refused, and nothing stored under bob's name.
    let err = messages
        .post_message(post("general", "bob", "I am bob", &alice))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let edit = pb::EditMessageRequest {
        id: sent.id.clone(),
        editor: "bob".into(),
        content: "x".into(),
    };
    let err = messages
        .edit_message(bearer(edit, &alice.access_token).unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);

    // Bob is not in the room: he can neither read nor write it directly.
    let list = pb::ListMessagesRequest {
        room: "general".into(),
        ..Default::default()
    };
    let err = messages
        .list_messages(bearer(list, &bob.access_token).unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = messages
        .post_message(post("general", "", "let me in", &bob))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = rooms
        .invite(
            bearer(
                pb::InviteRequest {
                    room: "general".into(),
                    user: "bob".into(),
                    by: "alice".into(),
                },
                &bob.access_token,
            )
            .unwrap(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);

    // The sends stream is the platform's alone: a user posts one by one.
    let one = pb::PostMessagesRequest {
        id: 1,
        post: Some(post("general", "", "streamed", &alice).into_inner()),
    };
    let err = messages
        .post_messages(bearer(tokio_stream::iter([one]), &alice.access_token).unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn the_platform_acts_for_users_and_ended_sessions_and_forged_certificates_are_refused() {
    let w = start().await;
    let alice = w.auth.register("alice").await;
    let platform = w.platform().await;
    let mut rooms = RoomServiceClient::new(platform.clone());
    let mut messages = MessageServiceClient::new(platform);
    rooms
        .join_room(pb::JoinRoomRequest {
            room: "general".into(),
            user: "alice".into(),
        })
        .await
        .unwrap();
    // The gateway posts for whichever user it verified.
    let sent = messages
        .post_message(pb::PostMessageRequest {
            room: "general".into(),
            sender: "alice".into(),
            content: "via the gateway".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(sent.into_inner().created);
    // Naming the user in `x-chat-user` binds the call to them.
    let mut req = tonic::Request::new(pb::PostMessageRequest {
        room: "general".into(),
        sender: "mallory".into(),
        content: "x".into(),
        ..Default::default()
    });
    req.metadata_mut()
        .insert("x-chat-user", "alice".parse().unwrap());
    assert_eq!(
        messages.post_message(req).await.unwrap_err().code(),
        Code::PermissionDenied
    );

    // An ended session's token is refused (the catch-up runs every second).
    let mut direct = MessageServiceClient::new(w.plaintext().await);
    let deadline = Instant::now() + Duration::from_secs(10);
    while direct
        .post_message(post("general", "", "still here", &alice))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "alice's token never worked");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    w.auth.logout(&alice).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match direct
            .post_message(post("general", "", "after logout", &alice))
            .await
        {
            Err(e) if e.code() == Code::Unauthenticated => break,
            _ => {
                assert!(
                    Instant::now() < deadline,
                    "an ended session's token still works"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }

    // A client certificate from another CA never gets to the service.
    let forged = Credentials {
        client: generate(&default_names()).unwrap().credentials().client,
        ..w.set.credentials()
    };
    let refused = match forged.endpoint(&w.url).unwrap().connect().await {
        Err(_) => true,
        Ok(channel) => MessageServiceClient::new(channel)
            .get_message(pb::GetMessageRequest { id: "x".into() })
            .await
            .is_err_and(|e| e.code() != Code::NotFound),
    };
    assert!(refused, "a forged client certificate was accepted");
}
