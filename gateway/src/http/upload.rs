//! `POST /upload`: streams the multipart field `avatar` or `file` chunk by
//! chunk into `MediaService.Upload`, so a file never sits whole in the
//! gateway's memory, and enforces `MAX_UPLOAD_BYTES` while it streams.
//!
//! A refused upload (too large, no token, no file field) is answered only
//! once the rest of its body has been read and discarded, up to
//! [`DRAIN_FACTOR`] times the limit (the route's body limit, see
//! `http::router`). Answering earlier would let the connection close while
//! the client is still sending: browsers and Node then report a reset
//! (`EPIPE`) instead of the `413`. Reading to the end also keeps an HTTP/1.1
//! keep-alive connection usable. `tests/http_upload_limits.rs` holds both.

use std::time::Duration;

use axum::extract::multipart::{Field, MultipartError, MultipartRejection};
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chat_proto::auth::v1::SetAvatarRequest;
use chat_proto::media::v1::{
    DeleteMediaRequest, MediaInfo, Purpose, UploadMetadata, UploadRequest, upload_request::Part,
};
use serde_json::json;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::bearer::Bearer;
use super::user::PublicBase;
use crate::error::Error;
use crate::state::AppState;

/// Chunks in flight between the request body and the gRPC stream: enough
/// to keep both busy, small enough that memory stays flat.
const CHANNEL_DEPTH: usize = 8;
/// How long a refused body may take to arrive in full before it is
/// answered anyway (and the connection dropped).
const DRAIN_FOR: Duration = Duration::from_secs(30);
/// Bodies up to this many times the upload limit are read to their end
/// when refused, so the client gets the answer.
pub const DRAIN_FACTOR: u64 = 4;

pub async fn upload(
    State(state): State<AppState>,
    PublicBase(base): PublicBase,
    bearer: Result<Bearer, Error>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, Error> {
    let mut multipart = multipart.map_err(|r| {
        Error::InvalidInput(format!(
            "Send the file as multipart/form-data in a field named \"avatar\" or \"file\" ({})",
            r.body_text()
        ))
    })?;
    let result = match bearer {
        Ok(Bearer(claims)) => receive(&state, &claims.username, &mut multipart)
            .await
            .map(|info| (claims, info)),
        Err(e) => Err(e),
    };
    let (claims, info) = match result {
        Ok(done) => done,
        Err(e) => {
            drain(multipart).await;
            return Err(e);
        }
    };
    if info.purpose == Purpose::Avatar as i32 {
        set_avatar(&state, &claims.sub, &claims.username, &info.id).await?;
    }
    let body = json!({
        "id": info.id,
        "url": state.media_url(&base, &info.id),
        "contentType": info.content_type,
        "size": info.size,
        "name": info.name,
    });
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}

/// Finds the file field and streams it to the media service.
async fn receive(
    state: &AppState,
    owner: &str,
    multipart: &mut Multipart,
) -> Result<MediaInfo, Error> {
    let field = loop {
        match multipart.next_field().await.map_err(multipart_error)? {
            None => {
                return Err(Error::InvalidInput(
                    "No file: attach it in a multipart field named \"avatar\" or \"file\"".into(),
                ));
            }
            Some(f) if matches!(f.name(), Some("avatar" | "file")) => break f,
            // Other fields are skipped; `next_field` discards their bytes.
            Some(_) => {}
        }
    };
    let purpose = match field.name() {
        Some("avatar") => Purpose::Avatar,
        _ => Purpose::Attachment,
    };
    let max = state.config.limits.max_upload_bytes;
    let metadata = UploadMetadata {
        owner: owner.to_string(),
        name: field.file_name().unwrap_or_default().to_string(),
        purpose: purpose as i32,
        max_size: max,
    };
    let (tx, rx) = mpsc::channel(CHANNEL_DEPTH);
    tx.try_send(UploadRequest {
        part: Some(Part::Metadata(metadata)),
    })
    .map_err(|_| Error::Internal("upload channel refused the metadata".into()))?;

    let mut media = state.clients.media_stream.clone();
    let rpc = media.upload(ReceiverStream::new(rx));
    let pump = pump(field, tx, max, state.config.grpc_timeout);
    tokio::pin!(rpc, pump);
    // Whichever ends first decides: the service may refuse early (wrong
    // type, too large), and a body over the limit cancels the call (dropping
    // `rpc` resets the stream, so the service keeps nothing).
    tokio::select! {
        res = &mut rpc => return res.map(tonic::Response::into_inner).map_err(upload_error),
        res = &mut pump => res?,
    }
    // The whole file is sent; only the service's answer is awaited.
    let finish = state.config.grpc_timeout.max(Duration::from_secs(30));
    match tokio::time::timeout(finish, rpc).await {
        Ok(res) => res.map(tonic::Response::into_inner).map_err(upload_error),
        Err(_) => Err(Error::Unavailable(
            "The media service did not confirm the upload in time".into(),
        )),
    }
}

/// Copies the field into the gRPC stream, counting bytes. Returns when the
/// field ends or the service stops reading.
async fn pump(
    mut field: Field<'_>,
    tx: mpsc::Sender<UploadRequest>,
    max: u64,
    stall: Duration,
) -> Result<(), Error> {
    let mut total: u64 = 0;
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        total = total.saturating_add(chunk.len() as u64);
        if total > max {
            return Err(too_large(max));
        }
        let req = UploadRequest {
            part: Some(Part::Chunk(chunk.to_vec())),
        };
        match tx.send_timeout(req, stall).await {
            Ok(()) => {}
            // The call ended (usually with an error): its answer says why.
            Err(mpsc::error::SendTimeoutError::Closed(_)) => return std::future::pending().await,
            Err(mpsc::error::SendTimeoutError::Timeout(_)) => {
                return Err(Error::Unavailable(
                    "The media service stopped accepting the upload".into(),
                ));
            }
        }
    }
    Ok(())
}

async fn set_avatar(
    state: &AppState,
    user_id: &str,
    owner: &str,
    media_id: &str,
) -> Result<(), Error> {
    let res = state
        .clients
        .auth
        .clone()
        .set_avatar(SetAvatarRequest {
            user_id: user_id.to_string(),
            avatar_media_id: media_id.to_string(),
        })
        .await;
    // Even a failed call may have landed (a timeout): forgetting is safe.
    state.avatars.changed(user_id).await;
    if let Err(status) = res {
        // Without the avatar link nobody can reach the file: remove it.
        let delete = DeleteMediaRequest {
            id: media_id.to_string(),
            requester: owner.to_string(),
        };
        if let Err(e) = state.clients.media.clone().delete(delete).await {
            tracing::warn!(error = %e, media_id, "could not remove an orphaned avatar");
        }
        return Err(status.into());
    }
    Ok(())
}

/// Reads and discards what is left of a refused body, within bounds: the
/// route's body limit caps the bytes, [`DRAIN_FOR`] the time.
async fn drain(mut multipart: Multipart) {
    let drained = tokio::time::timeout(DRAIN_FOR, async move {
        while let Ok(Some(mut field)) = multipart.next_field().await {
            while let Ok(Some(_)) = field.chunk().await {}
        }
    });
    if drained.await.is_err() {
        tracing::debug!("a refused upload was still arriving; answering anyway");
    }
}

fn too_large(max: u64) -> Error {
    Error::PayloadTooLarge(format!(
        "The file is larger than the {} limit",
        human_size(max)
    ))
}

/// The media service's refusals in the words of PROTOCOL.md's upload row.
fn upload_error(status: tonic::Status) -> Error {
    let msg = status.message().to_string();
    match status.code() {
        tonic::Code::FailedPrecondition => Error::UnsupportedMediaType(msg),
        tonic::Code::ResourceExhausted => Error::PayloadTooLarge(msg),
        _ => status.into(),
    }
}

fn multipart_error(e: MultipartError) -> Error {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Error::PayloadTooLarge("The upload is larger than the server accepts".into())
    } else {
        Error::InvalidInput(format!("Malformed multipart body: {}", e.body_text()))
    }
}

fn human_size(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes}-byte")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_refusals_map_to_the_upload_statuses() {
        let status = |code| upload_error(tonic::Status::new(code, "x")).http_status();
        assert_eq!(
            status(tonic::Code::FailedPrecondition),
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        );
        assert_eq!(
            status(tonic::Code::ResourceExhausted),
            StatusCode::PAYLOAD_TOO_LARGE
        );
        assert_eq!(
            status(tonic::Code::InvalidArgument),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            status(tonic::Code::Unavailable),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }

    #[test]
    fn limits_read_like_a_person_wrote_them() {
        assert_eq!(
            too_large(10 * 1024 * 1024).to_string(),
            "The file is larger than the 10 MiB limit"
        );
        assert_eq!(human_size(1000), "1000-byte");
    }
}
