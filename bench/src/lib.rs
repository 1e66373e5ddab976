//! Load generator comparing our chat server with the tutorial's Node.js
//! stack (bench/reference): starts each system, registers users, runs the
//! idle / storm / fan-out / ramp scenarios over a lean Socket.IO client
//! ([`sio`]), then prints ours ÷ reference and writes JSON and an SVG chart.

pub mod callgrind;
pub mod chart;
pub mod cli;
pub mod dial;
pub mod error;
pub mod member;
pub mod ports;
pub mod progress;
pub mod report;
pub mod run;
pub mod scenario;
pub mod sio;
pub mod soak_chart;
pub mod stats;
pub mod system;
pub mod users;
pub mod verify;

use cli::Args;
use error::Error;

/// Sets up the process (open-file limit, runtime) and runs the bench.
/// `Ok(false)` means it ran but found a failure (a lost message, a dropped
/// connection, or a missed target with `--require-targets`).
pub fn main(args: Args) -> Result<bool, Error> {
    // 15,000 client sockets in this process: lift the soft limit to the hard one.
    let limit = rlimit::increase_nofile_limit(u64::MAX)?;
    if let Some(cpus) = &args.pin_bench {
        // Before the runtime exists, so every thread it starts inherits it.
        let status = std::process::Command::new("taskset")
            .args(["-a", "-p", "-c", cpus, &std::process::id().to_string()])
            .stdout(std::process::Stdio::null())
            .status()?;
        if !status.success() {
            return Err(Error::Usage(format!(
                "taskset could not pin the bench to CPUs {cpus}"
            )));
        }
    }
    let runtime = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()?
    };
    // On Ctrl-C or SIGTERM, dropping the run drops the servers it started,
    // which kills them (kill_on_drop) instead of leaving them behind.
    runtime.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            result = run::all(args, limit) => result,
            _ = tokio::signal::ctrl_c() => Err(Error::Usage("interrupted".into())),
            _ = term.recv() => Err(Error::Usage("terminated".into())),
        }
    })
}
