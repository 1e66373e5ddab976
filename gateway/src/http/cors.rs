//! CORS for the whole app, Socket.IO polling included: the `CLIENT_URL`
//! origin(s) when set (comma-separated), else any origin. Requests from
//! other origins never get this far: [`super::origin`] refuses them.

use axum::http::{HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, Any, CorsLayer};

use crate::error::Error;

pub fn layer(origins: Option<&[String]>) -> Result<CorsLayer, Error> {
    let Some(origins) = origins else {
        return Ok(CorsLayer::new()
            .allow_origin(Any)
            .allow_methods(Any)
            .allow_headers(Any)
            .expose_headers(Any));
    };
    let origins = origins
        .iter()
        .map(|o| {
            HeaderValue::from_str(o)
                .map_err(|_| Error::Config(format!("CLIENT_URL has an invalid origin {o:?}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    // A named origin may send cookies (Socket.IO's `withCredentials`),
    // which rules out wildcards for methods and headers.
    Ok(CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_credentials(true)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .expose_headers([
            header::CONTENT_DISPOSITION,
            header::HeaderName::from_static("x-request-id"),
        ]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::http::Request;
    use axum::routing::get;
    use tower::ServiceExt;

    async fn allowed(origins: Option<&[&str]>, origin: &str) -> Option<String> {
        let origins: Option<Vec<String>> =
            origins.map(|l| l.iter().map(|o| o.to_string()).collect());
        let app = Router::new()
            .route("/", get(|| async { "hi" }))
            .layer(layer(origins.as_deref()).unwrap());
        let req = Request::get("/")
            .header("origin", origin)
            .body(Body::empty())
            .unwrap();
        let res = app.oneshot(req).await.unwrap();
        res.headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .map(|v| v.to_str().unwrap().to_string())
    }

    #[tokio::test]
    async fn any_origin_unless_client_url_is_set() {
        assert_eq!(allowed(None, "http://x.test").await.as_deref(), Some("*"));
        let only: Option<&[&str]> = Some(&["http://app.test", "http://other.test"]);
        assert_eq!(
            allowed(only, "http://other.test").await.as_deref(),
            Some("http://other.test")
        );
        assert_eq!(allowed(only, "http://evil.test").await, None);
        assert!(layer(Some(&["bad\norigin".to_string()])).is_err());
    }
}
