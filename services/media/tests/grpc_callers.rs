//! Who may call the media service (docs/ARCHITECTURE.md § gRPC callers):
//! a real auth service and a real media service (embedded store,
//! in-process S3) on real sockets; users call with their access tokens over
//! plaintext, the platform over mutual TLS.

use std::time::{Duration, Instant};

use chat_auth::testing::{Fixture, User};
use chat_common::caller::bearer;
use chat_common::certs::{default_names, generate};
use chat_common::credentials::Credentials;
use chat_media::Config;
use chat_proto::media::v1 as pb;
use pb::media_service_client::MediaServiceClient;
use tonic::Code;
use tonic::transport::{Channel, Endpoint};

async fn start() -> Fixture {
    let mut w = Fixture::start().await;
    let (data_dir, auth_url, grpc) = (
        w.dir.path().join("media"),
        w.auth.url.clone(),
        w.set.credentials(),
    );
    w.serve(|listen_addr, listener, stopped| {
        let mut config = Config::local(data_dir);
        config.listen_addr = listen_addr;
        config.auth_url = auth_url;
        config.grpc = grpc;
        chat_media::serve(config, listener, stopped)
    })
    .await;
    w
}

fn parts(owner: &str, data: &[u8]) -> Vec<pb::UploadRequest> {
    vec![
        pb::UploadRequest {
            part: Some(pb::upload_request::Part::Metadata(pb::UploadMetadata {
                owner: owner.into(),
                name: "notes.txt".into(),
                purpose: pb::Purpose::Attachment as i32,
                max_size: 0,
            })),
        },
        pb::UploadRequest {
            part: Some(pb::upload_request::Part::Chunk(data.to_vec())),
        },
    ]
}

async fn upload_as(
    c: &mut MediaServiceClient<Channel>,
    user: &User,
    owner: &str,
) -> Result<pb::MediaInfo, tonic::Status> {
    let req = bearer(
        tokio_stream::iter(parts(owner, b"hello")),
        &user.access_token,
    )?;
    c.upload(req).await.map(tonic::Response::into_inner)
}

/// Waits until the service knows the auth service's keys (fetched in the
/// background at start), then uploads.
async fn first_upload(c: &mut MediaServiceClient<Channel>, user: &User) -> pb::MediaInfo {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match upload_as(c, user, "").await {
            Err(e) if e.code() == Code::Unavailable && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => return other.unwrap(),
        }
    }
}

#[tokio::test]
async fn users_upload_and_delete_as_themselves_only() {
    let w = start().await;
    let (alice, bob) = (w.auth.register("alice").await, w.auth.register("bob").await);
    let channel = Endpoint::from_shared(w.url.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut c = MediaServiceClient::new(channel);

    let err = c
        .upload(tokio_stream::iter(parts("alice", b"x")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    assert!(err.message().contains("authorization: Bearer"), "{err:?}");

    let mine = first_upload(&mut c, &alice).await;
    assert_eq!(mine.owner, "alice");
    let err = upload_as(&mut c, &alice, "bob").await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);

    // Anyone signed in may read it, as anyone may follow a media link.
    let got = c
        .get_media(
            bearer(
                pb::GetMediaRequest {
                    id: mine.id.clone(),
                },
                &bob.access_token,
            )
            .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(got.into_inner().owner, "alice");

    // Bob may not delete it, whatever he names as the requester.
    for requester in ["", "bob", "alice"] {
        let req = pb::DeleteMediaRequest {
            id: mine.id.clone(),
            requester: requester.into(),
        };
        let err = c
            .delete(bearer(req, &bob.access_token).unwrap())
            .await
            .unwrap_err();
        assert_eq!(
            err.code(),
            Code::PermissionDenied,
            "requester {requester:?}"
        );
    }
    let req = pb::DeleteMediaRequest {
        id: mine.id.clone(),
        requester: String::new(),
    };
    c.delete(bearer(req, &alice.access_token).unwrap())
        .await
        .unwrap();

    // Her session ended: her token no longer uploads.
    w.auth.logout(&alice).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match upload_as(&mut c, &alice, "").await {
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
}

#[tokio::test]
async fn the_platform_uploads_for_a_user_and_a_forged_certificate_is_refused() {
    let w = start().await;
    let platform = w
        .set
        .credentials()
        .endpoint(&w.url)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut c = MediaServiceClient::new(platform);
    let info = c
        .upload(tokio_stream::iter(parts("carol", b"from the gateway")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(info.owner, "carol");

    let forged = Credentials {
        client: generate(&default_names()).unwrap().credentials().client,
        ..w.set.credentials()
    };
    let refused = match forged.endpoint(&w.url).unwrap().connect().await {
        Err(_) => true,
        Ok(channel) => MediaServiceClient::new(channel)
            .upload(tokio_stream::iter(parts("carol", b"forged")))
            .await
            .is_err(),
    };
    assert!(refused, "a forged client certificate was accepted");
}
