//! HTTP API (PROTOCOL.md § HTTP) and the static web app.

mod auth;
mod bearer;
mod cors;
#[cfg(test)]
mod fuzz;
mod headers;
mod health;
pub(crate) mod json;
mod media;
mod metrics;
pub(crate) mod origin;
mod sessions;
pub mod socket_request;
mod trace;
mod upload;
mod user;
mod web;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};

use tower::ServiceBuilder;

use crate::config::Config;
use crate::drain::Drain;
use crate::error::Error;
use crate::state::AppState;

pub use bearer::Bearer;
pub use json::Json;
pub use user::{PublicBase, UserView};

/// Multipart framing and any small extra fields around the file.
const MULTIPART_SLACK: u64 = 1024 * 1024;

/// The API routes, with the web app (when `WEB_DIR` is set) as fallback.
pub fn router(state: AppState) -> Router {
    // A refused upload is read to its end before it is answered, up to
    // DRAIN_FACTOR times the limit (see `upload`); the file itself is
    // held to the limit while it streams.
    let upload_limit = state
        .config
        .limits
        .max_upload_bytes
        .saturating_mul(upload::DRAIN_FACTOR)
        .saturating_add(MULTIPART_SLACK);
    let upload_limit = usize::try_from(upload_limit).unwrap_or(usize::MAX);
    let api = Router::new()
        .route("/register", post(auth::register))
        .route("/login", post(auth::login))
        .route("/refresh", post(auth::refresh))
        .route("/logout", post(auth::logout))
        .route("/me", get(auth::me))
        .route("/password", post(sessions::change_password))
        .route("/sessions", get(sessions::list))
        .route("/sessions/{id}", delete(sessions::end))
        .route(
            "/upload",
            post(upload::upload).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/media/{id}", get(media::download))
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(metrics::render))
        .route_layer(axum::middleware::from_fn(metrics::track))
        .layer(DefaultBodyLimit::max(
            state.config.limits.max_json_body_bytes,
        ));
    web::with_fallbacks(api, state.config.web_dir.as_deref()).with_state(state)
}

/// The layers that wrap the whole app, Socket.IO included, outermost
/// first: new sessions refused while draining ([`crate::drain`]); the
/// security headers (on refusals as well); the origin
/// allowlist (outside CORS, so a foreign preflight is refused too); CORS;
/// request ids and the request span.
///
/// One tower stack around the app as a whole, not `Router::layer` once per
/// layer: axum boxes each `Router::layer` level of every route, and clones
/// the matched route's boxes for every request (10k instructions a
/// handshake; bench/README.md, *Handshake cost*).
pub fn around(app: Router, config: &Config, drain: Arc<Drain>) -> Result<Router, Error> {
    metrics::install();
    let origins = config.client_origins.as_deref();
    let stack = ServiceBuilder::new()
        .layer(axum::middleware::from_fn_with_state(
            drain,
            crate::drain::refuse_new_sessions,
        ))
        .layer(headers::layers(config.public_url.as_deref()))
        .layer(axum::middleware::from_fn_with_state(
            origin::allowed(origins),
            origin::check,
        ))
        .layer(cors::layer(origins)?)
        // CORS needs a response body with a `Default`; the trace layer's
        // is its own wrapper, so it is turned back into axum's here.
        .map_response(IntoResponse::into_response)
        .layer(trace::layers())
        .service(app);
    Ok(Router::new().fallback_service(stack))
}
