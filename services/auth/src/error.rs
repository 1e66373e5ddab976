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
    #[error("Session not found")]
    SessionNotFound,
    #[error("The current password is wrong")]
    WrongPassword,
    /// A refresh token presented again: its session has just ended.
    #[error("Refresh token is unknown, already used or expired; log in again")]
    Replayed { session_id: String, user_id: String },
    #[error("Too many failed logins for this username; try again in {retry_after_secs} s")]
    Throttled { retry_after_secs: u64 },
    #[error("The server is busy checking passwords; try again in {retry_after_secs} s")]
    HashBusy { retry_after_secs: u64 },

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
        // These carry metadata the gateway turns into headers or endings.
        match &err {
            Error::Replayed {
                session_id,
                user_id,
            } => {
                let mut s = Status::unauthenticated(err.to_string());
                insert_meta(&mut s, "ended-session-id", session_id);
                insert_meta(&mut s, "ended-user-id", user_id);
                return s;
            }
            Error::Throttled { retry_after_secs } => {
                let mut s = Status::resource_exhausted(err.to_string());
                insert_meta(&mut s, "retry-after", &retry_after_secs.to_string());
                return s;
            }
            Error::HashBusy { retry_after_secs } => {
                let mut s = Status::unavailable(err.to_string());
                insert_meta(&mut s, "retry-after", &retry_after_secs.to_string());
                return s;
            }
            _ => {}
        }
        let code = match &err {
            Error::InvalidArgument(_) => Code::InvalidArgument,
            Error::UsernameTaken => Code::AlreadyExists,
            Error::InvalidCredentials | Error::InvalidRefreshToken => Code::Unauthenticated,
            Error::UserNotFound | Error::SessionNotFound => Code::NotFound,
            Error::WrongPassword => Code::PermissionDenied,
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

/// Ids and numbers are ASCII; anything else is left out rather than failing.
fn insert_meta(s: &mut Status, key: &'static str, value: &str) {
    if let Ok(v) = value.parse() {
        s.metadata_mut().insert(key, v);
    }
}

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
    fn throttles_and_replays_carry_metadata() {
        let s = Status::from(Error::Throttled {
            retry_after_secs: 42,
        });
        assert_eq!(s.code(), Code::ResourceExhausted);
        assert_eq!(s.metadata().get("retry-after").unwrap(), "42");
        let s = Status::from(Error::HashBusy {
            retry_after_secs: 1,
        });
        assert_eq!(s.code(), Code::Unavailable);
        assert_eq!(s.metadata().get("retry-after").unwrap(), "1");
        let s = Status::from(Error::Replayed {
            session_id: "s1".into(),
            user_id: "u1".into(),
        });
        assert_eq!(s.code(), Code::Unauthenticated);
        assert_eq!(s.metadata().get("ended-session-id").unwrap(), "s1");
    }

    #[test]
    fn internal_errors_hide_details() {
        let s = Status::from(Error::Corrupt("secret detail".into()));
        assert_eq!(s.code(), Code::Internal);
        assert!(!s.message().contains("secret"));
    }
}
