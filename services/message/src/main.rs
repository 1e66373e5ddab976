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
    chat_message::serve(config, listener, chat_common::shutdown_signal()).await
}
