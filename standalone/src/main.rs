//! `chat`: the whole system in one process (see the `chat_standalone` lib).

use std::process::ExitCode;
use std::time::Duration;

/// Once every component stopped, how long leftover blocking work (a file
/// operation an abandoned request started) may delay the exit: without a
/// bound, dropping the runtime waits for it, past `SHUTDOWN_GRACE_SECS`.
const LEFTOVERS: Duration = Duration::from_millis(500);

fn main() -> ExitCode {
    chat_common::telemetry::init();
    chat_common::memory::return_large_blocks_to_the_system();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the runtime");
            return ExitCode::FAILURE;
        }
    };
    let res = rt.block_on(chat_standalone::run(chat_common::shutdown_signal()));
    rt.shutdown_timeout(LEFTOVERS);
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "chat stopped");
            ExitCode::FAILURE
        }
    }
}
