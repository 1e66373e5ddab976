//! The gateway: the only component clients talk to. It serves the HTTP API
//! and the web app (axum), speaks Socket.IO on `/`, `/chat` and
//! `/notifications` (socketioxide), verifies access tokens with the auth
//! service's public key, and delegates every piece of business to the
//! services over gRPC. Apart from its sockets it holds no state.

pub mod avatars;
pub mod clients;
pub mod config;
pub mod error;
pub mod health;
pub mod http;
pub mod revocations;
pub mod session_sync;
pub mod socket;
pub mod state;
pub mod token;

use axum::serve::ListenerExt;
use std::future::Future;
use tokio::net::TcpListener;

pub use config::Config;
pub use error::Error;
pub use state::AppState;

/// Serves the gateway on `listener` until `shutdown` resolves.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let state = AppState::new(config)?;
    {
        let state = state.clone();
        tokio::spawn(async move {
            match state.verifier.load(&state.clients).await {
                Ok(()) => session_sync::spawn(state),
                Err(e) => tracing::error!(error = %e, "could not load the auth public keys"),
            }
        });
    }
    // Socket.IO wraps the HTTP router as a layer; the adapter (in-memory or
    // Redis) is chosen inside `socket::attach`. CORS, request ids and
    // tracing go around both so Socket.IO polling gets them too.
    let app = socket::attach(state.clone(), http::router(state.clone())).await?;
    let app = http::around(app, &state.config)?;
    tracing::info!(addr = %listener.local_addr()?, "gateway listening");
    // Acks and broadcasts are small writes: without TCP_NODELAY, Nagle's
    // algorithm holds them back behind delayed ACKs (tens of ms at p99).
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}
