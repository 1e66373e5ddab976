//! The origin allowlist (PROTOCOL.md § Browsers): with `CLIENT_URL` set, a
//! request whose `Origin` names any other origin is refused with `403`
//! before it reaches a handler or the Socket.IO layer — handshakes on both
//! transports included, which CORS alone never covers (a WebSocket upgrade
//! is not subject to CORS, and a "simple" POST is sent whatever CORS says).
//! Requests without an `Origin` (curl, native apps, Node clients) are
//! served: the header is what a browser adds, and a browser always adds it
//! to cross-origin requests and WebSocket handshakes.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::http::header::ORIGIN;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::Error;

/// The origins to check against, for [`check`]; `None` when every origin
/// is served, which a warning says.
pub fn allowed(origins: Option<&[String]>) -> Option<Arc<[String]>> {
    let Some(list) = origins else {
        tracing::warn!(
            "CLIENT_URL is not set: web pages on any origin may use this gateway \
             from their visitors' browsers; set it to the web app's origin(s)"
        );
        return None;
    };
    tracing::info!(origins = ?list, "browser requests accepted from these origins only");
    Some(list.into())
}

/// The middleware (`from_fn_with_state` over [`allowed`]'s answer).
pub async fn check(
    State(allowed): State<Option<Arc<[String]>>>,
    req: Request,
    next: Next,
) -> Response {
    if let Some(allowed) = allowed {
        let mut sent = req.headers().get_all(ORIGIN).iter();
        if !sent.all(|o| is_allowed(o, &allowed)) {
            return refuse(&req);
        }
    }
    next.run(req).await
}

/// Exact match, ignoring case (schemes and hosts are case-insensitive) and
/// a trailing slash. `null` (sandboxed frames, `file:`) is never listed.
pub fn is_allowed(origin: &HeaderValue, allowed: &[String]) -> bool {
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin = origin.trim().trim_end_matches('/');
    allowed.iter().any(|a| a.eq_ignore_ascii_case(origin))
}

fn refuse(req: &Request) -> Response {
    metrics::counter!("chat_http_foreign_origin_total").increment(1);
    tracing::debug!(
        path = req.uri().path(),
        origin = ?req.headers().get(ORIGIN),
        "request from a foreign origin refused"
    );
    Error::Forbidden("This origin may not use this server".into()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::http::StatusCode;
    use axum::routing::get;
    use tower::ServiceExt;

    async fn status(origins: Option<&[String]>, origin: Option<&str>) -> StatusCode {
        let app = Router::new().route("/", get(|| async { "hi" })).layer(
            axum::middleware::from_fn_with_state(allowed(origins), check),
        );
        let mut req = axum::http::Request::get("/");
        if let Some(o) = origin {
            req = req.header(ORIGIN, o);
        }
        app.oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap()
            .status()
    }

    #[tokio::test]
    async fn only_listed_origins_and_origin_less_requests_pass() {
        let list = [
            "https://app.test".to_string(),
            "http://localhost:3000".to_string(),
        ];
        let list = Some(&list[..]);
        assert_eq!(status(list, None).await, StatusCode::OK);
        assert_eq!(status(list, Some("https://app.test")).await, StatusCode::OK);
        assert_eq!(
            status(list, Some("HTTPS://APP.test/")).await,
            StatusCode::OK
        );
        assert_eq!(
            status(list, Some("http://localhost:3000")).await,
            StatusCode::OK
        );
        for foreign in [
            "https://evil.test",
            "http://app.test",
            "https://app.test:444",
            "https://app.test.evil.test",
            "null",
            "",
        ] {
            assert_eq!(
                status(list, Some(foreign)).await,
                StatusCode::FORBIDDEN,
                "{foreign}"
            );
        }
        assert_eq!(
            status(None, Some("https://evil.test")).await,
            StatusCode::OK
        );
    }
}
