//! Whole systems under test: the one-process binary, or the services and
//! gateways as separate processes.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tempfile::TempDir;

use crate::bins::binary;
use crate::process::Proc;
use crate::{START_TIMEOUT, api, on_a_free_port};

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Waits until `base/healthz` answers 200 while `proc` keeps running.
pub async fn wait_healthy(proc: &mut Proc, base: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        proc.ensure_running()?;
        if api::healthz(base).await == Some(200) {
            return Ok(());
        }
        if started.elapsed() > START_TIMEOUT {
            bail!(
                "{} not healthy at {base}/healthz after {START_TIMEOUT:?}; its log:\n{}",
                proc.name(),
                proc.log_tail()
            );
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// Waits until the gRPC health service of `proc` reports `service` SERVING,
/// asking through `chat-healthcheck` exactly as the compose health checks do.
pub async fn wait_grpc_serving(proc: &mut Proc, addr: &str, service: &str) -> anyhow::Result<()> {
    let probe = binary("chat-healthcheck")?;
    let started = Instant::now();
    loop {
        proc.ensure_running()?;
        let out = tokio::process::Command::new(&probe)
            .args(["grpc", addr, service])
            .output()
            .await
            .context("cannot run chat-healthcheck")?;
        if out.status.success() {
            return Ok(());
        }
        if started.elapsed() > START_TIMEOUT {
            bail!(
                "{} not SERVING {service} at {addr} after {START_TIMEOUT:?} ({}); its log:\n{}",
                proc.name(),
                String::from_utf8_lossy(&out.stderr).trim(),
                proc.log_tail()
            );
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// Starts `bin` as `name` with `vars` (its `PORT` among them) and waits
/// until it answers `/healthz` on `port`; its base URL with it.
async fn serve_http(
    name: String,
    bin: &'static str,
    vars: Vec<(String, String)>,
    logs: std::path::PathBuf,
    port: impl std::fmt::Display,
) -> anyhow::Result<(Proc, String)> {
    let mut proc = Proc::spawn(&name, &binary(bin)?, vars, &logs)?;
    let base = format!("http://127.0.0.1:{port}");
    wait_healthy(&mut proc, &base).await?;
    Ok((proc, base))
}

/// Logs of everything a test started, printed when it fails.
pub fn report<T>(procs: &[&Proc], outcome: anyhow::Result<T>) -> anyhow::Result<T> {
    if outcome.is_err() {
        for p in procs {
            eprintln!(
                "----- {} ({}) -----\n{}",
                p.name(),
                p.log_path().display(),
                p.log_tail()
            );
        }
    }
    outcome
}

/// The one-process binary `chat` on a free port and a temporary `DATA_DIR`.
pub struct Standalone {
    pub base: String,
    pub proc: Proc,
    pub data_dir: TempDir,
    _logs: TempDir,
}

impl Standalone {
    pub async fn start() -> anyhow::Result<Standalone> {
        Standalone::start_with(&[]).await
    }

    /// As [`Standalone::start`], with extra variables (e.g. pinned gRPC ports).
    pub async fn start_with(extra: &[(&str, &str)]) -> anyhow::Result<Standalone> {
        let data_dir = tempfile::Builder::new().prefix("chat-e2e-data").tempdir()?;
        let logs = tempfile::Builder::new().prefix("chat-e2e-logs").tempdir()?;
        let data = data_dir.path().display().to_string();
        let (proc, base) = on_a_free_port(|port| {
            let port = port.to_string();
            let mut vars = env(&[("HOST", "127.0.0.1"), ("PORT", &port), ("DATA_DIR", &data)]);
            vars.extend(env(extra));
            serve_http("chat".into(), "chat", vars, logs.path().to_path_buf(), port)
        })
        .await?;
        Ok(Standalone {
            base,
            proc,
            data_dir,
            _logs: logs,
        })
    }

    /// Stops the process (SIGTERM) and starts it again on the same port and
    /// `DATA_DIR`.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.proc.restart()?;
        wait_healthy(&mut self.proc, &self.base).await
    }

    pub fn report<T>(&self, outcome: anyhow::Result<T>) -> anyhow::Result<T> {
        report(&[&self.proc], outcome)
    }
}

/// Where the services keep their data; `None` fields mean embedded defaults.
#[derive(Debug, Clone, Default)]
pub struct Backing {
    pub mongo_uri: Option<String>,
    pub s3: Option<S3>,
    pub redis_url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct S3 {
    pub endpoint: String,
    pub bucket: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// chat-auth, chat-message and chat-media, plus `gateways` chat-gateway
/// processes, each a separate process on its own free port.
pub struct Distributed {
    /// Base URL of each gateway.
    pub gateways: Vec<String>,
    pub procs: Vec<Proc>,
    _data: TempDir,
    _logs: TempDir,
}

/// (binary, listen-address variable, gRPC service reported by health)
const SERVICES: [(&str, &str, &str); 3] = [
    ("chat-auth", "AUTH_GRPC_ADDR", "chat.auth.v1.AuthService"),
    (
        "chat-message",
        "MESSAGE_GRPC_ADDR",
        "chat.message.v1.MessageService",
    ),
    (
        "chat-media",
        "MEDIA_GRPC_ADDR",
        "chat.media.v1.MediaService",
    ),
];

/// Runs `chat-certs` into `dir`, as an operator would for compose, and
/// returns the variables it prints (`GRPC_CA_CERT=…` and the rest): every
/// process of the split layout gets them all.
pub async fn make_certs(dir: &std::path::Path) -> anyhow::Result<Vec<(String, String)>> {
    let out = tokio::process::Command::new(binary("chat-certs")?)
        .arg(dir)
        .output()
        .await
        .context("cannot run chat-certs")?;
    if !out.status.success() {
        bail!(
            "chat-certs failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

impl Distributed {
    pub async fn start(backing: &Backing, gateways: usize) -> anyhow::Result<Distributed> {
        let data = tempfile::Builder::new().prefix("chat-e2e-data").tempdir()?;
        let logs = tempfile::Builder::new().prefix("chat-e2e-logs").tempdir()?;
        let certs = make_certs(&data.path().join("certs")).await?;
        let mut procs = Vec::new();
        let mut urls: Vec<String> = Vec::new();
        for (bin, addr_var, service) in SERVICES {
            let dir = data.path().join(bin);
            std::fs::create_dir_all(&dir)?;
            let mut shared = vec![("DATA_DIR".to_string(), dir.display().to_string())];
            shared.extend(certs.iter().cloned());
            // Auth starts first: the others fetch its keys as the platform.
            if let Some(auth) = urls.first() {
                shared.push(("AUTH_URL".into(), auth.clone()));
            }
            if let Some(uri) = &backing.mongo_uri {
                shared.push(("MONGO_URI".into(), uri.clone()));
            }
            if let (Some(s3), "chat-media") = (&backing.s3, bin) {
                shared.extend(env(&[
                    ("S3_ENDPOINT", &s3.endpoint),
                    ("S3_REGION", "us-east-1"),
                    ("S3_BUCKET", &s3.bucket),
                    ("S3_ACCESS_KEY_ID", &s3.access_key_id),
                    ("S3_SECRET_ACCESS_KEY", &s3.secret_access_key),
                    ("S3_FORCE_PATH_STYLE", "true"),
                ]));
            }
            let (proc, addr) = on_a_free_port(|port| {
                let addr = format!("127.0.0.1:{port}");
                let mut vars = vec![(addr_var.to_string(), addr.clone())];
                vars.extend(shared.iter().cloned());
                let logs = logs.path().to_path_buf();
                async move {
                    let mut proc = Proc::spawn(bin, &binary(bin)?, vars, &logs)?;
                    wait_grpc_serving(&mut proc, &addr, service).await?;
                    Ok((proc, addr))
                }
            })
            .await?;
            procs.push(proc);
            urls.push(format!("http://{addr}"));
        }
        let mut bases = Vec::new();
        for n in 1..=gateways {
            let mut shared = env(&[
                ("HOST", "127.0.0.1"),
                ("AUTH_URL", &urls[0]),
                ("MESSAGE_URL", &urls[1]),
                ("MEDIA_URL", &urls[2]),
            ]);
            shared.extend(certs.iter().cloned());
            if let Some(redis) = &backing.redis_url {
                shared.push(("REDIS_URL".into(), redis.clone()));
            }
            let name = format!("chat-gateway-{n}");
            let (proc, base) = on_a_free_port(|port| {
                let mut vars = shared.clone();
                vars.push(("PORT".into(), port.to_string()));
                let logs = logs.path().to_path_buf();
                serve_http(name.clone(), "chat-gateway", vars, logs, port)
            })
            .await?;
            procs.push(proc);
            bases.push(base);
        }
        Ok(Distributed {
            gateways: bases,
            procs,
            _data: data,
            _logs: logs,
        })
    }

    pub fn report<T>(&self, outcome: anyhow::Result<T>) -> anyhow::Result<T> {
        report(&self.procs.iter().collect::<Vec<_>>(), outcome)
    }
}
