//! `chat-media`: the media gRPC service on `MEDIA_GRPC_ADDR`.

use chat_media::{Config, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    chat_common::telemetry::init();
    let config = Config::from_env()?;
    let listener = tokio::net::TcpListener::bind(config.listen_addr).await?;
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    };
    chat_media::serve(config, listener, shutdown).await
}
