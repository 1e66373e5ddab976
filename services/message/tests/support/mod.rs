//! The server under test and small request builders for `tests/grpc.rs`.

use chat_message::{Config, Error};
use chat_proto::message::v1 as pb;
use pb::message_service_client::MessageServiceClient;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::Code;
use tonic::transport::Channel;

pub struct Server {
    pub client: MessageServiceClient<Channel>,
    pub channel: Channel,
    pub stop: oneshot::Sender<()>,
    pub task: JoinHandle<Result<(), Error>>,
    _dir: tempfile::TempDir,
}

pub async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    // The tests call as the platform (what the gateway is), over mutual TLS.
    let grpc = chat_common::certs::generate(&chat_common::certs::default_names())
        .unwrap()
        .credentials();
    let config = Config {
        grpc: grpc.clone(),
        listen_addr: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_owned(),
        mongo_uri: None,
        history_default_limit: 3,
        max_message_chars: 10,
        ..Config::default()
    };
    let listener = tokio::net::TcpListener::bind(config.listen_addr)
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(chat_message::serve(config, listener, async {
        let _ = stopped.await;
    }));
    let channel = grpc
        .endpoint(&format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    Server {
        client: MessageServiceClient::new(channel.clone()),
        channel,
        stop,
        task,
        _dir: dir,
    }
}

pub fn post(room: &str, sender: &str, content: &str) -> pb::PostMessageRequest {
    pb::PostMessageRequest {
        room: room.into(),
        sender: sender.into(),
        content: content.into(),
        ..Default::default()
    }
}

pub async fn send(
    c: &mut MessageServiceClient<Channel>,
    room: &str,
    sender: &str,
    content: &str,
) -> pb::Message {
    c.post_message(post(room, sender, content))
        .await
        .unwrap()
        .into_inner()
        .message
        .unwrap()
}

pub fn code<T: std::fmt::Debug>(r: Result<tonic::Response<T>, tonic::Status>) -> Code {
    match r {
        Ok(v) => panic!("expected an error status, got {v:?}"),
        Err(s) => s.code(),
    }
}

pub fn list(
    room: &str,
    before: Option<&str>,
    after: Option<&str>,
    limit: u32,
) -> pb::ListMessagesRequest {
    pb::ListMessagesRequest {
        room: room.into(),
        before: before.map(Into::into),
        after: after.map(Into::into),
        limit,
    }
}

pub fn ids(messages: &[pb::Message]) -> Vec<&str> {
    messages.iter().map(|m| m.id.as_str()).collect()
}

pub fn ids_of(attachments: &[pb::Attachment]) -> Vec<&str> {
    attachments.iter().map(|a| a.id.as_str()).collect()
}
