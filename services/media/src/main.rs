//! `chat-media`: the media gRPC service on `MEDIA_GRPC_ADDR`.

use chat_media::{Config, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    chat_common::telemetry::init();
    chat_common::memory::return_large_blocks_to_the_system();
    let config = Config::from_env()?;
    let listener = tokio::net::TcpListener::bind(config.listen_addr).await?;
    chat_media::serve(config, listener, chat_common::shutdown_signal()).await
}
