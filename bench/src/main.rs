//! `chat-bench`: see the `chat_bench` library and bench/README.md.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = chat_bench::cli::Args::parse();
    match chat_bench::main(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("chat-bench: {e}");
            ExitCode::from(2)
        }
    }
}
