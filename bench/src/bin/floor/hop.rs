//! The split floor (`floor-distributed`): before a send is stored and
//! broadcast it goes to another process as the split layout's gateway
//! sends it, with the same client (`chat_gateway::posts::Posts`: one
//! `PostMessages` stream, answers matched by id) over the same transport
//! (mutual TLS with the platform certificate, HTTP/2, tonic, the caller
//! check), to a server on the same stack (`chat_common::grpc::serve`) that
//! answers at once: no rules, no store. What this floor costs beyond the
//! floor is what the split layout's dependencies cost for one send. With
//! `FLOOR_DB` the echo commits each send before answering (`journal.rs`).

use std::sync::Arc;
use std::time::Duration;

use chat_common::caller::Caller;
use chat_common::channel::over_network;
use chat_common::credentials::Credentials;
use chat_common::env::Vars;
use chat_common::grpc::{Options, ServeError};
use chat_gateway::posts::Posts;
use chat_proto::message::v1 as pb;
use futures::StreamExt;
use futures::future::ready;
use pb::message_service_server::{MessageService, MessageServiceServer};
use pb::post_messages_response::Result as Answer;
use tokio::net::TcpListener;
use tonic::service::Routes;
use tonic::{Request, Response, Status, Streaming};

use crate::journal::{Ids, Row};

/// The platform's certificates, from `GRPC_*` as every service reads them.
pub fn credentials() -> Result<Credentials, String> {
    Credentials::from_vars(&Vars::new(|name: &str| std::env::var(name).ok()))
        .map_err(|e| e.to_string())
}

/// The gateway's side: one `PostMessages` stream to the echo.
pub struct Hop {
    posts: Posts,
}

impl Hop {
    /// Connects now, so that no send pays for the TLS handshake (the
    /// gateway's connections are up before the bench's sends, too).
    pub async fn connect(url: &str, credentials: &Credentials) -> Result<Hop, String> {
        let endpoint = credentials.endpoint(url)?.tcp_nodelay(true);
        let channel = endpoint
            .connect()
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        Ok(Hop {
            posts: Posts::new(over_network(channel), Duration::from_secs(10)),
        })
    }

    /// Posts the send and waits for its answer; false when none came.
    pub async fn round_trip(&self, post: pb::PostMessageRequest) -> bool {
        self.posts.post(post).await.is_ok()
    }
}

/// `chat-bench-floor echo ADDR`: the other process.
pub async fn serve(
    listener: TcpListener,
    credentials: Credentials,
    ids: Ids,
) -> Result<(), String> {
    let options = Options {
        credentials,
        ..Options::default()
    };
    let echo = Echo { ids: Arc::new(ids) };
    let routes = Routes::new(MessageServiceServer::new(echo));
    chat_common::grpc::serve(
        listener,
        &["chat.message.v1.MessageService"],
        routes,
        options,
        std::future::pending(),
    )
    .await
    .map_err(|e: ServeError| e.to_string())
}

/// Answers every send with the message it stored (in its journal, when it
/// has one) or would have stored.
#[derive(Clone)]
struct Echo {
    ids: Arc<Ids>,
}

impl Echo {
    fn answer(&self, item: pb::PostMessagesRequest) -> pb::PostMessagesResponse {
        let post = item.post.unwrap_or_default();
        let now = chat_common::time::now_millis();
        let row = Row {
            room: &post.room,
            sender: &post.sender,
            content: &post.content,
            client_id: post.client_id.as_deref(),
            ts_millis: now,
        };
        let seq = match self.ids.next(&row) {
            Ok(seq) => seq,
            Err(e) => {
                return pb::PostMessagesResponse {
                    id: item.id,
                    result: Some(Answer::Error(pb::PostError {
                        code: tonic::Code::Internal as i32,
                        message: e.to_string(),
                    })),
                };
            }
        };
        let message = pb::Message {
            id: format!("{seq:012}"),
            room: post.room,
            sender: post.sender,
            content: post.content,
            client_id: post.client_id,
            timestamp: Some(chat_common::time::millis_to_timestamp(now)),
            ..pb::Message::default()
        };
        pb::PostMessagesResponse {
            id: item.id,
            result: Some(Answer::Posted(pb::PostMessageResponse {
                message: Some(message),
                created: true,
            })),
        }
    }
}

type Answers =
    std::pin::Pin<Box<dyn futures::Stream<Item = Result<pb::PostMessagesResponse, Status>> + Send>>;

fn only_posts<T>() -> Result<Response<T>, Status> {
    Err(Status::unimplemented(
        "the floor's echo answers PostMessages only",
    ))
}

#[tonic::async_trait]
impl MessageService for Echo {
    type PostMessagesStream = Answers;

    async fn post_messages(
        &self,
        request: Request<Streaming<pb::PostMessagesRequest>>,
    ) -> Result<Response<Answers>, Status> {
        Caller::of(&request)?.platform_only("PostMessages")?;
        let echo = self.clone();
        let answers = request
            .into_inner()
            .take_while(|item| ready(item.is_ok()))
            .filter_map(|item| ready(item.ok()))
            .map(move |item| Ok(echo.answer(item)));
        Ok(Response::new(Box::pin(answers)))
    }

    async fn post_message(
        &self,
        _: Request<pb::PostMessageRequest>,
    ) -> Result<Response<pb::PostMessageResponse>, Status> {
        only_posts()
    }
    async fn get_by_client_id(
        &self,
        _: Request<pb::GetByClientIdRequest>,
    ) -> Result<Response<pb::Message>, Status> {
        only_posts()
    }
    async fn list_messages(
        &self,
        _: Request<pb::ListMessagesRequest>,
    ) -> Result<Response<pb::ListMessagesResponse>, Status> {
        only_posts()
    }
    async fn get_message(
        &self,
        _: Request<pb::GetMessageRequest>,
    ) -> Result<Response<pb::Message>, Status> {
        only_posts()
    }
    async fn edit_message(
        &self,
        _: Request<pb::EditMessageRequest>,
    ) -> Result<Response<pb::Message>, Status> {
        only_posts()
    }
    async fn delete_message(
        &self,
        _: Request<pb::DeleteMessageRequest>,
    ) -> Result<Response<pb::DeleteMessageResponse>, Status> {
        only_posts()
    }
    async fn mark_read(
        &self,
        _: Request<pb::MarkReadRequest>,
    ) -> Result<Response<pb::MarkReadResponse>, Status> {
        only_posts()
    }
    async fn get_unread_counts(
        &self,
        _: Request<pb::GetUnreadCountsRequest>,
    ) -> Result<Response<pb::GetUnreadCountsResponse>, Status> {
        only_posts()
    }
    async fn react(
        &self,
        _: Request<pb::ReactRequest>,
    ) -> Result<Response<pb::ReactResponse>, Status> {
        only_posts()
    }
    async fn search(
        &self,
        _: Request<pb::SearchRequest>,
    ) -> Result<Response<pb::SearchResponse>, Status> {
        only_posts()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn echo(credentials: Credentials) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(serve(listener, credentials, Ids::default()));
        url
    }

    fn post(i: usize) -> pb::PostMessageRequest {
        pb::PostMessageRequest {
            room: "general".into(),
            sender: "alice".into(),
            content: format!("send {i}"),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn every_send_is_answered_over_mutual_tls() {
        let set = chat_common::certs::generate(&chat_common::certs::default_names()).unwrap();
        let url = echo(set.credentials()).await;
        let hop = Arc::new(Hop::connect(&url, &set.credentials()).await.unwrap());
        let trips = (0..100).map(|i| {
            let hop = hop.clone();
            tokio::spawn(async move { hop.round_trip(post(i)).await })
        });
        for trip in futures::future::join_all(trips).await {
            assert!(trip.unwrap());
        }
    }

    #[tokio::test]
    async fn a_caller_without_the_platform_certificate_is_refused() {
        let set = chat_common::certs::generate(&chat_common::certs::default_names()).unwrap();
        let url = echo(set.credentials()).await;
        let hop = Hop::connect(&url, &Credentials::default()).await.unwrap();
        assert!(!hop.round_trip(post(0)).await);
    }
}
