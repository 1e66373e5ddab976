//! The gateway's one error type, mapped once to the client error codes of
//! PROTOCOL.md (socket acks, `chatError`) and once to HTTP responses.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tonic::Code;

/// The client error codes of PROTOCOL.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    InvalidInput,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    RateLimited,
    PayloadTooLarge,
    Unavailable,
    Internal,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    RateLimited(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    /// Only uploads produce it (HTTP 415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("Something went wrong on our side; please try again")]
    Internal(String),
    #[error("configuration error: {0}")]
    Config(String),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// Every bad environment variable becomes one configuration error.
impl From<chat_common::env::InvalidVar> for Error {
    fn from(e: chat_common::env::InvalidVar) -> Self {
        Error::Config(e.to_string())
    }
}

impl Error {
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::InvalidInput(_) => ErrorCode::InvalidInput,
            Error::Unauthorized(_) => ErrorCode::Unauthorized,
            Error::Forbidden(_) => ErrorCode::Forbidden,
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::Conflict(_) => ErrorCode::Conflict,
            Error::RateLimited(_) => ErrorCode::RateLimited,
            Error::PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
            Error::UnsupportedMediaType(_) => ErrorCode::InvalidInput,
            Error::Unavailable(_) => ErrorCode::Unavailable,
            Error::Internal(_) | Error::Config(_) | Error::Io(_) => ErrorCode::Internal,
        }
    }

    pub fn http_status(&self) -> StatusCode {
        match self {
            Error::InvalidInput(_) => StatusCode::BAD_REQUEST,
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Error::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Internal(_) | Error::Config(_) | Error::Io(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// The sentence shown to clients: never internal details.
    pub fn client_message(&self) -> String {
        match self {
            Error::Internal(_) | Error::Config(_) | Error::Io(_) => {
                "Something went wrong on our side; please try again".into()
            }
            other => other.to_string(),
        }
    }

    /// The failure ack of PROTOCOL.md: `{ok: false, error: {code, message}}`.
    pub fn ack(&self) -> serde_json::Value {
        serde_json::json!({
            "ok": false,
            "error": { "code": self.code(), "message": self.client_message() },
        })
    }

    /// The `chatError` payload for a failed event sent without an ack.
    pub fn chat_error(&self, event: &str) -> serde_json::Value {
        serde_json::json!({ "event": event, "code": self.code(), "message": self.client_message() })
    }
}

/// The one mapping from a service's gRPC status to a gateway error.
impl From<tonic::Status> for Error {
    fn from(s: tonic::Status) -> Self {
        let msg = s.message().to_string();
        // A status with a source was made here by the transport (the
        // connection broke mid-call: the service died), not sent by the
        // service: whatever code tonic inferred, the service is unavailable.
        let code = if std::error::Error::source(&s).is_some() {
            Code::Unavailable
        } else {
            s.code()
        };
        match code {
            Code::InvalidArgument => Error::InvalidInput(msg),
            Code::Unauthenticated => Error::Unauthorized(msg),
            Code::PermissionDenied => Error::Forbidden(msg),
            Code::NotFound => Error::NotFound(msg),
            Code::AlreadyExists | Code::Aborted | Code::FailedPrecondition => Error::Conflict(msg),
            Code::ResourceExhausted => Error::RateLimited(msg),
            Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => {
                tracing::warn!(status = ?s.code(), %msg, "service unavailable");
                Error::Unavailable(
                    "A backend service is not answering; please try again shortly".into(),
                )
            }
            _ => {
                tracing::error!(status = ?s.code(), %msg, "service error");
                Error::Internal(msg)
            }
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        if matches!(self.code(), ErrorCode::Internal) {
            tracing::error!(error = ?self, "request failed");
        }
        (
            self.http_status(),
            Json(serde_json::json!({ "error": self.client_message() })),
        )
            .into_response()
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_statuses_map_to_protocol_codes() {
        let cases = [
            (Code::InvalidArgument, ErrorCode::InvalidInput),
            (Code::Unauthenticated, ErrorCode::Unauthorized),
            (Code::PermissionDenied, ErrorCode::Forbidden),
            (Code::NotFound, ErrorCode::NotFound),
            (Code::AlreadyExists, ErrorCode::Conflict),
            (Code::FailedPrecondition, ErrorCode::Conflict),
            (Code::ResourceExhausted, ErrorCode::RateLimited),
            (Code::Unavailable, ErrorCode::Unavailable),
            (Code::DeadlineExceeded, ErrorCode::Unavailable),
            (Code::Internal, ErrorCode::Internal),
        ];
        for (grpc, code) in cases {
            assert_eq!(
                Error::from(tonic::Status::new(grpc, "x")).code(),
                code,
                "{grpc:?}"
            );
        }
    }

    #[test]
    fn acks_have_the_protocol_shape_and_hide_internals() {
        let ack = Error::Internal("db exploded at /var/x".into()).ack();
        assert_eq!(ack["ok"], false);
        assert_eq!(ack["error"]["code"], "INTERNAL");
        assert!(!ack["error"]["message"].as_str().unwrap().contains("/var/x"));
        let e = Error::Forbidden("Join the room first".into()).chat_error("sendMessage");
        assert_eq!(
            e,
            serde_json::json!({"event":"sendMessage","code":"FORBIDDEN","message":"Join the room first"})
        );
    }
}
