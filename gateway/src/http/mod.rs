//! HTTP API (PROTOCOL.md § HTTP) and the static web app.

use axum::Router;

use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    Router::new().with_state(state)
}
