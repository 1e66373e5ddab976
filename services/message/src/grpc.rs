//! `chat.message.v1.MessageService` over [`Messages`]: protobuf in, rules
//! and store calls, protobuf out. The acting user comes from the [`Caller`]
//! (never from the body alone); a user calling directly reaches only the
//! rooms they are a member of, as through the gateway.

use std::pin::Pin;
use std::sync::Arc;

use chat_common::caller::Caller;
use chat_common::time::millis_to_timestamp;
use chat_proto::message::v1 as pb;
use futures::future::ready;
use futures::{Stream, StreamExt};
use pb::message_service_server::MessageService;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, Streaming};

use crate::model::{Attachment, Message, Reaction};
use crate::rooms::Rooms;
use crate::service::{Messages, NewPost};

/// Cheap to clone: each `PostMessages` stream holds one.
#[derive(Clone)]
pub struct MessageGrpc {
    messages: Arc<Messages>,
    rooms: Arc<Rooms>,
    /// Ends the `PostMessages` streams when the server begins to stop.
    stopping: CancellationToken,
}

/// Sends of one `PostMessages` stream worked on at once (the proto says
/// so): beyond it the stream is not read, and HTTP/2 flow control holds
/// the caller back, so one caller cannot queue unbounded work.
const STREAM_IN_FLIGHT: usize = 256;

impl MessageGrpc {
    pub fn new(messages: Messages, rooms: Rooms, stopping: CancellationToken) -> MessageGrpc {
        MessageGrpc {
            messages: Arc::new(messages),
            rooms: Arc::new(rooms),
            stopping,
        }
    }

    /// One send, for `PostMessage` and each item of `PostMessages`.
    async fn post(
        &self,
        caller: &Caller,
        mut r: pb::PostMessageRequest,
    ) -> Result<pb::PostMessageResponse, Status> {
        r.sender = caller.username("sender", &r.sender)?;
        self.member(caller, &r.room).await?;
        let (message, created) = self
            .messages
            .post(NewPost {
                room: r.room,
                sender: r.sender,
                content: r.content,
                client_id: r.client_id,
                avatar_media_id: r.avatar_media_id,
                attachments: r.attachments.into_iter().map(attachment_from_pb).collect(),
                reply_to: r.reply_to,
            })
            .await?;
        Ok(pb::PostMessageResponse {
            message: Some(message_to_pb(message)),
            created,
        })
    }

    /// One item of a `PostMessages` stream, answered under its id.
    async fn post_item(
        &self,
        caller: &Caller,
        item: pb::PostMessagesRequest,
    ) -> pb::PostMessagesResponse {
        use pb::post_messages_response::Result as Answer;
        let outcome = match item.post {
            Some(post) => self.post(caller, post).await,
            None => Err(Status::invalid_argument("`post` is required")),
        };
        pb::PostMessagesResponse {
            id: item.id,
            result: Some(match outcome {
                Ok(posted) => Answer::Posted(posted),
                Err(status) => Answer::Error(pb::PostError {
                    code: status.code() as i32,
                    message: status.message().to_owned(),
                }),
            }),
        }
    }

    /// A user may touch only a room they are a member of. The platform (the
    /// gateway) checks membership itself, with its own answers (e.g. "not
    /// in room"), before it calls.
    async fn member(&self, caller: &Caller, room: &str) -> Result<(), Status> {
        if let Caller::User { username, .. } = caller
            && self.rooms.role_of(room, username).await?.is_none()
        {
            return Err(Status::permission_denied(format!(
                "You are not a member of '{room}'"
            )));
        }
        Ok(())
    }

    /// `rooms` narrowed, for a user, to those they are a member of.
    async fn own_rooms(&self, caller: &Caller, rooms: Vec<String>) -> Result<Vec<String>, Status> {
        if !matches!(caller, Caller::User { .. }) {
            return Ok(rooms);
        }
        let mut kept = Vec::with_capacity(rooms.len());
        for room in rooms {
            if self.member(caller, &room).await.is_ok() {
                kept.push(room);
            }
        }
        Ok(kept)
    }
}

fn attachment_to_pb(a: Attachment) -> pb::Attachment {
    pb::Attachment {
        id: a.id,
        content_type: a.content_type,
        size: a.size,
        name: a.name,
    }
}

fn attachment_from_pb(a: pb::Attachment) -> Attachment {
    Attachment {
        id: a.id,
        content_type: a.content_type,
        size: a.size,
        name: a.name,
    }
}

fn attachments_to_pb(list: Vec<Attachment>) -> Vec<pb::Attachment> {
    list.into_iter().map(attachment_to_pb).collect()
}

pub(crate) fn message_to_pb(m: Message) -> pb::Message {
    pb::Message {
        id: m.id,
        room: m.room,
        sender: m.sender,
        content: m.content,
        avatar_media_id: m.avatar_media_id,
        timestamp: Some(millis_to_timestamp(m.ts)),
        client_id: m.client_id,
        attachments: attachments_to_pb(m.attachments),
        edited_at: m.edited_at.map(millis_to_timestamp),
        deleted: m.deleted,
        reply_to: m.reply.map(|r| pb::ReplyRef {
            id: r.id,
            sender: r.sender,
            excerpt: r.excerpt,
        }),
        reactions: m.reactions.into_iter().map(reaction_to_pb).collect(),
    }
}

fn reaction_to_pb(r: Reaction) -> pb::Reaction {
    pb::Reaction {
        emoji: r.emoji,
        count: r.count,
        users: r.users,
    }
}

type Answers = Pin<Box<dyn Stream<Item = Result<pb::PostMessagesResponse, Status>> + Send>>;

#[tonic::async_trait]
impl MessageService for MessageGrpc {
    async fn post_message(
        &self,
        request: Request<pb::PostMessageRequest>,
    ) -> Result<Response<pb::PostMessageResponse>, Status> {
        let caller = Caller::of(&request)?;
        let posted = self.post(&caller, request.into_inner()).await?;
        Ok(Response::new(posted))
    }

    type PostMessagesStream = Answers;

    /// Reads until the caller closes, the stream breaks or the server
    /// stops; whatever was read is answered before the stream ends.
    async fn post_messages(
        &self,
        request: Request<Streaming<pb::PostMessagesRequest>>,
    ) -> Result<Response<Answers>, Status> {
        let caller = Caller::of(&request)?;
        caller.platform_only("PostMessages")?;
        let this = self.clone();
        let answers = request
            .into_inner()
            .take_until(self.stopping.clone().cancelled_owned())
            .take_while(|item| {
                if let Err(e) = item {
                    tracing::debug!(error = %e, "a PostMessages stream broke");
                }
                ready(item.is_ok())
            })
            .filter_map(|item| ready(item.ok()))
            .map(move |item| {
                let (this, caller) = (this.clone(), caller.clone());
                async move { Ok(this.post_item(&caller, item).await) }
            })
            .buffer_unordered(STREAM_IN_FLIGHT);
        Ok(Response::new(Box::pin(answers)))
    }

    async fn get_by_client_id(
        &self,
        request: Request<pb::GetByClientIdRequest>,
    ) -> Result<Response<pb::Message>, Status> {
        let caller = Caller::of(&request)?;
        let mut r = request.into_inner();
        r.sender = caller.username("sender", &r.sender)?;
        let message = self.messages.by_client_id(&r.sender, &r.client_id).await?;
        Ok(Response::new(message_to_pb(message)))
    }

    async fn list_messages(
        &self,
        request: Request<pb::ListMessagesRequest>,
    ) -> Result<Response<pb::ListMessagesResponse>, Status> {
        let caller = Caller::of(&request)?;
        let r = request.into_inner();
        self.member(&caller, &r.room).await?;
        let page = self
            .messages
            .history(&r.room, r.before.as_deref(), r.after.as_deref(), r.limit)
            .await?;
        Ok(Response::new(pb::ListMessagesResponse {
            messages: page.messages.into_iter().map(message_to_pb).collect(),
            has_more: page.has_more,
        }))
    }

    async fn get_message(
        &self,
        request: Request<pb::GetMessageRequest>,
    ) -> Result<Response<pb::Message>, Status> {
        let caller = Caller::of(&request)?;
        let message = self.messages.get(&request.into_inner().id).await?;
        self.member(&caller, &message.room).await?;
        Ok(Response::new(message_to_pb(message)))
    }

    async fn edit_message(
        &self,
        request: Request<pb::EditMessageRequest>,
    ) -> Result<Response<pb::Message>, Status> {
        let caller = Caller::of(&request)?;
        let mut r = request.into_inner();
        r.editor = caller.username("editor", &r.editor)?;
        let message = self.messages.edit(&r.id, &r.editor, &r.content).await?;
        Ok(Response::new(message_to_pb(message)))
    }

    async fn delete_message(
        &self,
        request: Request<pb::DeleteMessageRequest>,
    ) -> Result<Response<pb::DeleteMessageResponse>, Status> {
        let caller = Caller::of(&request)?;
        let mut r = request.into_inner();
        r.requester = caller.username("requester", &r.requester)?;
        let deleted = self.messages.delete(&r.id, &r.requester).await?;
        Ok(Response::new(pb::DeleteMessageResponse {
            message: Some(message_to_pb(deleted.message)),
            changed: deleted.changed,
            removed_attachments: attachments_to_pb(deleted.removed),
        }))
    }

    async fn mark_read(
        &self,
        request: Request<pb::MarkReadRequest>,
    ) -> Result<Response<pb::MarkReadResponse>, Status> {
        let caller = Caller::of(&request)?;
        let mut r = request.into_inner();
        r.user = caller.username("user", &r.user)?;
        self.member(&caller, &r.room).await?;
        let read = self
            .messages
            .mark_read(&r.room, &r.user, &r.message_id)
            .await?;
        Ok(Response::new(pb::MarkReadResponse {
            moved: read.moved,
            message_id: read.message_id,
        }))
    }

    async fn get_unread_counts(
        &self,
        request: Request<pb::GetUnreadCountsRequest>,
    ) -> Result<Response<pb::GetUnreadCountsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let mut r = request.into_inner();
        r.user = caller.username("user", &r.user)?;
        r.rooms = self.own_rooms(&caller, r.rooms).await?;
        let rooms = self.messages.unread(&r.user, &r.rooms).await?;
        Ok(Response::new(pb::GetUnreadCountsResponse {
            rooms: rooms
                .into_iter()
                .map(|(room, u)| pb::RoomUnread {
                    room,
                    unread: u.count,
                    last_read_message_id: u.last_read,
                })
                .collect(),
        }))
    }

    async fn react(
        &self,
        request: Request<pb::ReactRequest>,
    ) -> Result<Response<pb::ReactResponse>, Status> {
        let caller = Caller::of(&request)?;
        let mut r = request.into_inner();
        r.user = caller.username("user", &r.user)?;
        if matches!(caller, Caller::User { .. }) {
            let room = self.messages.get(&r.id).await?.room;
            self.member(&caller, &room).await?;
        }
        let (message, changed) = self.messages.react(&r.id, &r.user, &r.emoji, r.on).await?;
        Ok(Response::new(pb::ReactResponse {
            message: Some(message_to_pb(message)),
            changed,
        }))
    }

    async fn search(
        &self,
        request: Request<pb::SearchRequest>,
    ) -> Result<Response<pb::SearchResponse>, Status> {
        let caller = Caller::of(&request)?;
        let mut r = request.into_inner();
        r.rooms = self.own_rooms(&caller, r.rooms).await?;
        let (hits, has_more) = self
            .messages
            .search(&r.query, &r.rooms, r.before.as_deref(), r.limit)
            .await?;
        Ok(Response::new(pb::SearchResponse {
            results: hits
                .into_iter()
                .map(|h| pb::SearchHit {
                    message: Some(message_to_pb(h.message)),
                    matches: h
                        .matches
                        .into_iter()
                        .map(|(start, end)| pb::Match { start, end })
                        .collect(),
                })
                .collect(),
            has_more,
        }))
    }
}
