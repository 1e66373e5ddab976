//! `chat-auth`: the auth gRPC service as its own process.

use chat_auth::{Config, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    chat_common::telemetry::init();
    chat_common::memory::return_large_blocks_to_the_system();
    let config = Config::from_env()?;
    let listener = tokio::net::TcpListener::bind(config.listen_addr).await?;
    chat_auth::serve(config, listener, shutdown_signal()).await
}

/// Ctrl-C or SIGTERM (what container runtimes send).
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutting down");
}
