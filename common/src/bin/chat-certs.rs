//! `chat-certs <dir> [extra server name…]`: writes a private CA certificate
//! and the services' server and platform client certificates into `<dir>`
//! (ca.pem, server.pem/.key, client.pem/.key), then prints the variables
//! that point at them. The CA's key is not kept: to add a name, run it again
//! and restart everything with the new files.

use std::path::PathBuf;
use std::process::ExitCode;

use chat_common::certs;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next().map(PathBuf::from) else {
        eprintln!("usage: chat-certs <dir> [extra server name or IP …]");
        return ExitCode::from(2);
    };
    let names: Vec<String> = certs::DEFAULT_SERVER_NAMES
        .iter()
        .map(|s| s.to_string())
        .chain(args)
        .collect();
    let set = match certs::generate(&names) {
        Ok(set) => set,
        Err(e) => {
            eprintln!("chat-certs: cannot make the certificates: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = certs::write(&set, &dir) {
        eprintln!("chat-certs: cannot write into {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    let abs = std::fs::canonicalize(&dir).unwrap_or(dir);
    for (var, file) in certs::FILES {
        println!("{var}={}", abs.join(file).display());
    }
    ExitCode::SUCCESS
}
