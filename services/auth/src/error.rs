//! The one error type of the auth service and its single mapping to
//! `tonic::Status`. Client-facing variants carry sentences a person can act
//! on; internal ones are logged in full and surface only as "Internal error".

use tonic::{Code, Status};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    InvalidArgument(String),
    #[error("Username is already taken")]
    UsernameTaken,
    #[error("Invalid credentials")]
    InvalidCredentials,
    #[error("Refresh token is unknown, already used or expired; log in again")]
    InvalidRefreshToken,
    #[error("User not found")]
    UserNotFound,

    #[error("configuration: {0}")]
    Config(String),
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("mongodb: {0}")]
    Mongo(#[from] mongodb::error::Error),
    #[error("stored data is malformed: {0}")]
    Corrupt(String),
    #[error("signing key: {0}")]
    Key(String),
    #[error("token: {0}")]
    Token(#[from] jsonwebtoken::errors::Error),
    #[error("password hashing: {0}")]
    PasswordHash(String),
    #[error("background task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("gRPC transport: {0}")]
    Transport(#[from] tonic::transport::Error),
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
            Error::UsernameTaken => Code::AlreadyExists,
            Error::InvalidCredentials | Error::InvalidRefreshToken => Code::Unauthenticated,
            Error::UserNotFound => Code::NotFound,
            Error::Mongo(e) if is_transient(e) => Code::Unavailable,
            Error::Sqlite(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy =>
            {
                Code::Unavailable
            }
            _ => Code::Internal,
        };
        match code {
            Code::Internal => {
                tracing::error!(error = %err, "request failed");
                Status::internal("Internal error")
            }
            Code::Unavailable => {
                tracing::warn!(error = %err, "store unavailable");
                Status::unavailable("The auth store is unavailable; try again shortly")
            }
            _ => Status::new(code, err.to_string()),
        }
    }
}

use chat_common::mongo::is_transient;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_errors_keep_their_message() {
        let s = Status::from(Error::UsernameTaken);
        assert_eq!(s.code(), Code::AlreadyExists);
        assert_eq!(s.message(), "Username is already taken");
        let s = Status::from(Error::InvalidCredentials);
        assert_eq!(s.code(), Code::Unauthenticated);
        assert_eq!(s.message(), "Invalid credentials");
    }

    #[test]
    fn internal_errors_hide_details() {
        let s = Status::from(Error::Corrupt("secret detail".into()));
        assert_eq!(s.code(), Code::Internal);
        assert!(!s.message().contains("secret"));
    }
}
