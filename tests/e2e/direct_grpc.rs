//! The README's "Calling the services directly", against the one-command
//! run: log in over HTTP, then call the message service's gRPC port with
//! `authorization: Bearer <token>` over plaintext (grpcurl -plaintext -H …)
//! and over TLS trusting `DATA_DIR/grpc-ca.pem` (grpcurl -cacert …).

use anyhow::{Context, ensure};
use chat_e2e::stack::Standalone;
use chat_e2e::{api, on_a_free_port, unique};
use chat_proto::message::v1 as pb;
use pb::message_service_client::MessageServiceClient;
use pb::room_service_client::RoomServiceClient;
use tonic::Code;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint};

fn bearer<T>(message: T, token: &str) -> anyhow::Result<tonic::Request<T>> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse()?);
    Ok(request)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_calls_the_message_service_with_their_token() -> anyhow::Result<()> {
    let (chat, addr) = on_a_free_port(|port| async move {
        let addr = format!("127.0.0.1:{port}");
        let chat = Standalone::start_with(&[("MESSAGE_GRPC_ADDR", &addr)]).await?;
        Ok((chat, addr))
    })
    .await?;
    let outcome = async {
        let name = unique("alice");
        api::register(&chat.base, &name, "correct horse").await?;
        let alice = api::login(&chat.base, &name, "correct horse").await?;

        let plain = Endpoint::from_shared(format!("http://{addr}"))?
            .connect()
            .await?;
        let mut rooms = RoomServiceClient::new(plain.clone());
        let mut messages = MessageServiceClient::new(plain);
        let nobody = messages
            .post_message(pb::PostMessageRequest {
                room: "general".into(),
                sender: name.clone(),
                content: "hi".into(),
                ..Default::default()
            })
            .await;
        let err = nobody.err().context("an anonymous post was accepted")?;
        ensure!(err.code() == Code::Unauthenticated, "{err:?}");

        let join = pb::JoinRoomRequest {
            room: "general".into(),
            user: String::new(),
        };
        rooms.join_room(bearer(join, &alice.token)?).await?;
        let post = pb::PostMessageRequest {
            room: "general".into(),
            content: "hi from grpcurl".into(),
            ..Default::default()
        };
        let sent = messages.post_message(bearer(post, &alice.token)?).await?;
        let sent = sent.into_inner().message.context("no message")?;
        ensure!(sent.sender == name, "sent as {:?}", sent.sender);

        let forged = pb::PostMessageRequest {
            room: "general".into(),
            sender: "somebody-else".into(),
            content: "x".into(),
            ..Default::default()
        };
        let err = messages
            .post_message(bearer(forged, &alice.token)?)
            .await
            .err()
            .context("posting as another user was accepted")?;
        ensure!(err.code() == Code::PermissionDenied, "{err:?}");

        // TLS on the same port, trusting the CA certificate `chat` wrote.
        let ca = std::fs::read_to_string(chat.data_dir.path().join("grpc-ca.pem"))?;
        let tls = Endpoint::from_shared(format!("https://{addr}"))?
            .tls_config(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca)))?
            .connect()
            .await?;
        let list = pb::ListMessagesRequest {
            room: "general".into(),
            ..Default::default()
        };
        let page = MessageServiceClient::new(tls.clone())
            .list_messages(bearer(list.clone(), &alice.token)?)
            .await?;
        ensure!(
            page.into_inner().messages.iter().any(|m| m.id == sent.id),
            "the message is not in the history"
        );
        // TLS alone, without the platform's client certificate, is nobody.
        let err = MessageServiceClient::new(tls)
            .list_messages(list)
            .await
            .err()
            .context("TLS without a certificate or token was accepted")?;
        ensure!(err.code() == Code::Unauthenticated, "{err:?}");
        Ok(())
    }
    .await;
    chat.report(outcome)
}
