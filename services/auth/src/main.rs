//! `chat-auth`: the auth gRPC service as its own process; `chat-auth
//! rotate-signing-key` rotates the token-signing key in the configured store
//! (running services pick it up without a restart) and prints the new `kid`.

use chat_auth::{Config, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    chat_common::telemetry::init();
    chat_common::memory::return_large_blocks_to_the_system();
    let config = Config::from_env()?;
    match std::env::args().nth(1).as_deref() {
        None | Some("serve") => {}
        Some("rotate-signing-key") => {
            let kid = chat_auth::rotate_signing_key(&config).await?;
            println!("{kid}");
            return Ok(());
        }
        Some(other) => {
            return Err(Error::Config(format!(
                "unknown command {other:?}; use `chat-auth` (serve) or `chat-auth rotate-signing-key`"
            )));
        }
    }
    let listener = tokio::net::TcpListener::bind(config.listen_addr).await?;
    chat_auth::serve(config, listener, chat_common::shutdown_signal()).await
}
