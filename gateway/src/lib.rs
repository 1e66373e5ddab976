//! The gateway: the only component clients talk to. It serves the HTTP API
//! and the web app (axum), speaks Socket.IO on `/`, `/chat` and
//! `/notifications` (socketioxide), verifies access tokens with the auth
//! service's public key, and delegates every piece of business to the
//! services over gRPC. Apart from its sockets it holds no state.

pub mod avatars;
pub mod clients;
pub mod config;
pub mod drain;
pub mod error;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub mod health;
pub mod http;
pub mod posts;
pub mod revocations;
pub mod session_sync;
pub mod socket;
pub mod state;
pub mod token;

use axum::serve::ListenerExt;
use std::future::{Future, IntoFuture};
use tokio::net::TcpListener;

pub use config::Config;
pub use error::Error;
pub use state::AppState;

/// Connections the kernel may hold for the gateway before it accepts them
/// (capped by `net.core.somaxconn`). `TcpListener::bind` uses 128, the
/// standard library's value: in a connection storm the queue filled, the
/// kernel dropped SYNs, and clients retried after 1 s and 3 s — the storm's
/// handshake p99 of 3.2 s. Node listens with 511.
pub const ACCEPT_BACKLOG: u32 = 4096;

/// Binds the gateway's listener with [`ACCEPT_BACKLOG`].
pub fn bind(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    // As TcpListener::bind does: a restarted gateway rebinds at once.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(ACCEPT_BACKLOG)
}

/// Serves the gateway on `listener` until `shutdown` resolves, then stops
/// gracefully within `SHUTDOWN_GRACE_SECS` (see [`stop`]).
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let clients = clients::Clients::new(&config)?;
    serve_with(config, clients, listener, shutdown).await
}

/// [`serve`], calling the services through `clients` (the one-process
/// `chat` hands in-process ones).
pub async fn serve_with(
    config: Config,
    clients: clients::Clients,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let state = AppState::with_clients(config, clients);
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
    let (app, sockets) = socket::attach(state.clone(), http::router(state.clone())).await?;
    let app = http::around(app, &state.config, state.drain.clone())?;
    tracing::info!(addr = %listener.local_addr()?, "gateway listening");
    // Acks and broadcasts are small writes: without TCP_NODELAY, Nagle's
    // algorithm holds them back behind delayed ACKs (tens of ms at p99).
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
    });
    let (stop_http, http_stopped) = tokio::sync::oneshot::channel::<()>();
    // `into_make_service`: each connection gets a handle on this router (one
    // reference count). Served as a bare `Router`, axum rebuilds the router
    // for every connection, cloning every route's layered service: 85k
    // instructions a handshake (callgrind, `chat-bench --scenarios storm`).
    let mut server = tokio::spawn(
        axum::serve(listener, app.into_make_service())
            .with_graceful_shutdown(async move {
                let _ = http_stopped.await;
            })
            .into_future(),
    );
    tokio::select! {
        res = &mut server => return res.map_err(|e| Error::Io(std::io::Error::other(e)))?.map_err(Error::from),
        () = shutdown => {}
    }
    let deadline = tokio::time::Instant::now() + state.config.shutdown_grace;
    stop(&state, &sockets, deadline).await;
    let _ = stop_http.send(());
    match tokio::time::timeout_at(deadline, &mut server).await {
        Ok(Ok(res)) => res?,
        Ok(Err(e)) => return Err(Error::Io(std::io::Error::other(e))),
        Err(_) => {
            tracing::warn!(grace = ?state.config.shutdown_grace, "HTTP requests still open after the grace period; cutting them off");
            server.abort();
        }
    }
    tracing::info!("gateway stopped");
    Ok(())
}

/// The graceful stop, every step bounded by `deadline`: leave the load
/// balancer's rotation and refuse new sessions and events (`/healthz` 503
/// `draining`), let the events in flight finish and send their acks, then
/// disconnect every socket from the server side (clients hear `io server
/// disconnect` and reconnect elsewhere) and announce their departures.
async fn stop(state: &AppState, sockets: &socket::Sockets, deadline: tokio::time::Instant) {
    state.drain.start();
    tracing::info!(
        in_flight = state.drain.in_flight(),
        "draining: no new sessions or events; finishing the events in flight"
    );
    if tokio::time::timeout_at(deadline, state.drain.idle())
        .await
        .is_err()
    {
        tracing::warn!(
            in_flight = state.drain.in_flight(),
            "events still running at the end of the grace period"
        );
    }
    // Disconnecting leaves a few seconds of the grace, if it can, for the
    // DISCONNECT packets to reach their clients and departures to be told.
    let flushed = async {
        sockets.disconnect_all().await;
        state.drain.departed().await;
        // A polling client fetches its DISCONNECT packet with its next
        // request; a websocket one has it already.
        tokio::time::sleep(FLUSH).await;
    };
    if tokio::time::timeout_at(deadline, flushed).await.is_err() {
        tracing::warn!("sockets still closing at the end of the grace period");
    }
    let _ = tokio::time::timeout_at(deadline, sockets.close()).await;
}

/// How long the disconnect packets get to leave before the transports
/// close.
const FLUSH: std::time::Duration = std::time::Duration::from_millis(300);

#[cfg(test)]
mod listener_tests {
    use std::time::Duration;

    /// With the standard backlog of 128 the kernel drops the SYNs past it
    /// while nothing accepts, and those connects hang for a second or more.
    #[tokio::test]
    async fn a_burst_of_connections_waits_in_the_accept_queue_not_in_syn_retries() {
        let listener = super::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let mut held = Vec::new();
        for i in 0..600 {
            let tcp = tokio::time::timeout(
                Duration::from_millis(500),
                tokio::net::TcpStream::connect(addr),
            )
            .await
            .unwrap_or_else(|_| panic!("connect {i} waited for a SYN retry"))
            .unwrap();
            held.push(tcp);
        }
        drop(listener);
    }
}
