//! A throw-away `redis-server` for the tests of the Redis code: a real
//! server on a free loopback port, without persistence, that a test can stop
//! and start again on the same port.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::cluster::RedisLink;

pub struct TestRedis {
    port: u16,
    child: Option<Child>,
    _dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl TestRedis {
    pub async fn start() -> Self {
        let mut redis = TestRedis {
            port: free_port(),
            child: None,
            _dir: tempfile::tempdir().expect("a temporary directory"),
        };
        // The port found free can be taken before redis-server binds it:
        // then it exits, and another port is tried.
        for _ in 0..5 {
            if redis.launch().await {
                return redis;
            }
            redis.port = free_port();
        }
        panic!("redis-server exited at start on five free ports in a row");
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the server (again) on its port and waits for it to answer.
    pub async fn restart(&mut self) {
        assert!(self.launch().await, "redis-server exited on restart");
    }

    /// Starts the server on its port; `true` once it answers, `false` when
    /// it exited first.
    async fn launch(&mut self) -> bool {
        self.stop();
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self._dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (apt-get install redis-server)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut()
                && !matches!(child.try_wait(), Ok(None))
            {
                self.child = None;
                return false;
            }
            if let Ok(client) = redis::Client::open(self.url())
                && let Ok(mut conn) = client.get_multiplexed_async_connection().await
                && redis::cmd("PING")
                    .query_async::<String>(&mut conn)
                    .await
                    .is_ok()
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("redis-server did not answer on port {}", self.port);
    }

    /// Kills the server (SIGKILL: no goodbye to the clients).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// A link to this server with its watchdog running, as a node has.
    pub async fn link(&self) -> RedisLink {
        let link = RedisLink::connect(&self.url())
            .await
            .expect("connect to the test redis");
        link.spawn_watchdog();
        link
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        self.stop();
    }
}
