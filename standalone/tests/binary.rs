//! The `chat` binary as an operator runs it: starts on a given PORT and
//! DATA_DIR, reports healthy, keeps its data across a restart, and stops
//! cleanly (exit 0) on SIGTERM.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn spawn(port: u16, data_dir: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_chat"))
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("DATA_DIR", data_dir)
        .env_remove("AUTH_GRPC_ADDR")
        .env_remove("MESSAGE_GRPC_ADDR")
        .env_remove("MEDIA_GRPC_ADDR")
        .env_remove("S3_ENDPOINT")
        .env_remove("MONGO_URI")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// Waits until `base/healthz` answers; `false` when the child exited first.
async fn healthy(http: &reqwest::Client, base: &str, child: &mut Child) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(res) = http.get(format!("{base}/healthz")).send().await
            && res.status() == 200
        {
            assert_eq!(res.json::<Value>().await.unwrap(), json!({"status": "ok"}));
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chat did not become healthy on {base}");
}

/// Starts chat on a free port, and on another when it exits before it is
/// healthy: the port found free can be taken before chat binds it.
async fn start_on_a_free_port(http: &reqwest::Client, data: &std::path::Path) -> (Child, u16) {
    for _ in 0..5 {
        let port = free_port();
        let mut child = spawn(port, data);
        if healthy(http, &format!("http://127.0.0.1:{port}"), &mut child).await {
            return (child, port);
        }
    }
    panic!("chat exited at start on five free ports in a row");
}

fn terminate(mut child: Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chat ignored SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn serves_keeps_data_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nested/data");
    let http = reqwest::Client::new();
    let (child, port) = start_on_a_free_port(&http, &data).await;
    let base = format!("http://127.0.0.1:{port}");
    let creds = json!({"username": "operator", "password": "long enough"});
    let res = http
        .post(format!("{base}/register"))
        .json(&creds)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert!(terminate(child).success());
    assert!(data.is_dir(), "DATA_DIR was not created");

    // Same DATA_DIR, new process: the account is still there.
    let mut child = spawn(port, &data);
    assert!(
        healthy(&http, &base, &mut child).await,
        "chat exited on restart"
    );
    let res = http
        .post(format!("{base}/login"))
        .json(&creds)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(terminate(child).success());
}

#[test]
fn a_taken_port_is_a_non_zero_exit() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let mut child = spawn(port, dir.path());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "chat kept running on a taken port"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success());
}
