//! End to end over a real socket: `serve` on 127.0.0.1:0 with the embedded
//! store, driven by the generated client, plus the standard health and
//! reflection services.

use chat_proto::message::v1 as pb;
use tonic::Code;

mod support;

use support::{code, ids, ids_of, list, post, send, start};

#[tokio::test]
async fn health_reports_serving_and_reflection_lists_the_service() {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let s = start().await;
    let mut health = HealthClient::new(s.channel.clone());
    for service in ["chat.message.v1.MessageService", ""] {
        let status = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        assert_eq!(status, ServingStatus::Serving as i32, "{service:?}");
    }

    let mut reflection = ServerReflectionClient::new(s.channel.clone());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut answers = reflection
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let answer = answers.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = answer.message_response else {
        panic!("expected a service list, got {answer:?}");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.iter().any(|n| n == "chat.message.v1.MessageService"),
        "{names:?}"
    );
    // Only what this port serves.
    assert!(
        !names
            .iter()
            .any(|n| n.starts_with("chat.auth.") || n.starts_with("chat.media.")),
        "{names:?}"
    );
}

#[tokio::test]
async fn post_get_and_client_id_dedupe() {
    let mut s = start().await;
    let c = &mut s.client;
    let first = c
        .post_message(pb::PostMessageRequest {
            client_id: Some("c-1".into()),
            avatar_media_id: Some("avatar".into()),
            attachments: vec![pb::Attachment {
                id: "m1".into(),
                content_type: "image/png".into(),
                size: 5,
                name: "a.png".into(),
            }],
            ..post("general", "alice", "  hi 😀  ")
        })
        .await
        .unwrap()
        .into_inner();
    assert!(first.created);
    let m = first.message.unwrap();
    assert_eq!(
        (m.content.as_str(), m.deleted, m.edited_at),
        ("hi 😀", false, None)
    );
    let ts = m.timestamp.unwrap();
    assert_eq!(ts.nanos % 1_000_000, 0, "millisecond precision");
    assert_eq!(m.attachments.len(), 1);

    let again = c
        .post_message(pb::PostMessageRequest {
            client_id: Some("c-1".into()),
            ..post("general", "alice", "other")
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!again.created);
    assert_eq!(again.message.as_ref(), Some(&m));

    let by_client = c
        .get_by_client_id(pb::GetByClientIdRequest {
            sender: "alice".into(),
            client_id: "c-1".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_client, m);
    let got = c
        .get_message(pb::GetMessageRequest { id: m.id.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got, m);

    let missing = pb::GetByClientIdRequest {
        sender: "bob".into(),
        client_id: "c-1".into(),
    };
    assert_eq!(code(c.get_by_client_id(missing).await), Code::NotFound);
    assert_eq!(
        code(
            c.get_message(pb::GetMessageRequest { id: "nope".into() })
                .await
        ),
        Code::NotFound
    );
    assert_eq!(
        code(c.post_message(post("general", "alice", " \t ")).await),
        Code::InvalidArgument
    );
    // MAX_MESSAGE_CHARS is 10 here: 10 code points pass, 11 do not.
    assert!(
        c.post_message(post("general", "alice", &"é".repeat(10)))
            .await
            .is_ok()
    );
    assert_eq!(
        code(
            c.post_message(post("general", "alice", &"é".repeat(11)))
                .await
        ),
        Code::InvalidArgument
    );
    assert_eq!(
        code(c.post_message(post("", "alice", "hi")).await),
        Code::InvalidArgument
    );
    assert_eq!(
        code(c.post_message(post("general", "", "hi")).await),
        Code::InvalidArgument
    );
}

#[tokio::test]
async fn list_messages_pages_and_refuses_bad_requests() {
    let mut s = start().await;
    let c = &mut s.client;
    let mut all = Vec::new();
    for i in 0..5 {
        all.push(send(c, "room", "alice", &format!("m{i}")).await);
    }
    let other = send(c, "elsewhere", "alice", "x").await;

    let latest = c
        .list_messages(list("room", None, None, 0))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        ids(&latest.messages),
        ids(&all[2..]),
        "the configured default page is 3"
    );
    assert!(latest.has_more);
    let older = c
        .list_messages(list("room", Some(&all[2].id), None, 5))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ids(&older.messages), ids(&all[..2]));
    assert!(!older.has_more);
    let newer = c
        .list_messages(list("room", None, Some(&all[0].id), 2))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ids(&newer.messages), ids(&all[1..3]));
    assert!(newer.has_more);

    let both = list("room", Some(&all[1].id), Some(&all[0].id), 2);
    assert_eq!(code(c.list_messages(both).await), Code::InvalidArgument);
    assert_eq!(
        code(c.list_messages(list("room", None, None, 201)).await),
        Code::InvalidArgument
    );
    assert_eq!(
        code(
            c.list_messages(list("room", Some(&other.id), None, 2))
                .await
        ),
        Code::NotFound
    );
    assert_eq!(
        code(c.list_messages(list("room", None, Some("nope"), 2)).await),
        Code::NotFound
    );
}

#[tokio::test]
async fn edit_and_delete_follow_the_rules() {
    let mut s = start().await;
    let c = &mut s.client;
    let m = c
        .post_message(pb::PostMessageRequest {
            attachments: vec![pb::Attachment {
                id: "f".into(),
                content_type: "text/plain".into(),
                size: 1,
                name: "f.txt".into(),
            }],
            ..post("room", "alice", "first")
        })
        .await
        .unwrap()
        .into_inner()
        .message
        .unwrap();
    let edit = |editor: &str, content: &str| pb::EditMessageRequest {
        id: m.id.clone(),
        editor: editor.into(),
        content: content.into(),
    };
    let edited = c
        .edit_message(edit("alice", " second "))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(edited.content, "second");
    assert!(edited.edited_at.is_some());

    let denied = c.edit_message(edit("bob", "x")).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert_eq!(denied.message(), "Only the author can edit this message");
    assert_eq!(
        code(c.edit_message(edit("alice", "")).await),
        Code::InvalidArgument
    );
    let unknown = pb::EditMessageRequest {
        id: "nope".into(),
        ..edit("alice", "x")
    };
    assert_eq!(code(c.edit_message(unknown).await), Code::NotFound);

    let delete = |requester: &str| pb::DeleteMessageRequest {
        id: m.id.clone(),
        requester: requester.into(),
    };
    assert_eq!(
        code(c.delete_message(delete("bob")).await),
        Code::PermissionDenied
    );
    let gone = c
        .delete_message(delete("alice"))
        .await
        .unwrap()
        .into_inner();
    assert!(gone.changed);
    assert_eq!(ids_of(&gone.removed_attachments), ["f"]);
    let stored = gone.message.unwrap();
    assert!(stored.deleted && stored.content.is_empty() && stored.attachments.is_empty());
    let again = c
        .delete_message(delete("alice"))
        .await
        .unwrap()
        .into_inner();
    assert!(!again.changed && again.removed_attachments.is_empty());
    assert_eq!(
        code(c.edit_message(edit("alice", "back")).await),
        Code::FailedPrecondition
    );
    let unknown = pb::DeleteMessageRequest {
        id: "nope".into(),
        requester: "alice".into(),
    };
    assert_eq!(code(c.delete_message(unknown).await), Code::NotFound);

    let history = c
        .list_messages(list("room", None, None, 10))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        history.messages,
        vec![stored],
        "deleted messages stay in history"
    );
}

#[tokio::test]
async fn read_positions_and_unread_counts() {
    let mut s = start().await;
    let c = &mut s.client;
    let a = send(c, "room", "alice", "a").await;
    let b = send(c, "room", "alice", "b").await;
    send(c, "room", "bob", "mine").await;
    let other = send(c, "other", "alice", "o").await;
    let mark = |id: &str| pb::MarkReadRequest {
        room: "room".into(),
        user: "bob".into(),
        message_id: id.into(),
    };

    let r = c.mark_read(mark(&b.id)).await.unwrap().into_inner();
    assert!(r.moved && r.message_id == b.id);
    let r = c.mark_read(mark(&a.id)).await.unwrap().into_inner();
    assert!(!r.moved && r.message_id == b.id, "never backward");
    assert_eq!(code(c.mark_read(mark(&other.id)).await), Code::NotFound);
    assert_eq!(code(c.mark_read(mark("nope")).await), Code::NotFound);
    let no_user = pb::MarkReadRequest {
        user: String::new(),
        ..mark(&a.id)
    };
    assert_eq!(code(c.mark_read(no_user).await), Code::InvalidArgument);

    let unread = c
        .get_unread_counts(pb::GetUnreadCountsRequest {
            user: "bob".into(),
            rooms: vec!["room".into(), "other".into()],
        })
        .await
        .unwrap()
        .into_inner()
        .rooms;
    let got: Vec<_> = unread
        .iter()
        .map(|r| (r.room.as_str(), r.unread, r.last_read_message_id.as_deref()))
        .collect();
    assert_eq!(got, [("room", 0, Some(b.id.as_str())), ("other", 1, None)]);
    let no_user = pb::GetUnreadCountsRequest {
        user: String::new(),
        rooms: vec!["room".into()],
    };
    assert_eq!(
        code(c.get_unread_counts(no_user).await),
        Code::InvalidArgument
    );
}

#[tokio::test]
async fn serve_returns_when_shutdown_resolves() {
    let s = start().await;
    s.stop.send(()).unwrap();
    let ended = tokio::time::timeout(std::time::Duration::from_secs(10), s.task).await;
    assert!(matches!(ended, Ok(Ok(Ok(())))), "{ended:?}");
}

fn item(id: u64, post: pb::PostMessageRequest) -> pb::PostMessagesRequest {
    pb::PostMessagesRequest {
        id,
        post: Some(post),
    }
}

/// A `PostMessages` stream: where to write the sends, where the answers come.
async fn open_stream(
    s: &mut support::Server,
) -> (
    tokio::sync::mpsc::Sender<pb::PostMessagesRequest>,
    tonic::Streaming<pb::PostMessagesResponse>,
) {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    let answers = s
        .client
        .post_messages(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    (tx, answers)
}

#[tokio::test]
async fn a_stream_of_sends_answers_each_by_its_id_and_goes_on_past_a_failed_one() {
    use pb::post_messages_response::Result as Answer;
    let mut s = start().await;
    let dup = |content: &str| pb::PostMessageRequest {
        client_id: Some("c-1".into()),
        ..post("general", "alice", content)
    };
    let sends = [
        item(7, dup("first")),
        item(8, post("general", "bob", "far too long for ten")),
        item(9, post("general", "bob", "third")),
        pb::PostMessagesRequest { id: 10, post: None },
        item(11, dup("again")),
    ];
    // Each send waits for the previous answer, so the order of the
    // answers (free in general) is known here.
    let (tx, mut answers) = open_stream(&mut s).await;
    let mut got = Vec::new();
    for send in sends {
        tx.send(send).await.unwrap();
        got.push(answers.message().await.unwrap().unwrap());
    }
    drop(tx);
    assert!(
        answers.message().await.unwrap().is_none(),
        "closing the sends ends the answers"
    );

    assert_eq!(
        got.iter().map(|a| a.id).collect::<Vec<_>>(),
        [7, 8, 9, 10, 11]
    );
    let posted = |i: usize| match &got[i].result {
        Some(Answer::Posted(p)) => p.clone(),
        other => panic!("answer {i}: {other:?}"),
    };
    let failed = |i: usize| match &got[i].result {
        Some(Answer::Error(e)) => Code::from(e.code),
        other => panic!("answer {i}: {other:?}"),
    };
    let first = posted(0);
    assert!(first.created);
    assert_eq!(failed(1), Code::InvalidArgument);
    assert!(posted(2).created);
    assert_eq!(failed(3), Code::InvalidArgument);
    let again = posted(4);
    assert!(
        !again.created,
        "the client id was used: the first one comes back"
    );
    assert_eq!(again.message, first.message);

    let page = s
        .client
        .list_messages(list("general", None, None, 10))
        .await
        .unwrap()
        .into_inner()
        .messages;
    let contents: Vec<&str> = page.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(contents, ["first", "third"], "nothing of the failed sends");
}

#[tokio::test]
async fn a_stopping_server_answers_what_it_read_then_ends_the_stream() {
    use std::time::{Duration, Instant};
    let mut s = start().await;
    let (tx, mut answers) = open_stream(&mut s).await;
    tx.send(item(1, post("general", "alice", "before")))
        .await
        .unwrap();
    assert_eq!(answers.message().await.unwrap().unwrap().id, 1);

    // The caller keeps its side open; the stop must not wait for it (the
    // grace is 10 s).
    let began = Instant::now();
    s.stop.send(()).unwrap();
    let end = tokio::time::timeout(Duration::from_secs(5), answers.message())
        .await
        .expect("the stream ends when the server stops");
    assert!(matches!(end, Ok(None)), "{end:?}");
    tokio::time::timeout(Duration::from_secs(5), s.task)
        .await
        .expect("the server stops without waiting out the grace")
        .unwrap()
        .unwrap();
    assert!(began.elapsed() < Duration::from_secs(5));
    drop(tx);
}
