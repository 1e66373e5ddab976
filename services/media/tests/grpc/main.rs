//! The media service over real gRPC, storing bytes in the real in-process S3
//! server (`s3s-fs`) through `aws-sdk-s3`, and metadata in SQLite.

mod harness;

use chat_media::Config;
use chat_proto::media::v1::{DeleteMediaRequest, GetMediaRequest, Purpose, UploadRequest};
use tonic::Code;

use harness::*;

#[tokio::test]
async fn avatar_and_attachment_round_trip() {
    let h = Harness::start(10 * 1024 * 1024).await;
    let mut client = h.client().await;

    let avatar = png();
    let info = upload(
        &mut client,
        "alice",
        "../../me.png",
        Purpose::Avatar,
        &avatar,
        16,
    )
    .await
    .unwrap();
    assert_eq!(info.owner, "alice");
    assert_eq!(info.name, "me.png");
    assert_eq!(info.content_type, "image/png");
    assert_eq!(info.size, avatar.len() as u64);
    assert_eq!(info.sha256, sha256_hex(&avatar));
    assert_eq!(info.purpose, Purpose::Avatar as i32);
    assert!(info.created_at.is_some());
    assert!(uuid::Uuid::parse_str(&info.id).is_ok_and(|u| u.get_version_num() == 7));
    let got = client
        .get_media(GetMediaRequest {
            id: info.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got, info);
    let (dl_info, bytes, _) = download(&mut client, &info.id).await.unwrap();
    assert_eq!(dl_info, info);
    assert_eq!(bytes, avatar);

    let attachment = random_bytes(3 * 1024 * 1024);
    let info2 = upload(
        &mut client,
        "bob",
        "data.bin",
        Purpose::Attachment,
        &attachment,
        100_000,
    )
    .await
    .unwrap();
    assert_eq!(info2.content_type, "application/octet-stream");
    assert_eq!(info2.size, attachment.len() as u64);
    assert_eq!(info2.sha256, sha256_hex(&attachment));
    assert!(info2.id > info.id, "UUIDv7 ids are time-ordered");
    let (_, bytes, largest) = download(&mut client, &info2.id).await.unwrap();
    assert_eq!(bytes.len(), attachment.len());
    assert_eq!(sha256_hex(&bytes), info2.sha256);
    assert!(bytes == attachment);
    assert!(
        largest <= 64 * 1024,
        "chunks stay near 64 KiB, got {largest}"
    );
    assert!(largest >= 16 * 1024, "chunks are not tiny, got {largest}");

    let mut keys = h.object_keys().await;
    keys.sort();
    assert_eq!(keys, vec![info.id.clone(), info2.id.clone()]);
    assert_eq!(metadata_rows(&h.data_dir()), 2);
    h.service.stop().await;
}

#[tokio::test]
async fn too_large_upload_is_refused_and_leaves_nothing() {
    let h = Harness::start(1024 * 1024).await;
    let mut client = h.client().await;
    let big = random_bytes(3 * 1024 * 1024);

    let err = upload(
        &mut client,
        "alice",
        "big.bin",
        Purpose::Attachment,
        &big,
        64 * 1024,
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    assert_eq!(err.message(), "File is larger than 1048576 bytes");

    // A caller's smaller limit wins; a larger one is capped by the service.
    let mut messages = vec![meta("alice", "a.bin", Purpose::Attachment, 1000)];
    messages.extend(big[..1001].chunks(500).map(chunk));
    let err = upload_messages(&mut client, messages).await.unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted);
    assert_eq!(err.message(), "File is larger than 1000 bytes");
    let mut messages = vec![meta("alice", "a.bin", Purpose::Attachment, 1 << 40)];
    messages.extend(big[..2 * 1024 * 1024].chunks(64 * 1024).map(chunk));
    let err = upload_messages(&mut client, messages).await.unwrap_err();
    assert_eq!(err.message(), "File is larger than 1048576 bytes");

    h.assert_nothing_stored().await;

    // Exactly at the limit is fine.
    let mut messages = vec![meta("alice", "a.bin", Purpose::Attachment, 1000)];
    messages.push(chunk(&big[..1000]));
    let info = upload_messages(&mut client, messages).await.unwrap();
    assert_eq!(info.size, 1000);
    h.service.stop().await;
}

#[tokio::test]
async fn avatars_must_be_images() {
    let h = Harness::start(1024 * 1024).await;
    let mut client = h.client().await;
    let pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n".to_vec();
    // The name claims PNG; only the bytes count.
    for data in [b"just some text\n".to_vec(), pdf, random_bytes(4096)] {
        let err = upload(
            &mut client,
            "alice",
            "fake.png",
            Purpose::Avatar,
            &data,
            1000,
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition);
        assert_eq!(
            err.message(),
            "Avatars must be PNG, JPEG, GIF or WebP images"
        );
    }
    h.assert_nothing_stored().await;

    let text = "hello, wörld ✓\n".repeat(1000);
    let info = upload(
        &mut client,
        "alice",
        "notes.png",
        Purpose::Attachment,
        text.as_bytes(),
        7,
    )
    .await
    .unwrap();
    assert_eq!(info.content_type, "text/plain; charset=utf-8");
    h.service.stop().await;
}

#[tokio::test]
async fn malformed_uploads_are_invalid_arguments() {
    let h = Harness::start(1024 * 1024).await;
    let mut client = h.client().await;
    let data = b"some bytes".to_vec();
    let cases: Vec<(&str, Vec<UploadRequest>)> = vec![
        ("no messages", vec![]),
        (
            "chunk before metadata",
            vec![chunk(&data), meta("a", "x", Purpose::Attachment, 0)],
        ),
        (
            "metadata twice",
            vec![
                meta("a", "x", Purpose::Attachment, 0),
                chunk(&data),
                meta("a", "x", Purpose::Attachment, 0),
            ],
        ),
        ("empty file", vec![meta("a", "x", Purpose::Attachment, 0)]),
        (
            "empty chunks only",
            vec![meta("a", "x", Purpose::Attachment, 0), chunk(&[])],
        ),
        (
            "no owner",
            vec![meta(" ", "x", Purpose::Attachment, 0), chunk(&data)],
        ),
        (
            "no purpose",
            vec![meta("a", "x", Purpose::Unspecified, 0), chunk(&data)],
        ),
        (
            "empty message",
            vec![UploadRequest { part: None }, chunk(&data)],
        ),
    ];
    for (what, messages) in cases {
        let err = upload_messages(&mut client, messages).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{what}: {err:?}");
    }
    h.assert_nothing_stored().await;
    h.service.stop().await;
}

#[tokio::test]
async fn a_failed_metadata_write_removes_the_object() {
    let h = Harness::start(1024 * 1024).await;
    let mut client = h.client().await;
    // A real failure of the real store: its table disappears under it.
    let conn = rusqlite::Connection::open(h.data_dir().join("media.sqlite3")).unwrap();
    conn.execute_batch("ALTER TABLE media RENAME TO media_elsewhere")
        .unwrap();
    let err = upload(&mut client, "alice", "a.png", Purpose::Avatar, &png(), 1000)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Internal, "{err:?}");
    assert!(
        !err.message().contains("table"),
        "details stay in the log: {err:?}"
    );
    assert_eq!(h.object_keys().await, Vec::<String>::new());
    h.service.stop().await;
}

#[tokio::test]
async fn unknown_ids_are_not_found() {
    let h = Harness::start(1024 * 1024).await;
    let mut client = h.client().await;
    let id = uuid::Uuid::now_v7().to_string();
    let err = client
        .get_media(GetMediaRequest { id: id.clone() })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = download(&mut client, &id).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    h.service.stop().await;
}

#[tokio::test]
async fn only_the_owner_deletes() {
    let h = Harness::start(1024 * 1024).await;
    let mut client = h.client().await;
    let info = upload(
        &mut client,
        "Alice",
        "cat.png",
        Purpose::Avatar,
        &png(),
        1000,
    )
    .await
    .unwrap();

    let err = client
        .delete(DeleteMediaRequest {
            id: info.id.clone(),
            requester: "mallory".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    assert!(
        client
            .get_media(GetMediaRequest {
                id: info.id.clone()
            })
            .await
            .is_ok()
    );
    assert_eq!(h.object_keys().await, vec![info.id.clone()]);

    client
        .delete(DeleteMediaRequest {
            id: info.id.clone(),
            requester: "Alice".into(),
        })
        .await
        .unwrap();
    let err = client
        .get_media(GetMediaRequest {
            id: info.id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert_eq!(
        download(&mut client, &info.id).await.unwrap_err().code(),
        Code::NotFound
    );
    h.assert_nothing_stored().await;

    // Deleting what is already gone succeeds, whoever asks.
    for requester in ["Alice", "mallory"] {
        client
            .delete(DeleteMediaRequest {
                id: info.id.clone(),
                requester: requester.into(),
            })
            .await
            .unwrap();
    }
    h.service.stop().await;
}

#[tokio::test]
async fn data_survives_a_restart_with_the_in_process_s3_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = random_bytes(200_000);

    let service = Service::start(Config::local(dir.path())).await;
    let info = upload(
        &mut service.client().await,
        "alice",
        "keep.bin",
        Purpose::Attachment,
        &data,
        50_000,
    )
    .await
    .unwrap();
    service.stop().await;
    assert!(
        dir.path()
            .join("objects")
            .join("chat-media")
            .join(&info.id)
            .is_file()
    );

    let service = Service::start(Config::local(dir.path())).await;
    let mut client = service.client().await;
    let got = client
        .get_media(GetMediaRequest {
            id: info.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got, info);
    let (_, bytes, _) = download(&mut client, &info.id).await.unwrap();
    assert!(bytes == data);
    service.stop().await;
}

#[tokio::test]
async fn health_is_serving_and_reflection_lists_the_service() {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let dir = tempfile::tempdir().unwrap();
    let service = Service::start(Config::local(dir.path())).await;
    let channel = service.channel().await;

    let health = HealthClient::new(channel.clone())
        .check(HealthCheckRequest {
            service: "chat.media.v1.MediaService".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(health.status, ServingStatus::Serving as i32);

    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = ServerReflectionClient::new(channel)
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("expected a service list, got {response:?}");
    };
    let names: Vec<_> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.iter().any(|n| n == "chat.media.v1.MediaService"),
        "{names:?}"
    );
    service.stop().await;
}
