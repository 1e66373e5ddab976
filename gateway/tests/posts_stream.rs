//! The gateway's `PostMessages` stream (`chat_gateway::posts`) against a
//! real message service over mutual TLS on a real socket: sends at once on
//! one stream each get their own answer, and a service that stops and comes
//! back is used again without restarting anything on the gateway's side.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use chat_common::channel::over_network;
use chat_common::credentials::Credentials;
use chat_gateway::posts::Posts;
use chat_proto::message::v1::PostMessageRequest;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::Code;

struct Service {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), chat_message::Error>>,
}

async fn serve(grpc: &Credentials, data_dir: &Path, listener: TcpListener) -> Service {
    let config = chat_message::Config {
        grpc: grpc.clone(),
        listen_addr: listener.local_addr().unwrap(),
        data_dir: data_dir.to_owned(),
        mongo_uri: None,
        ..chat_message::Config::default()
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(chat_message::serve(config, listener, async {
        let _ = stopped.await;
    }));
    Service { stop, task }
}

/// A fresh data directory, a platform credential and a port.
async fn ready() -> (tempfile::TempDir, Credentials, TcpListener) {
    let dir = tempfile::tempdir().unwrap();
    let grpc = chat_common::certs::generate(&chat_common::certs::default_names())
        .unwrap()
        .credentials();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    (dir, grpc, listener)
}

fn posts(grpc: &Credentials, addr: SocketAddr) -> Posts {
    let channel = grpc
        .endpoint(&format!("http://{addr}"))
        .unwrap()
        .connect_lazy();
    Posts::new(over_network(channel), Duration::from_secs(5))
}

fn send(n: usize) -> PostMessageRequest {
    PostMessageRequest {
        room: "general".into(),
        sender: format!("user{}", n % 3),
        content: format!("message {n}"),
        client_id: Some(format!("c-{n}")),
        ..Default::default()
    }
}

#[tokio::test]
async fn concurrent_sends_on_one_stream_each_get_their_own_answer() {
    let (dir, grpc, listener) = ready().await;
    let addr = listener.local_addr().unwrap();
    let _service = serve(&grpc, dir.path(), listener).await;
    let posts = posts(&grpc, addr);

    let sends = (0..300).map(|n| {
        let posts = posts.clone();
        async move { (n, posts.post(send(n)).await) }
    });
    for (n, answer) in futures::future::join_all(sends).await {
        let message = answer.unwrap().message.unwrap();
        assert_eq!(message.content, format!("message {n}"));
        assert_eq!(
            message.client_id.as_deref(),
            Some(format!("c-{n}").as_str())
        );
    }
    let bad = PostMessageRequest {
        content: String::new(),
        ..send(1000)
    };
    let err = posts.post(bad).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(
        posts.post(send(1001)).await.is_ok(),
        "a failed send leaves the stream open"
    );
}

#[tokio::test]
async fn a_service_that_stops_and_comes_back_is_used_again() {
    let (dir, grpc, listener) = ready().await;
    let addr = listener.local_addr().unwrap();
    let first = serve(&grpc, dir.path(), listener).await;
    let posts = posts(&grpc, addr);
    let before = posts.post(send(1)).await.unwrap().message.unwrap();

    first.stop.send(()).unwrap();
    first.task.await.unwrap().unwrap();
    let err = posts.post(send(2)).await.unwrap_err();
    assert_eq!(err.code(), Code::Unavailable, "{err:?}");

    // Back on the same port and data: the next send opens a new stream,
    // and the stored messages are still there (the resend is deduplicated).
    let listener = TcpListener::bind(addr).await.unwrap();
    let _second = serve(&grpc, dir.path(), listener).await;
    let mut again = None;
    for _ in 0..50 {
        match posts.post(send(1)).await {
            Ok(answer) => {
                again = Some(answer);
                break;
            }
            Err(e) if e.code() == Code::Unavailable => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    let again = again.expect("the restarted service answers");
    assert!(!again.created);
    assert_eq!(again.message.unwrap().id, before.id);
}
