//! The tonic implementation of `chat.media.v1.MediaService`: turns requests
//! into store and bucket operations and back into messages. Uploads are
//! owned, and deletes asked, by the [`Caller`]'s user; reading a file needs
//! any authenticated caller (the gateway serves media links to everyone).

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use chat_common::caller::Caller;
use chat_proto::media::v1 as pb;
use futures::{Stream, StreamExt, TryStreamExt};
use pb::media_service_server::MediaService;
use tokio::io::AsyncReadExt;
use tonic::{Request, Response, Status, Streaming};

use crate::error::Error;
use crate::names::display_name;
use crate::s3::ObjectStore;
use crate::sniff;
use crate::store::{MediaRecord, Purpose, Store};
use crate::upload;

/// Download chunk size: a few HTTP/2 frames, small enough for a steady
/// stream, large enough to keep per-message overhead negligible.
const DOWNLOAD_CHUNK: usize = 64 * 1024;

pub struct MediaGrpc {
    store: Arc<dyn Store>,
    objects: ObjectStore,
    tmp_dir: PathBuf,
    max_upload_bytes: u64,
}

impl MediaGrpc {
    pub fn new(
        store: Arc<dyn Store>,
        objects: ObjectStore,
        tmp_dir: PathBuf,
        max_upload_bytes: u64,
    ) -> MediaGrpc {
        MediaGrpc {
            store,
            objects,
            tmp_dir,
            max_upload_bytes,
        }
    }

    async fn upload(
        &self,
        caller: &Caller,
        mut messages: Streaming<pb::UploadRequest>,
    ) -> Result<MediaRecord, Status> {
        let mut meta = match messages
            .message()
            .await
            .map_err(Error::Stream)?
            .and_then(|m| m.part)
        {
            Some(pb::upload_request::Part::Metadata(meta)) => meta,
            _ => {
                return Err(Error::InvalidArgument(
                    "The first upload message must carry the file's metadata".into(),
                )
                .into());
            }
        };
        meta.owner = caller.username("owner", &meta.owner)?;
        Ok(self.store_upload(meta, messages).await?)
    }

    async fn store_upload(
        &self,
        meta: pb::UploadMetadata,
        messages: Streaming<pb::UploadRequest>,
    ) -> Result<MediaRecord, Error> {
        if meta.owner.trim().is_empty() {
            return Err(Error::InvalidArgument("The upload needs an owner".into()));
        }
        let purpose = match pb::Purpose::try_from(meta.purpose) {
            Ok(pb::Purpose::Avatar) => Purpose::Avatar,
            Ok(pb::Purpose::Attachment) => Purpose::Attachment,
            _ => {
                return Err(Error::InvalidArgument(
                    "The upload's purpose must be avatar or attachment".into(),
                ));
            }
        };
        let limit = match meta.max_size {
            0 => self.max_upload_bytes,
            n => n.min(self.max_upload_bytes),
        };

        let chunks = messages.map(|msg| match msg {
            Ok(pb::UploadRequest {
                part: Some(pb::upload_request::Part::Chunk(chunk)),
            }) => Ok(chunk),
            Ok(_) => Err(Error::InvalidArgument(
                "Only the first upload message may carry metadata; every later one is a chunk"
                    .into(),
            )),
            Err(status) => Err(Error::Stream(status)),
        });
        let received = upload::receive(chunks, &self.tmp_dir, limit).await?;
        if received.size == 0 {
            return Err(Error::InvalidArgument("The file is empty".into()));
        }
        let content_type = sniff::content_type(&received.head, received.is_text);
        if purpose == Purpose::Avatar && !sniff::is_avatar_type(&content_type) {
            return Err(Error::NotAnImage);
        }

        let record = MediaRecord {
            id: uuid::Uuid::now_v7().to_string(),
            owner: meta.owner,
            name: display_name(&meta.name, purpose.as_str()),
            content_type,
            size: received.size,
            sha256: received.sha256.clone(),
            created_at: chat_common::time::now_millis(),
            purpose,
        };
        self.objects
            .put_file(
                &record.id,
                &received.path,
                record.size,
                &record.content_type,
            )
            .await?;
        drop(received);
        if let Err(e) = self.store.insert(&record).await {
            // Nothing half-stored: bytes without metadata could never be
            // reached or deleted.
            if let Err(cleanup) = self.objects.delete(&record.id).await {
                tracing::error!(id = %record.id, error = %cleanup, "orphaned object after failed metadata write");
            }
            return Err(e);
        }
        tracing::info!(id = %record.id, owner = %record.owner, size = record.size, content_type = %record.content_type, "stored upload");
        Ok(record)
    }

    async fn find(&self, id: &str) -> Result<MediaRecord, Error> {
        if id.is_empty() {
            return Err(Error::InvalidArgument("A media id is required".into()));
        }
        self.store
            .get(id)
            .await?
            .ok_or_else(|| Error::NotFound(id.to_owned()))
    }

    async fn download(&self, id: &str) -> Result<DownloadStream, Error> {
        let record = self.find(id).await?;
        let Some(body) = self.objects.get(&record.id).await? else {
            tracing::error!(id = %record.id, "metadata exists but the object is missing");
            return Err(Error::NotFound(record.id));
        };
        let reader = Box::pin(body.into_async_read());
        let chunks = futures::stream::try_unfold(reader, |mut reader| async move {
            let mut buf = vec![0u8; DOWNLOAD_CHUNK];
            let mut filled = 0;
            while filled < DOWNLOAD_CHUNK {
                match reader.read(&mut buf[filled..]).await? {
                    0 => break,
                    n => filled += n,
                }
            }
            if filled == 0 {
                return Ok(None);
            }
            buf.truncate(filled);
            Ok::<_, std::io::Error>(Some((buf, reader)))
        })
        .map_ok(|chunk| pb::DownloadResponse {
            part: Some(pb::download_response::Part::Chunk(chunk)),
        })
        .map_err(|e| Status::from(Error::ObjectStorage(format!("reading object: {e}"))));
        let info = pb::DownloadResponse {
            part: Some(pb::download_response::Part::Info(pb::MediaInfo::from(
                record,
            ))),
        };
        Ok(Box::pin(
            futures::stream::once(async { Ok(info) }).chain(chunks),
        ))
    }

    async fn delete(&self, id: &str, requester: &str) -> Result<(), Error> {
        if id.is_empty() {
            return Err(Error::InvalidArgument("A media id is required".into()));
        }
        let Some(record) = self.store.get(id).await? else {
            return Ok(());
        };
        // Usernames are unique ignoring case, so case never tells two apart.
        if record.owner.to_lowercase() != requester.to_lowercase() {
            return Err(Error::NotOwner);
        }
        // Bytes first: if removing the metadata then fails, the record stays
        // visible and a retried delete finishes the job; the other order could
        // strand bytes nothing refers to.
        self.objects.delete(&record.id).await?;
        self.store.delete(&record.id).await?;
        tracing::info!(id = %record.id, "deleted media");
        Ok(())
    }
}

impl From<MediaRecord> for pb::MediaInfo {
    fn from(r: MediaRecord) -> pb::MediaInfo {
        pb::MediaInfo {
            id: r.id,
            owner: r.owner,
            name: r.name,
            content_type: r.content_type,
            size: r.size,
            sha256: r.sha256,
            created_at: Some(chat_common::time::millis_to_timestamp(r.created_at)),
            purpose: match r.purpose {
                Purpose::Avatar => pb::Purpose::Avatar,
                Purpose::Attachment => pb::Purpose::Attachment,
            } as i32,
        }
    }
}

type DownloadStream = Pin<Box<dyn Stream<Item = Result<pb::DownloadResponse, Status>> + Send>>;

#[tonic::async_trait]
impl MediaService for MediaGrpc {
    async fn upload(
        &self,
        request: Request<Streaming<pb::UploadRequest>>,
    ) -> Result<Response<pb::MediaInfo>, Status> {
        let caller = Caller::of(&request)?;
        let info = MediaGrpc::upload(self, &caller, request.into_inner()).await?;
        Ok(Response::new(info.into()))
    }

    async fn get_media(
        &self,
        request: Request<pb::GetMediaRequest>,
    ) -> Result<Response<pb::MediaInfo>, Status> {
        Caller::of(&request)?;
        let record = self.find(&request.into_inner().id).await?;
        Ok(Response::new(pb::MediaInfo::from(record)))
    }

    type DownloadStream = DownloadStream;

    async fn download(
        &self,
        request: Request<pb::DownloadRequest>,
    ) -> Result<Response<Self::DownloadStream>, Status> {
        Caller::of(&request)?;
        let stream = MediaGrpc::download(self, &request.into_inner().id).await?;
        Ok(Response::new(stream))
    }

    async fn delete(
        &self,
        request: Request<pb::DeleteMediaRequest>,
    ) -> Result<Response<pb::DeleteMediaResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let requester = caller.username("requester", &req.requester)?;
        MediaGrpc::delete(self, &req.id, &requester).await?;
        Ok(Response::new(pb::DeleteMediaResponse {}))
    }
}
