//! What answers when no API route matches: the static web app (when
//! `WEB_DIR` is set) with its single-page-app fallback to `index.html`, and
//! otherwise JSON errors, so every API error body is `{"error": TEXT}`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use crate::error::Error;
use crate::state::AppState;

pub fn with_fallbacks(api: Router<AppState>, web_dir: Option<&Path>) -> Router<AppState> {
    let Some(dir) = web_dir else {
        return api
            .fallback(not_found)
            .method_not_allowed_fallback(method_not_allowed);
    };
    let dir = Arc::new(dir.to_path_buf());
    let web = dir.clone();
    // A browser that reloads on a client-side route such as `/login` gets
    // the app, even where an API route of that name takes POST only.
    let spa_on_get = move |req: Request| {
        let dir = dir.clone();
        async move {
            if is_read(req.method()) {
                serve(&dir, req).await
            } else {
                method_not_allowed().await
            }
        }
    };
    api.fallback(move |req: Request| {
        let dir = web.clone();
        async move {
            if is_read(req.method()) {
                serve(&dir, req).await
            } else {
                not_found().await
            }
        }
    })
    .method_not_allowed_fallback(spa_on_get)
}

fn is_read(method: &Method) -> bool {
    method == Method::GET || method == Method::HEAD
}

/// A file of the app; a path that looks like a file (`/x/app.js`) and is
/// missing is a JSON 404, any other path is a client-side route and gets
/// `index.html`.
async fn serve(dir: &PathBuf, req: Request) -> Response {
    let looks_like_file = req
        .uri()
        .path()
        .rsplit('/')
        .next()
        .is_some_and(|segment| segment.contains('.'));
    let files = ServeDir::new(dir).append_index_html_on_directories(true);
    let res = if looks_like_file {
        files.oneshot(req).await
    } else {
        files
            .fallback(ServeFile::new(dir.join("index.html")))
            .oneshot(req)
            .await
    };
    match res {
        Ok(res) if res.status() == StatusCode::NOT_FOUND => not_found().await,
        Ok(res) => res.into_response(),
        Err(never) => match never {},
    }
}

async fn not_found() -> Response {
    Error::NotFound("Not found".into()).into_response()
}

async fn method_not_allowed() -> Response {
    let body = axum::Json(serde_json::json!({ "error": "Method not allowed" }));
    (StatusCode::METHOD_NOT_ALLOWED, body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use axum::body::{Body, to_bytes};
    use axum::routing::post;

    async fn get(app: &Router, method: Method, path: &str) -> (StatusCode, String) {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .body(Body::empty())
            .unwrap();
        let res = app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let body = to_bytes(res.into_body(), 1 << 20).await.unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    fn app(web_dir: Option<&Path>) -> Router {
        let state = AppState::new(Config::from_lookup(|_| None).unwrap()).unwrap();
        let api = Router::new().route("/login", post(|| async { "api" }));
        with_fallbacks(api, web_dir).with_state(state)
    }

    #[tokio::test]
    async fn without_a_web_dir_unknown_routes_are_json_errors() {
        let app = app(None);
        assert_eq!(
            get(&app, Method::GET, "/nope").await,
            (StatusCode::NOT_FOUND, r#"{"error":"Not found"}"#.into())
        );
        assert_eq!(
            get(&app, Method::GET, "/login").await,
            (
                StatusCode::METHOD_NOT_ALLOWED,
                r#"{"error":"Method not allowed"}"#.into()
            )
        );
    }

    #[tokio::test]
    async fn the_web_app_is_served_with_an_spa_fallback_and_api_precedence() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "<html>app</html>").unwrap();
        std::fs::write(dir.path().join("app.js"), "js()").unwrap();
        let app = app(Some(dir.path()));
        assert_eq!(
            get(&app, Method::GET, "/").await,
            (StatusCode::OK, "<html>app</html>".into())
        );
        assert_eq!(
            get(&app, Method::GET, "/app.js").await,
            (StatusCode::OK, "js()".into())
        );
        assert_eq!(
            get(&app, Method::GET, "/rooms/general").await,
            (StatusCode::OK, "<html>app</html>".into())
        );
        assert_eq!(
            get(&app, Method::GET, "/login").await,
            (StatusCode::OK, "<html>app</html>".into())
        );
        assert_eq!(
            get(&app, Method::POST, "/login").await,
            (StatusCode::OK, "api".into())
        );
        assert_eq!(
            get(&app, Method::GET, "/missing.js").await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            get(&app, Method::POST, "/nope").await.0,
            StatusCode::NOT_FOUND
        );
    }
}
