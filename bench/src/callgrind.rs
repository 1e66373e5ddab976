//! Instruction counts that repeat from run to run (`--callgrind`): our
//! processes run under valgrind's callgrind with instrumentation off, which
//! is switched on only for the measured windows: the fan-out's (after
//! connecting and joining, until the last delivery is drained) and the
//! storm's (its handshakes), so start-up and registration are not counted.
//! Wall-clock figures move by tens of percent on a shared 2-core machine;
//! these move by well under one, so a change that costs instructions shows
//! in review.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::error::Error;

/// The command line that runs a program under callgrind, dumping into
/// `dir`: put it before the program and its arguments.
pub fn prefix(dir: &Path) -> Vec<OsString> {
    vec![
        "valgrind".into(),
        "--tool=callgrind".into(),
        "--instr-atstart=no".into(),
        format!("--callgrind-out-file={}/callgrind.out.%p", dir.display()).into(),
    ]
}

fn control(args: &[&str], pid: u32) -> Result<(), Error> {
    let status = Command::new("callgrind_control")
        // vgdb names its pipes after $HOST, which our processes get set (the
        // address they listen on): the same value here, or they are not found.
        .env("HOST", crate::system::OUR_HOST)
        .args(args)
        .arg(pid.to_string())
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|e| Error::Usage(format!("callgrind_control: {e} (apt-get install valgrind)")))?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::Server(format!(
            "callgrind_control {args:?} {pid} failed"
        )))
    }
}

/// Zeroes the counters and starts counting in each process.
pub fn start(pids: &[u32]) -> Result<(), Error> {
    for &pid in pids {
        control(&["--instr=on"], pid)?;
        control(&["--zero"], pid)?;
    }
    Ok(())
}

/// Dumps each process's counters and stops counting; the sum of the
/// instructions executed since [`start`].
pub fn stop(pids: &[u32], dir: &Path) -> Result<u64, Error> {
    let mut total = 0;
    for &pid in pids {
        let before = dumps(dir, pid)?.len();
        control(&["--dump"], pid)?;
        let deadline = Instant::now() + Duration::from_secs(60);
        let dump = loop {
            let files = dumps(dir, pid)?;
            if files.len() > before
                && let Some(ir) = files.iter().rev().find_map(|f| totals(f))
            {
                break ir;
            }
            if Instant::now() > deadline {
                return Err(Error::Server(format!(
                    "no callgrind dump from {pid} in {}",
                    dir.display()
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        control(&["--instr=off"], pid)?;
        total += dump;
    }
    Ok(total)
}

/// The dump files of `pid`, oldest first.
fn dumps(dir: &Path, pid: u32) -> Result<Vec<PathBuf>, Error> {
    let prefix = format!("callgrind.out.{pid}.");
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    files.sort();
    Ok(files.into_iter().map(|(_, p)| p).collect())
}

/// The `totals:` (or `summary:`) line of a complete dump: instructions.
fn totals(file: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(file).ok()?;
    parse_totals(&text)
}

fn parse_totals(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| {
            l.strip_prefix("totals:")
                .or_else(|| l.strip_prefix("summary:"))
        })
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_instruction_total_of_a_dump() {
        let dump = "version: 1\ncreator: callgrind-3.19.0\nevents: Ir\nfn=(1) main\n3 10\n\ntotals: 123456789\n";
        assert_eq!(parse_totals(dump), Some(123_456_789));
        assert_eq!(parse_totals("summary: 42\n"), Some(42));
        assert_eq!(parse_totals("events: Ir\n"), None);
    }
}
