//! Starting, watching and stopping the server under test.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use crate::cli::{Args, SystemKind};
use crate::error::Error;

/// Rate limit given to our server for the bench: the reference has no
/// limiter, and the scenarios send far faster per user than a person would.
pub const BENCH_RATE_LIMIT: &str = "1000000";
/// A day: longer than any run of the bench.
pub const BENCH_TOKEN_TTL_SECS: &str = "86400";

/// A server process this bench started; killed on drop.
pub struct Server {
    pub kind: SystemKind,
    pub addr: SocketAddr,
    pub pid: u32,
    pub log: PathBuf,
    child: Child,
    _dir: tempfile::TempDir,
}

/// Our binary: the one given, else release, else debug.
pub fn chat_binary(args: &Args) -> Result<PathBuf, Error> {
    if let Some(bin) = &args.chat_bin {
        return Ok(bin.clone());
    }
    let target =
        std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "/var/tmp/chat-target".into());
    ["release", "debug"]
        .iter()
        .map(|profile| Path::new(&target).join(profile).join("chat"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            Error::Usage(format!(
                "no chat binary under {target}/{{release,debug}}; build it or pass --chat-bin"
            ))
        })
}

impl Server {
    pub async fn start(kind: SystemKind, args: &Args) -> Result<Server, Error> {
        let dir = tempfile::Builder::new().prefix("chat-bench-").tempdir()?;
        let port = free_port()?;
        let log = dir.path().join("server.log");
        let (program, mut argv, cwd) = match kind {
            SystemKind::Ours => (chat_binary(args)?, vec![], None),
            SystemKind::Reference => (
                PathBuf::from("node"),
                vec![args.reference_dir.join("server.js").into_os_string()],
                Some(args.reference_dir.clone()),
            ),
        };
        let mut cmd = match &args.pin_server {
            Some(cpus) => {
                let mut c = Command::new("taskset");
                c.arg("-c").arg(cpus).arg(&program);
                c
            }
            None => Command::new(&program),
        };
        cmd.args(argv.drain(..))
            .env("PORT", port.to_string())
            // Users register once per system; their access tokens must
            // outlive the longest scenario (the soak's 20 minutes is more
            // than both systems' default 15-minute token), or handshakes
            // past expiry are refused and counted as the server's errors.
            .env("ACCESS_TOKEN_TTL_SECS", BENCH_TOKEN_TTL_SECS)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log)?)
            .stderr(std::fs::File::create(dir.path().join("server.err"))?)
            .kill_on_drop(true);
        if let Some(cwd) = cwd {
            cmd.current_dir(cwd);
        }
        if kind == SystemKind::Ours {
            let data = dir.path().join("data");
            cmd.env("HOST", "127.0.0.1")
                .env("DATA_DIR", &data)
                .env("RATE_MESSAGES_PER_SEC", BENCH_RATE_LIMIT)
                .env("RATE_MESSAGES_BURST", BENCH_RATE_LIMIT)
                .env(
                    "RUST_LOG",
                    std::env::var("BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".into()),
                )
                .env_remove("WEB_DIR")
                .env_remove("REDIS_URL")
                .env_remove("MONGO_URI");
        }
        let child = cmd
            .spawn()
            .map_err(|e| Error::Server(format!("cannot start {}: {e}", program.display())))?;
        let pid = child
            .id()
            .ok_or_else(|| Error::Server(format!("{} exited at once", program.display())))?;
        let mut server = Server {
            kind,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            pid,
            log,
            child,
            _dir: dir,
        };
        server.wait_healthy().await?;
        Ok(server)
    }

    async fn wait_healthy(&mut self) -> Result<(), Error> {
        let client = reqwest::Client::new();
        let url = format!("http://{}/healthz", self.addr);
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                return Err(Error::Server(format!(
                    "{} exited ({status}) before answering /healthz; see {}",
                    self.kind.name(),
                    self._dir.path().display()
                )));
            }
            if let Ok(resp) = client.get(&url).send().await
                && resp.status().is_success()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(Error::Server(format!(
            "{} did not become healthy in 60 s",
            self.kind.name()
        )))
    }

    /// Resident memory of the server process, in KiB.
    pub fn rss_kib(&self) -> Result<u64, Error> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))?;
        parse_vm_rss(&status).ok_or_else(|| Error::Server("no VmRSS in /proc status".into()))
    }

    /// CPU time (user + system) the server has used so far, in seconds.
    pub fn cpu_secs(&self) -> Result<f64, Error> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid))?;
        parse_cpu_ticks(&stat)
            .map(|ticks| ticks as f64 / 100.0)
            .ok_or_else(|| Error::Server("unreadable /proc stat".into()))
    }

    /// SIGTERM (so a profiler wrapping the server can write its report),
    /// then SIGKILL after a grace period.
    pub async fn stop(mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
        if tokio::time::timeout(Duration::from_secs(15), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.start_kill();
            let _ = self.child.wait().await;
        }
    }
}

fn free_port() -> Result<u16, Error> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// utime + stime (fields 14 and 15) in clock ticks; the command name in
/// field 2 may hold spaces, so count from its closing parenthesis.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_resident_memory() {
        let status = "Name:\tchat\nVmPeak:\t  999 kB\nVmRSS:\t   12345 kB\nThreads:\t3\n";
        assert_eq!(parse_vm_rss(status), Some(12345));
        assert_eq!(parse_vm_rss("Name:\tx\n"), None);
    }

    #[test]
    fn reads_cpu_ticks_past_a_name_with_spaces() {
        let stat = "42 (my proc) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 1 1 1";
        assert_eq!(parse_cpu_ticks(stat), Some(300));
    }

    #[test]
    fn reads_this_process() {
        let own = std::fs::read_to_string("/proc/self/status").unwrap();
        assert!(parse_vm_rss(&own).unwrap() > 0);
    }
}
