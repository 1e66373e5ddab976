//! The crate's one error type and its single mapping to `tonic::Status`.

use tonic::{Code, Status};

/// Everything that can go wrong in the message service. The first five carry
/// a sentence meant for the person behind the request; the rest are internal
/// and reach clients only as a generic message.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    PermissionDenied(String),
    #[error("{0}")]
    FailedPrecondition(String),
    #[error("{0}")]
    AlreadyExists(String),
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("MongoDB: {0}")]
    Mongo(#[from] mongodb::error::Error),
    /// Stored data that cannot be read back (e.g. a corrupt attachment list).
    #[error("stored data is malformed: {0}")]
    Corrupt(String),
    #[error("a storage task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("gRPC transport: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// The store cannot take the request now (stopping, or a batch that
    /// failed to commit): nothing was stored, and a retry may succeed.
    #[error("message store unavailable: {0}")]
    Unavailable(String),
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

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<Error> for Status {
    fn from(e: Error) -> Status {
        match e {
            Error::InvalidArgument(m) => Status::invalid_argument(m),
            Error::NotFound(m) => Status::not_found(m),
            Error::PermissionDenied(m) => Status::permission_denied(m),
            Error::FailedPrecondition(m) => Status::failed_precondition(m),
            Error::AlreadyExists(m) => Status::already_exists(m),
            Error::Unavailable(_) => {
                tracing::warn!(error = %e, "message store unavailable");
                Status::new(
                    Code::Unavailable,
                    "The message store is unavailable; try again",
                )
            }
            Error::Mongo(ref m) if chat_common::mongo::is_transient(m) => {
                tracing::warn!(error = %e, "message store unreachable");
                Status::new(
                    Code::Unavailable,
                    "The message store is unavailable; try again",
                )
            }
            other => {
                tracing::error!(error = %other, "message service internal error");
                Status::internal("The message service failed; try again later")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_errors_keep_their_sentence() {
        let s = Status::from(Error::PermissionDenied(
            "Only the author can edit this message".into(),
        ));
        assert_eq!(s.code(), Code::PermissionDenied);
        assert_eq!(s.message(), "Only the author can edit this message");
        assert_eq!(
            Status::from(Error::FailedPrecondition("x".into())).code(),
            Code::FailedPrecondition
        );
    }

    #[test]
    fn internal_errors_hide_details() {
        let s = Status::from(Error::Corrupt("attachments column holds garbage".into()));
        assert_eq!(s.code(), Code::Internal);
        assert!(!s.message().contains("garbage"));
    }
}
