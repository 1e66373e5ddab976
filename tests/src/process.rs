//! One child process with its output captured to a log file, stopped when
//! dropped. A failing test prints the tail of every log it started.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rustix::process::{Pid, Signal, kill_process};

/// Lines of each log shown when a test fails.
const TAIL_LINES: usize = 60;

pub struct Proc {
    name: String,
    program: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    log: PathBuf,
    child: Option<Child>,
}

impl Proc {
    /// Starts `program` with only `env` (plus `PATH`, `HOME`, `RUST_LOG`,
    /// `RUST_BACKTRACE`), so a developer's `MONGO_URI` or `REDIS_URL` never
    /// leaks into a test that did not ask for it. Output is appended to
    /// `<log_dir>/<name>.log`, so a restart continues the same file.
    pub fn spawn(
        name: &str,
        program: &Path,
        env: Vec<(String, String)>,
        log_dir: &Path,
    ) -> anyhow::Result<Proc> {
        Proc::spawn_with_args(name, program, &[], env, log_dir)
    }

    /// [`Proc::spawn`] with command-line arguments.
    pub fn spawn_with_args(
        name: &str,
        program: &Path,
        args: &[String],
        env: Vec<(String, String)>,
        log_dir: &Path,
    ) -> anyhow::Result<Proc> {
        let mut proc = Proc {
            name: name.to_string(),
            program: program.to_path_buf(),
            args: args.to_vec(),
            env,
            log: log_dir.join(format!("{name}.log")),
            child: None,
        };
        proc.start()?;
        Ok(proc)
    }

    fn start(&mut self) -> anyhow::Result<()> {
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .with_context(|| format!("cannot open {}", self.log.display()))?;
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args).env_clear();
        for key in ["PATH", "HOME", "RUST_BACKTRACE"] {
            if let Some(v) = std::env::var_os(key) {
                cmd.env(key, v);
            }
        }
        cmd.env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
        );
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot start {}", self.program.display()))?;
        self.child = Some(child);
        Ok(())
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// Fails (with the log tail) when the process has exited.
    pub fn ensure_running(&mut self) -> anyhow::Result<()> {
        let Some(child) = self.child.as_mut() else {
            bail!("{} is stopped", self.name);
        };
        if let Some(status) = child.try_wait()? {
            bail!(
                "{} exited with {status}; its log:\n{}",
                self.name,
                self.log_tail()
            );
        }
        Ok(())
    }

    /// SIGTERM, so the process shuts down the way an operator stops it; a
    /// SIGKILL after `grace` if it will not.
    pub fn stop(&mut self, grace: Duration) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        let _ = kill_process(Pid::from_child(&child), Signal::TERM);
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if matches!(child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Stops and starts the same command with the same environment.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.stop(Duration::from_secs(10));
        self.start()
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n")
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "----- {} ({}) -----\n{}",
                self.name,
                self.log.display(),
                self.log_tail()
            );
        }
        self.stop(Duration::from_secs(5));
    }
}
