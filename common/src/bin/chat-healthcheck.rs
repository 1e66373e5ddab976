//! `chat-healthcheck`: the probe container health checks run, because the
//! runtime image carries neither curl nor grpcurl.
//!
//! ```text
//! chat-healthcheck grpc HOST:PORT [SERVICE]   # grpc.health.v1 Check, 0 only when SERVING
//! chat-healthcheck http URL                   # HTTP/1.1 GET, 0 only on a 2xx
//! ```
//!
//! With `GRPC_REQUIRE_TLS=true` in its environment (a service's own, in
//! compose) the gRPC probe dials over TLS with the service's `GRPC_*`
//! certificates, as plaintext is then refused.
//!
//! Exit codes: 0 healthy, 1 unhealthy or unreachable, 2 usage error. Every
//! probe gives up after `CHAT_HEALTHCHECK_TIMEOUT_MS` (default 3000).

use std::process::ExitCode;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const USAGE: &str = "usage: chat-healthcheck grpc HOST:PORT [SERVICE] | chat-healthcheck http URL";
/// A status line and headers never need more; a bigger reply is not ours.
const MAX_HEAD: usize = 16 * 1024;

#[derive(Debug, PartialEq, Eq)]
enum Probe {
    Grpc { addr: String, service: String },
    Http { url: String },
}

fn parse_args(args: &[String]) -> Result<Probe, String> {
    match args {
        [kind, addr] if kind == "grpc" => Ok(Probe::Grpc {
            addr: addr.clone(),
            service: String::new(),
        }),
        [kind, addr, service] if kind == "grpc" => Ok(Probe::Grpc {
            addr: addr.clone(),
            service: service.clone(),
        }),
        [kind, url] if kind == "http" => Ok(Probe::Http { url: url.clone() }),
        _ => Err(USAGE.to_string()),
    }
}

fn timeout_from_env() -> Duration {
    std::env::var("CHAT_HEALTHCHECK_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(Duration::from_secs(3), Duration::from_millis)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let probe = match parse_args(&args) {
        Ok(p) => p,
        Err(usage) => {
            eprintln!("{usage}");
            return ExitCode::from(2);
        }
    };
    let outcome = tokio::time::timeout(timeout_from_env(), run(&probe))
        .await
        .unwrap_or_else(|_| Err("timed out".to_string()));
    match outcome {
        Ok(detail) => {
            println!("healthy: {detail}");
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("unhealthy: {why}");
            ExitCode::FAILURE
        }
    }
}

async fn run(probe: &Probe) -> Result<String, String> {
    match probe {
        Probe::Grpc { addr, service } => grpc_check(addr, service).await,
        Probe::Http { url } => http_check(url).await,
    }
}

async fn grpc_check(addr: &str, service: &str) -> Result<String, String> {
    let endpoint = if addr.contains("://") {
        addr.to_string()
    } else {
        format!("http://{addr}")
    };
    let credentials =
        chat_common::credentials::Credentials::from_vars(&chat_common::env::Vars::new(|name| {
            std::env::var(name).ok()
        }))
        .map_err(|e| e.to_string())?;
    let endpoint = if credentials.require_tls {
        credentials.endpoint(&endpoint)?
    } else {
        tonic::transport::Endpoint::from_shared(endpoint)
            .map_err(|e| format!("bad address {addr}: {e}"))?
    };
    let channel = endpoint
        .connect()
        .await
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    let reply = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.to_string(),
        })
        .await
        .map_err(|s| format!("{addr}: {}: {}", s.code(), s.message()))?
        .into_inner();
    let shown = if service.is_empty() {
        "(server)"
    } else {
        service
    };
    match reply.status() {
        ServingStatus::Serving => Ok(format!("{addr} {shown} SERVING")),
        other => Err(format!("{addr} {shown} {}", other.as_str_name())),
    }
}

/// Where an `http://` URL points.
#[derive(Debug, PartialEq, Eq)]
struct Target {
    host: String,
    port: u16,
    authority: String,
    path: String,
}

fn parse_url(url: &str) -> Result<Target, String> {
    let uri: http::Uri = url.parse().map_err(|e| format!("bad URL {url}: {e}"))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some(other) => return Err(format!("only http:// is supported, not {other}://")),
        None => return Err(format!("bad URL {url}: it needs http://")),
    }
    let authority = uri
        .authority()
        .ok_or_else(|| format!("bad URL {url}: no host"))?;
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
    Ok(Target {
        host: host.to_string(),
        port: authority.port_u16().unwrap_or(80),
        authority: authority.as_str().to_string(),
        path: if path.is_empty() { "/".into() } else { path },
    })
}

/// The status code of an HTTP/1.x response head.
fn parse_status(head: &[u8]) -> Result<u16, String> {
    let line_end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    let line = String::from_utf8_lossy(&head[..line_end]);
    let mut parts = line.split_whitespace();
    match (parts.next(), parts.next()) {
        (Some(v), Some(code)) if v.starts_with("HTTP/1.") => code
            .parse()
            .map_err(|_| format!("bad status line: {}", line.trim_end())),
        _ => Err(format!("not an HTTP/1.x response: {}", line.trim_end())),
    }
}

async fn http_check(url: &str) -> Result<String, String> {
    let target = parse_url(url)?;
    let mut stream = TcpStream::connect((target.host.as_str(), target.port))
        .await
        .map_err(|e| format!("cannot connect to {}: {e}", target.authority))?;
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: chat-healthcheck\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        target.path, target.authority
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("cannot send the request: {e}"))?;
    // Only the status line matters; read until it is complete.
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 512];
    while !head.contains(&b'\n') {
        let n = stream
            .read(&mut buf)
            .await
            .map_err(|e| format!("cannot read the response: {e}"))?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
        if head.len() > MAX_HEAD {
            return Err("response head too large".into());
        }
    }
    let status = parse_status(&head)?;
    if (200..300).contains(&status) {
        Ok(format!("{url} {status}"))
    } else {
        Err(format!("{url} answered {status}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_each_probe() {
        assert_eq!(
            parse_args(&args(&["grpc", "auth:50051"])),
            Ok(Probe::Grpc {
                addr: "auth:50051".into(),
                service: String::new()
            })
        );
        assert_eq!(
            parse_args(&args(&["grpc", "auth:50051", "chat.auth.v1.AuthService"])),
            Ok(Probe::Grpc {
                addr: "auth:50051".into(),
                service: "chat.auth.v1.AuthService".into()
            })
        );
        assert_eq!(
            parse_args(&args(&["http", "http://x/healthz"])),
            Ok(Probe::Http {
                url: "http://x/healthz".into()
            })
        );
        assert!(parse_args(&args(&[])).is_err());
        assert!(parse_args(&args(&["http"])).is_err());
        assert!(parse_args(&args(&["ftp", "x"])).is_err());
    }

    #[test]
    fn parses_urls() {
        let t = parse_url("http://gateway-1:3001/healthz?x=1").unwrap();
        assert_eq!(t.host, "gateway-1");
        assert_eq!(t.port, 3001);
        assert_eq!(t.authority, "gateway-1:3001");
        assert_eq!(t.path, "/healthz?x=1");
        let t = parse_url("http://[::1]/").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 80));
        let t = parse_url("http://localhost").unwrap();
        assert_eq!(t.path, "/");
        assert!(parse_url("https://x/").is_err());
        assert!(parse_url("localhost:80").is_err());
    }

    #[test]
    fn reads_status_lines() {
        assert_eq!(parse_status(b"HTTP/1.1 200 OK\r\n"), Ok(200));
        assert_eq!(
            parse_status(b"HTTP/1.0 503 Service Unavailable\r\n"),
            Ok(503)
        );
        assert!(parse_status(b"SSH-2.0-OpenSSH\r\n").is_err());
        assert!(parse_status(b"").is_err());
    }

    async fn serve_once(reply: &'static [u8]) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut req = vec![0u8; 1024];
            let _ = s.read(&mut req).await;
            let _ = s.write_all(reply).await;
        });
        format!("http://{addr}/healthz")
    }

    #[tokio::test]
    async fn http_probe_follows_the_status_code() {
        let ok = serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").await;
        assert!(http_check(&ok).await.is_ok());
        let down = serve_once(b"HTTP/1.1 503 Service Unavailable\r\n\r\n").await;
        assert!(http_check(&down).await.is_err());
    }

    #[tokio::test]
    async fn grpc_probe_reports_serving_and_unknown_services() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(chat_common::grpc::serve(
            listener,
            &["chat.test.v1.Thing"],
            tonic::service::Routes::default(),
            chat_common::grpc::Options {
                probe: None,
                grace: std::time::Duration::from_secs(1),
                ..Default::default()
            },
            std::future::pending(),
        ));
        assert!(grpc_check(&addr, "").await.is_ok());
        assert!(grpc_check(&addr, "chat.test.v1.Thing").await.is_ok());
        assert!(grpc_check(&addr, "chat.test.v1.Missing").await.is_err());
    }

    #[tokio::test]
    async fn grpc_health_follows_the_probe() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::time::{Duration, Instant};
        let store_up = Arc::new(AtomicBool::new(true));
        let probe = {
            let store_up = store_up.clone();
            chat_common::grpc::probe(move || {
                let up = store_up.load(Ordering::SeqCst);
                async move { if up { Ok(()) } else { Err("store down".into()) } }
            })
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(chat_common::grpc::serve(
            listener,
            &["chat.test.v1.Thing"],
            tonic::service::Routes::default(),
            chat_common::grpc::Options {
                probe: Some(probe),
                grace: Duration::from_secs(1),
                ..Default::default()
            },
            std::future::pending(),
        ));
        assert!(grpc_check(&addr, "chat.test.v1.Thing").await.is_ok());
        let until = async |want_ok: bool| {
            let deadline = Instant::now() + Duration::from_secs(10);
            while grpc_check(&addr, "chat.test.v1.Thing").await.is_ok() != want_ok {
                assert!(Instant::now() < deadline, "health never became {want_ok}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        store_up.store(false, Ordering::SeqCst);
        until(false).await;
        assert!(grpc_check(&addr, "").await.is_err(), "the whole server too");
        store_up.store(true, Ordering::SeqCst);
        until(true).await;
    }
}
