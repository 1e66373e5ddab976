//! `chat`: the whole system in one process (see the `chat_standalone` lib).

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    chat_common::telemetry::init();
    chat_common::memory::return_large_blocks_to_the_system();
    match chat_standalone::run(chat_common::shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "chat stopped");
            ExitCode::FAILURE
        }
    }
}
