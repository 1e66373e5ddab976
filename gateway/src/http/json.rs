//! A JSON body extractor whose every rejection is a `400 {"error": TEXT}`
//! (413 for an oversized body), unlike axum's plain-text rejections.
//!
//! It does not insist on `Content-Type: application/json`: the tutorial's
//! clients send it, but a `curl -d` user gets the same answer.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::Error;

pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(body_error)?;
        parse(&bytes).map(Json)
    }
}

/// A body that could not be read, as an `{"error"}` answer.
pub fn body_error(rejection: BytesRejection) -> Error {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Error::PayloadTooLarge("The request body is too large".into())
    } else {
        Error::InvalidInput(format!(
            "Could not read the request body: {}",
            rejection.body_text()
        ))
    }
}

/// Parses a JSON body, describing what is wrong in words a client developer
/// can act on (serde's messages, without the line/column noise for one-line
/// bodies).
///
/// The body must be a JSON object: serde would otherwise read a struct from
/// an array (`["alice","secret"]` as `{username, password}`), a shape no
/// client is meant to send (PROTOCOL.md § Limits).
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(Error::InvalidInput(
            "The request body must be a JSON object".into(),
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Data => "Invalid request body",
            _ => "Malformed JSON",
        };
        let text = e.to_string();
        let text = text.split(" at line ").next().unwrap_or(&text);
        Error::InvalidInput(format!("{what}: {text}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::{Body, to_bytes};
    use axum::response::IntoResponse;
    use axum::routing::post;
    use serde::Deserialize;
    use tower::ServiceExt;

    #[derive(Deserialize)]
    struct Creds {
        #[allow(dead_code)]
        username: String,
    }

    async fn call(
        body: &'static str,
        content_type: Option<&str>,
    ) -> (StatusCode, serde_json::Value) {
        async fn handler(Json(_): Json<Creds>) -> impl IntoResponse {
            StatusCode::NO_CONTENT
        }
        let app = Router::new().route("/", post(handler));
        let mut req = Request::post("/");
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let res = app
            .oneshot(req.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let bytes = to_bytes(res.into_body(), 1 << 20).await.unwrap();
        let json = if bytes.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        (status, json)
    }

    #[tokio::test]
    async fn malformed_json_is_a_400_with_an_error_field() {
        let (status, body) = call("{\"username\":", Some("application/json")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let text = body["error"].as_str().unwrap();
        assert!(text.starts_with("Malformed JSON"), "{text}");
        assert_eq!(body.as_object().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn missing_fields_and_wrong_types_are_400s_naming_the_field() {
        let (status, body) = call("{}", Some("application/json")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body["error"].as_str().unwrap().contains("username"));
        let (status, body) = call("{\"username\": 7}", Some("application/json")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .starts_with("Invalid request body")
        );
        let (status, _) = call("", None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }

    #[tokio::test]
    async fn only_an_object_is_a_body() {
        for body in [
            r#"["alice"]"#,
            "\"alice\"",
            "7",
            "null",
            " [{\"username\":\"a\"}]",
        ] {
            let (status, json) = call(body, Some("application/json")).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(json["error"], "The request body must be a JSON object");
        }
        let (status, _) = call(" \n{\"username\":\"alice\"}", None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }

    #[tokio::test]
    async fn a_body_without_content_type_is_still_read() {
        let (status, _) = call("{\"username\":\"alice\"}", None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
}
