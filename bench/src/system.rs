//! Starting, watching and stopping the server under test.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use crate::cli::{Args, SystemKind};
use crate::error::Error;
use crate::ports::free_port;

/// The rate limits raised for the bench (the per-user sending rate and the
/// per-socket event budget): the reference has no limiter, and the
/// scenarios send far faster per user and per socket than a person would.
/// With the default budget (50 events/s a socket), the ramp's 200 sockets
/// were refused past 10,000 sends/s, which the bench showed as our server
/// not keeping up.
const RAISED_LIMITS: [&str; 4] = [
    "RATE_MESSAGES_PER_SEC",
    "RATE_MESSAGES_BURST",
    "RATE_EVENTS_PER_SEC",
    "RATE_EVENTS_BURST",
];
const BENCH_RATE_LIMIT: &str = "1000000";

/// How the run's output and `results.json` name the limits raised.
pub fn raised_limits() -> String {
    format!("{} = {BENCH_RATE_LIMIT}", RAISED_LIMITS.join(" = "))
}

/// A day: longer than any run of the bench.
pub const BENCH_TOKEN_TTL_SECS: &str = "86400";

/// The system under test: its processes (one, or the four of the split
/// layout), killed on drop.
pub struct Server {
    pub kind: SystemKind,
    /// Where clients connect (the gateway).
    pub addr: SocketAddr,
    /// Where [`Server::stop`] keeps the processes' logs:
    /// `--out-dir/logs/<system>/`.
    pub logs: PathBuf,
    procs: Vec<Proc>,
    /// Where callgrind dumps go, when our processes run under it.
    callgrind: Option<PathBuf>,
    _dir: tempfile::TempDir,
}

struct Proc {
    name: &'static str,
    pid: u32,
    child: Child,
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

/// A binary of the split layout (`chat-auth`, …), beside `chat`.
fn sibling(args: &Args, name: &str) -> Result<PathBuf, Error> {
    let chat = chat_binary(args)?;
    let bin = chat.with_file_name(name);
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(Error::Usage(format!(
            "{} is missing: ours-distributed runs the binaries beside {}",
            bin.display(),
            chat.display()
        )))
    }
}

/// `chat-bench-floor`, built beside this binary.
fn floor_binary() -> Result<PathBuf, Error> {
    let bin = std::env::current_exe()?.with_file_name("chat-bench-floor");
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(Error::Usage(format!(
            "{} is missing: build it with `cargo build -p chat-bench`",
            bin.display()
        )))
    }
}

/// What our processes listen on (`HOST`).
pub const OUR_HOST: &str = "127.0.0.1";

/// The split layout as compose runs it, on loopback: each service its own
/// process, port and data directory, the platform's certificates made by
/// `chat-certs`, the gateway pointed at them (no Redis: one gateway).
const SERVICES: [(&str, &str, &str); 3] = [
    ("chat-auth", "AUTH_GRPC_ADDR", "AUTH_URL"),
    ("chat-message", "MESSAGE_GRPC_ADDR", "MESSAGE_URL"),
    ("chat-media", "MEDIA_GRPC_ADDR", "MEDIA_URL"),
];

impl Server {
    pub async fn start(kind: SystemKind, args: &Args) -> Result<Server, Error> {
        let dir = tempfile::Builder::new().prefix("chat-bench-").tempdir()?;
        let port = free_port()?;
        let log = dir.path().join("server.log");
        let mut server = Server {
            kind,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            logs: args.out_dir.join("logs").join(kind.name()),
            procs: Vec::new(),
            callgrind: None,
            _dir: dir,
        };
        let dir = server._dir.path().to_owned();
        if args.callgrind && kind != SystemKind::Reference {
            // Kept in the output directory for `callgrind_annotate`.
            let dumps = args.out_dir.join(format!("callgrind-{}", kind.name()));
            std::fs::create_dir_all(&dumps)?;
            server.callgrind = Some(std::path::absolute(dumps)?);
        }
        let callgrind = server.callgrind.clone();
        let command = |program: &Path| command(args, program, callgrind.as_deref());
        match kind {
            SystemKind::Ours => {
                let mut cmd = command(&chat_binary(args)?);
                ours_env(&mut cmd, &dir.join("data"));
                server.spawn("chat", cmd, &log, port)?;
            }
            SystemKind::OursDistributed => {
                let certs = platform_certs(args, &dir.join("certs"))?;
                let mut urls: Vec<(&str, String)> = Vec::new();
                for (bin, addr_var, url_var) in SERVICES {
                    let service_port = free_port()?;
                    let mut cmd = command(&sibling(args, bin)?);
                    ours_env(&mut cmd, &dir.join(bin));
                    cmd.env(addr_var, format!("127.0.0.1:{service_port}"))
                        .envs(certs.iter().map(|(k, v)| (k, v)))
                        .envs(urls.iter().map(|(k, v)| (k, v)));
                    server.spawn(bin, cmd, &dir.join(format!("{bin}.log")), port)?;
                    wait_listening(service_port, bin, server.start_wait()).await?;
                    urls.push((url_var, format!("http://127.0.0.1:{service_port}")));
                }
                let mut cmd = command(&sibling(args, "chat-gateway")?);
                ours_env(&mut cmd, &dir.join("gateway"));
                cmd.envs(certs.iter().map(|(k, v)| (k, v)))
                    .envs(urls.iter().map(|(k, v)| (k, v)));
                server.spawn("chat-gateway", cmd, &log, port)?;
            }
            SystemKind::Floor | SystemKind::FloorDistributed => {
                let floor = floor_binary()?;
                let mut cmd = command(&floor);
                // Unused by the floor, but vgdb names its pipes after it
                // (see `callgrind::control`).
                cmd.env("HOST", OUR_HOST);
                if kind == SystemKind::FloorDistributed {
                    let certs = platform_certs(args, &dir.join("certs"))?;
                    let echo_port = free_port()?;
                    let echo_addr = format!("127.0.0.1:{echo_port}");
                    let mut echo = command(&floor);
                    echo.args(["echo", &echo_addr])
                        .env("HOST", OUR_HOST)
                        .envs(certs.iter().map(|(k, v)| (k, v)));
                    if args.durable_floors {
                        echo.env("FLOOR_DB", dir.join("floor.db"));
                    }
                    server.spawn("chat-bench-floor echo", echo, &dir.join("echo.log"), port)?;
                    wait_listening(echo_port, "the floor's echo", server.start_wait()).await?;
                    cmd.env("FLOOR_HOP", format!("http://{echo_addr}"))
                        .envs(certs.iter().map(|(k, v)| (k, v)));
                } else if args.durable_floors {
                    cmd.env("FLOOR_DB", dir.join("floor.db"));
                }
                server.spawn("chat-bench-floor", cmd, &log, port)?;
            }
            SystemKind::Reference => {
                let mut cmd = command(Path::new("node"));
                cmd.arg(args.reference_dir.join("server.js"))
                    .current_dir(&args.reference_dir);
                server.spawn("node", cmd, &log, port)?;
            }
        }
        if let Err(e) = server.wait_healthy().await {
            let logs = server.logs.clone();
            server.stop().await;
            return Err(Error::Server(format!("{e}; its logs: {}", logs.display())));
        }
        Ok(server)
    }

    fn spawn(
        &mut self,
        name: &'static str,
        mut cmd: Command,
        log: &Path,
        port: u16,
    ) -> Result<(), Error> {
        let err = log.with_extension("err");
        cmd.env("PORT", port.to_string())
            // Users register once per system; their access tokens must
            // outlive the longest scenario (the soak's 20 minutes is more
            // than both systems' default 15-minute token), or handshakes
            // past expiry are refused and counted as the server's errors.
            .env("ACCESS_TOKEN_TTL_SECS", BENCH_TOKEN_TTL_SECS)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(log)?)
            .stderr(std::fs::File::create(err)?)
            .kill_on_drop(true);
        let child = cmd
            .spawn()
            .map_err(|e| Error::Server(format!("cannot start {name}: {e}")))?;
        let pid = child
            .id()
            .ok_or_else(|| Error::Server(format!("{name} exited at once")))?;
        self.procs.push(Proc { name, pid, child });
        Ok(())
    }

    async fn wait_healthy(&mut self) -> Result<(), Error> {
        let client = reqwest::Client::new();
        let url = format!("http://{}/healthz", self.addr);
        let wait = self.start_wait().as_secs();
        let deadline = Instant::now() + Duration::from_secs(wait);
        while Instant::now() < deadline {
            for proc in &mut self.procs {
                if let Some(status) = proc.child.try_wait()? {
                    return Err(Error::Server(format!(
                        "{} exited ({status}) before answering /healthz",
                        proc.name,
                    )));
                }
            }
            if let Ok(resp) = client.get(&url).send().await
                && resp.status().is_success()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(Error::Server(format!(
            "{} did not become healthy in {wait} s",
            self.kind.name()
        )))
    }

    /// Resident memory of the system (the sum over its processes), in KiB.
    pub fn rss_kib(&self) -> Result<u64, Error> {
        self.procs.iter().try_fold(0, |sum, p| {
            let status = std::fs::read_to_string(format!("/proc/{}/status", p.pid))?;
            parse_vm_rss(&status)
                .map(|kib| sum + kib)
                .ok_or_else(|| Error::Server("no VmRSS in /proc status".into()))
        })
    }

    /// CPU time (user + system) the system's processes have used so far, in
    /// seconds.
    pub fn cpu_secs(&self) -> Result<f64, Error> {
        self.procs.iter().try_fold(0.0, |sum, p| {
            let stat = std::fs::read_to_string(format!("/proc/{}/stat", p.pid))?;
            parse_cpu_ticks(&stat)
                .map(|ticks| sum + ticks as f64 / 100.0)
                .ok_or_else(|| Error::Server("unreadable /proc stat".into()))
        })
    }

    /// Under `--callgrind`: starts counting instructions in every process.
    pub fn start_counting(&self) -> Result<(), Error> {
        match &self.callgrind {
            Some(_) => crate::callgrind::start(&self.pids()),
            None => Ok(()),
        }
    }

    /// Under `--callgrind`: the instructions every process executed since
    /// [`Server::start_counting`]; `None` otherwise.
    pub fn stop_counting(&self) -> Result<Option<u64>, Error> {
        match &self.callgrind {
            Some(dir) => crate::callgrind::stop(&self.pids(), dir).map(Some),
            None => Ok(None),
        }
    }

    /// How long a process may take to start: valgrind is tens of times
    /// slower.
    fn start_wait(&self) -> Duration {
        Duration::from_secs(if self.callgrind.is_some() { 600 } else { 60 })
    }

    fn pids(&self) -> Vec<u32> {
        self.procs.iter().map(|p| p.pid).collect()
    }

    /// SIGTERM (so a profiler wrapping the server can write its report),
    /// then SIGKILL after a grace period; the gateway before the services.
    /// Their logs (stdout `.log`, stderr `.err`; `BENCH_SERVER_LOG` sets
    /// `RUST_LOG`) are copied into [`Server::logs`] before the temporary
    /// directory goes: a failed scenario is explained there.
    pub async fn stop(mut self) {
        self.terminate().await;
        if let Err(e) = copy_logs(self._dir.path(), &self.logs) {
            eprintln!(
                "chat-bench: could not keep the server logs in {}: {e}",
                self.logs.display()
            );
        }
    }

    async fn terminate(&mut self) {
        while let Some(mut proc) = self.procs.pop() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &proc.pid.to_string()])
                .status();
            if tokio::time::timeout(Duration::from_secs(15), proc.child.wait())
                .await
                .is_err()
            {
                let _ = proc.child.start_kill();
                let _ = proc.child.wait().await;
            }
        }
    }
}

/// `program`, under callgrind when `callgrind` names its dump directory,
/// pinned to `--pin-server` CPUs when given.
fn command(args: &Args, program: &Path, callgrind: Option<&Path>) -> Command {
    let mut argv: Vec<std::ffi::OsString> = Vec::new();
    if let Some(cpus) = &args.pin_server {
        argv.extend(["taskset".into(), "-c".into(), cpus.into()]);
    }
    if let Some(dir) = callgrind {
        argv.extend(crate::callgrind::prefix(dir));
    }
    argv.push(program.into());
    let mut c = Command::new(&argv[0]);
    c.args(&argv[1..]);
    c
}

/// What every process of ours gets: its data directory, no rate limit that
/// the reference lacks, quiet logs, nothing from the caller's environment
/// that would change the layout.
fn ours_env(cmd: &mut Command, data_dir: &Path) {
    for limit in RAISED_LIMITS {
        cmd.env(limit, BENCH_RATE_LIMIT);
    }
    cmd.env("HOST", OUR_HOST)
        .env("DATA_DIR", data_dir)
        .env(
            "RUST_LOG",
            std::env::var("BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .env_remove("WEB_DIR")
        .env_remove("REDIS_URL")
        .env_remove("MONGO_URI");
}

/// Runs `chat-certs` into `dir` and returns the variables it prints.
fn platform_certs(args: &Args, dir: &Path) -> Result<Vec<(String, String)>, Error> {
    let out = std::process::Command::new(sibling(args, "chat-certs")?)
        .arg(dir)
        .output()?;
    if !out.status.success() {
        return Err(Error::Server(format!(
            "chat-certs failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect())
}

/// Waits until a service accepts connections on `port`.
async fn wait_listening(port: u16, name: &str, wait: Duration) -> Result<(), Error> {
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(Error::Server(format!(
        "{name} did not listen within {wait:?}"
    )))
}

impl crate::scenario::rooms::Meter for Server {
    fn cpu_secs(&self) -> f64 {
        Server::cpu_secs(self).unwrap_or(0.0)
    }
    fn start_counting(&self) -> Result<(), Error> {
        Server::start_counting(self)
    }
    fn stop_counting(&self) -> Result<Option<u64>, Error> {
        Server::stop_counting(self)
    }
}

/// Copies the `.log` and `.err` files at the top of `from` into `to`.
fn copy_logs(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let path = entry?.path();
        let is_log = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("log" | "err")
        );
        if let (true, Some(name)) = (is_log, path.file_name()) {
            std::fs::copy(&path, to.join(name))?;
        }
    }
    Ok(())
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
