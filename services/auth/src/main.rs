//! `chat-auth`: the auth gRPC service as its own process.

use chat_auth::{Config, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    chat_common::telemetry::init();
    chat_common::memory::return_large_blocks_to_the_system();
    let config = Config::from_env()?;
    let listener = tokio::net::TcpListener::bind(config.listen_addr).await?;
    chat_auth::serve(config, listener, chat_common::shutdown_signal()).await
}
