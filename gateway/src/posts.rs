//! Sends to the message service over one long-lived `PostMessages` stream
//! rather than a unary `PostMessage` call each. A unary call pays for its
//! own HTTP/2 stream, header frames both ways, routing and the caller check;
//! on the split deployment's TLS connection that was the largest cost of a
//! send after the store (bench/README.md). On the stream a send is one data
//! frame each way, its answer found by id.
//!
//! Safety rule: every send gets exactly one answer. Sends the service read
//! are answered by it (it answers all it read, even when it stops); when the
//! stream ends or breaks, every send still waiting fails as `UNAVAILABLE`,
//! as a unary call on a broken connection does (the client resends with its
//! `clientId`, which the service deduplicates), and the next send opens a
//! new stream.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chat_common::channel::GrpcChannel;
use chat_proto::message::v1::message_service_client::MessageServiceClient;
use chat_proto::message::v1::post_messages_response::Result as Answer;
use chat_proto::message::v1::{
    PostMessageRequest, PostMessageResponse, PostMessagesRequest, PostMessagesResponse,
};
use tokio::sync::{mpsc, oneshot};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Status, Streaming};

/// Sends written to the stream but not yet taken by HTTP/2: past it a send
/// waits (within its timeout), as the service's own bound (256 at once)
/// and flow control push back.
const QUEUE: usize = 256;

/// Cheap to clone: a handle onto the one stream.
#[derive(Clone)]
pub struct Posts {
    shared: Arc<Shared>,
}

struct Shared {
    client: MessageServiceClient<GrpcChannel>,
    /// The bound on one send, as the unary calls' timeout bounds a call.
    timeout: Duration,
    next_id: AtomicU64,
    link: Mutex<Option<Arc<Link>>>,
    /// Held while a stream opens, so a burst of sends opens one, not many.
    opening: tokio::sync::Mutex<()>,
}

type Reply = oneshot::Sender<Result<PostMessageResponse, Status>>;

/// One open stream.
struct Link {
    requests: mpsc::Sender<PostMessagesRequest>,
    /// The sends waiting for their answer; `None` once the stream ended.
    waiting: Mutex<Option<HashMap<u64, Reply>>>,
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing here panics while holding a lock; if something did, the map
    // is still whole (each change is one insert or remove).
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn ended() -> Status {
    Status::unavailable("the stream to the message service ended before this send was answered")
}

impl Posts {
    /// Sends over `channel`, which must carry no per-call timeout (the
    /// stream lives on); each send is bounded by `timeout` instead.
    pub fn new(channel: GrpcChannel, timeout: Duration) -> Posts {
        Posts {
            shared: Arc::new(Shared {
                client: MessageServiceClient::new(channel),
                timeout,
                next_id: AtomicU64::new(0),
                link: Mutex::new(None),
                opening: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// What `PostMessage` would answer, within the timeout; a timeout is
    /// `CANCELLED` with tonic's `TimeoutExpired` as its source, as on a
    /// unary call.
    pub async fn post(&self, post: PostMessageRequest) -> Result<PostMessageResponse, Status> {
        match tokio::time::timeout(self.shared.timeout, self.send(post)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(Status::from_error(Box::new(tonic::TimeoutExpired(())))),
        }
    }

    async fn send(&self, post: PostMessageRequest) -> Result<PostMessageResponse, Status> {
        let link = self.link().await?;
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let (reply, answer) = oneshot::channel();
        let _waiting = link.wait(id, reply)?;
        let request = PostMessagesRequest {
            id,
            post: Some(post),
        };
        if link.requests.send(request).await.is_err() {
            return Err(ended());
        }
        answer.await.unwrap_or_else(|_| Err(ended()))
    }

    /// The open stream, or a new one.
    async fn link(&self) -> Result<Arc<Link>, Status> {
        if let Some(link) = self.open_link() {
            return Ok(link);
        }
        let _one = self.shared.opening.lock().await;
        if let Some(link) = self.open_link() {
            return Ok(link);
        }
        let (requests, outgoing) = mpsc::channel(QUEUE);
        let answers = self
            .shared
            .client
            .clone()
            .post_messages(ReceiverStream::new(outgoing))
            .await?
            .into_inner();
        let link = Arc::new(Link {
            requests,
            waiting: Mutex::new(Some(HashMap::new())),
        });
        tokio::spawn(read_answers(link.clone(), answers));
        *locked(&self.shared.link) = Some(link.clone());
        Ok(link)
    }

    fn open_link(&self) -> Option<Arc<Link>> {
        locked(&self.shared.link)
            .as_ref()
            .filter(|link| locked(&link.waiting).is_some())
            .cloned()
    }
}

/// A send's place among the waiting; leaving it (answered, timed out or
/// dropped) removes it, so the map holds only sends someone awaits.
struct Waiting<'a> {
    link: &'a Link,
    id: u64,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if let Some(waiting) = locked(&self.link.waiting).as_mut() {
            waiting.remove(&self.id);
        }
    }
}

impl Link {
    fn wait(&self, id: u64, reply: Reply) -> Result<Waiting<'_>, Status> {
        match locked(&self.waiting).as_mut() {
            Some(waiting) => {
                waiting.insert(id, reply);
                Ok(Waiting { link: self, id })
            }
            None => Err(ended()),
        }
    }

    fn answer(&self, answer: PostMessagesResponse) {
        let reply = locked(&self.waiting)
            .as_mut()
            .and_then(|waiting| waiting.remove(&answer.id));
        // None: its sender gave up (timed out) in the meantime.
        let Some(reply) = reply else { return };
        let outcome = match answer.result {
            Some(Answer::Posted(posted)) => Ok(posted),
            Some(Answer::Error(e)) => Err(Status::new(Code::from(e.code), e.message)),
            None => Err(Status::internal(
                "the message service answered a send with neither a message nor an error",
            )),
        };
        let _ = reply.send(outcome);
    }
}

/// Hands each answer to its send until the stream ends, then fails the
/// sends still waiting and marks the link closed.
async fn read_answers(link: Arc<Link>, mut answers: Streaming<PostMessagesResponse>) {
    let why = loop {
        match answers.message().await {
            Ok(Some(answer)) => link.answer(answer),
            Ok(None) => break "the message service closed it".to_string(),
            Err(status) => break status.to_string(),
        }
    };
    tracing::info!(%why, "the PostMessages stream ended; the next send opens another");
    let waiting = locked(&link.waiting).take().unwrap_or_default();
    for reply in waiting.into_values() {
        let _ = reply.send(Err(ended()));
    }
}
