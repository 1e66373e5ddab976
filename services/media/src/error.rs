//! The crate's one error type and its single mapping to `tonic::Status`.

use tonic::{Code, Status};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request the caller can fix: the message says how.
    #[error("{0}")]
    InvalidArgument(String),
    #[error("File is larger than {0} bytes")]
    TooLarge(u64),
    #[error("Avatars must be PNG, JPEG, GIF or WebP images")]
    NotAnImage,
    #[error("No media has the id {0:?}")]
    NotFound(String),
    #[error("Only the owner can delete this file")]
    NotOwner,
    #[error("Media with the id {0:?} already exists")]
    AlreadyExists(String),
    /// The client's own upload stream failed; its status is passed back as is.
    #[error("upload stream failed: {0}")]
    Stream(Status),
    #[error("configuration: {0}")]
    Config(String),
    /// A stored record no version of this service could have written.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("MongoDB: {0}")]
    Mongo(#[from] mongodb::error::Error),
    #[error("object storage: {0}")]
    ObjectStorage(String),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("background task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("gRPC transport: {0}")]
    Transport(#[from] tonic::transport::Error),
}

impl From<chat_common::grpc::ServeError> for Error {
    fn from(e: chat_common::grpc::ServeError) -> Self {
        match e {
            chat_common::grpc::ServeError::Tls(msg) => Error::Config(msg),
            chat_common::grpc::ServeError::Transport(e) => Error::Transport(e),
        }
    }
}

/// Every bad environment variable becomes one configuration error.
impl From<chat_common::env::InvalidVar> for Error {
    fn from(e: chat_common::env::InvalidVar) -> Self {
        Error::Config(e.to_string())
    }
}

impl From<Error> for Status {
    fn from(err: Error) -> Status {
        let code = match &err {
            Error::InvalidArgument(_) => Code::InvalidArgument,
            Error::TooLarge(_) => Code::ResourceExhausted,
            Error::NotAnImage => Code::FailedPrecondition,
            Error::NotFound(_) => Code::NotFound,
            Error::NotOwner => Code::PermissionDenied,
            Error::AlreadyExists(_) => Code::AlreadyExists,
            Error::Stream(status) => return status.clone(),
            // Only an outage is worth retrying; a refused command or an
            // unreadable document is a fault of ours, reported as such.
            Error::Mongo(e) if chat_common::mongo::is_transient(e) => Code::Unavailable,
            Error::ObjectStorage(_) => Code::Unavailable,
            Error::Mongo(_) => Code::Internal,
            Error::Config(_)
            | Error::Corrupt(_)
            | Error::Sqlite(_)
            | Error::Io(_)
            | Error::Task(_)
            | Error::Transport(_) => Code::Internal,
        };
        match code {
            // Infrastructure details stay in the log; callers get a sentence.
            Code::Internal => {
                tracing::error!(error = %err, "internal error");
                Status::internal("Internal error in the media service")
            }
            Code::Unavailable => {
                tracing::warn!(error = %err, "storage unavailable");
                Status::unavailable("Media storage is unavailable; try again shortly")
            }
            _ => Status::new(code, err.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_errors_keep_their_sentence() {
        let s = Status::from(Error::TooLarge(10));
        assert_eq!(s.code(), Code::ResourceExhausted);
        assert_eq!(s.message(), "File is larger than 10 bytes");
        let s = Status::from(Error::NotAnImage);
        assert_eq!(s.code(), Code::FailedPrecondition);
        assert_eq!(s.message(), "Avatars must be PNG, JPEG, GIF or WebP images");
    }

    #[test]
    fn internal_errors_hide_details() {
        let s = Status::from(Error::Io(std::io::Error::other("disk at /secret failed")));
        assert_eq!(s.code(), Code::Internal);
        assert!(!s.message().contains("/secret"));
    }
}
