//! `chat-message`: the message service as its own process.

use std::process::ExitCode;

use chat_message::{Config, Error};

#[tokio::main]
async fn main() -> ExitCode {
    chat_common::telemetry::init();
    chat_common::memory::return_large_blocks_to_the_system();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "chat-message stopped");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Error> {
    let config = Config::from_env()?;
    let listener = tokio::net::TcpListener::bind(config.listen_addr).await?;
    chat_message::serve(config, listener, shutdown_signal()).await
}

/// Ctrl-C or SIGTERM (what container runtimes send) starts a graceful stop.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
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
