use chat_gateway::{Config, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    chat_common::telemetry::init();
    chat_common::memory::return_large_blocks_to_the_system();
    let config = Config::from_env()?;
    let listener = chat_gateway::bind(config.listen_addr)?;
    chat_gateway::serve(config, listener, chat_common::shutdown_signal()).await
}
