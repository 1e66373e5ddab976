//! Uploads over the limit answer `413`, never a reset (PROTOCOL.md § HTTP,
//! `POST /upload`; issue 13), for bodies up to four times the limit, on a
//! fresh connection and on an HTTP/1.1 keep-alive connection — which stays
//! usable afterwards, because the gateway reads a refused body to its end
//! before answering.
//!
//! Driven over raw TCP so that what is asserted is what a browser sees: the
//! whole body written without `EPIPE`/`ECONNRESET` while the answer is read
//! concurrently, and the next request on the same connection.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

mod support;
use support::*;

const MIB: u64 = 1024 * 1024;
const BOUNDARY: &str = "limit-test-boundary";
/// Generous for a 40 MiB body over loopback in a debug build.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(120);

/// One HTTP/1.1 connection, used for as many requests as the server allows.
struct Conn {
    read: OwnedReadHalf,
    write: Option<OwnedWriteHalf>,
    host: String,
    /// Bytes read past the end of the previous answer.
    buf: Vec<u8>,
}

struct Answer {
    status: StatusCode,
    /// Lower-cased `connection` header, if any.
    connection: Option<String>,
    body: Value,
}

impl Conn {
    async fn open(s: &Stack) -> Conn {
        let host = s.base.trim_start_matches("http://").to_string();
        let (read, write) = TcpStream::connect(&host).await.unwrap().into_split();
        Conn {
            read,
            write: Some(write),
            host,
            buf: Vec::new(),
        }
    }

    /// Sends a multipart upload of `size` bytes in `field` and reads the
    /// answer while the body is still being written. Panics if writing the
    /// body fails (the server reset the connection) or no answer comes.
    async fn upload(&mut self, token: &str, field: &str, size: u64) -> Answer {
        let head = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"big.bin\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        );
        let tail = format!("\r\n--{BOUNDARY}--\r\n");
        let length = head.len() as u64 + size + tail.len() as u64;
        let request = format!(
            "POST /upload HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {length}\r\n\r\n{head}",
            self.host
        );
        let mut write = self.write.take().expect("the connection is still open");
        let writer = tokio::spawn(async move {
            write.write_all(request.as_bytes()).await?;
            let chunk = vec![0x5a_u8; 64 * 1024];
            let mut left = size;
            while left > 0 {
                let n = left.min(chunk.len() as u64) as usize;
                write.write_all(&chunk[..n]).await?;
                left -= n as u64;
            }
            write.write_all(tail.as_bytes()).await?;
            write.flush().await?;
            Ok::<_, std::io::Error>(write)
        });
        let answer = tokio::time::timeout(EXCHANGE_TIMEOUT, self.answer())
            .await
            .expect("no answer in time");
        let write = tokio::time::timeout(EXCHANGE_TIMEOUT, writer)
            .await
            .expect("the body was not accepted in time")
            .unwrap()
            .unwrap_or_else(|e| {
                panic!(
                    "writing the {size}-byte body failed ({e}) after a {} answer",
                    answer.status
                )
            });
        self.write = Some(write);
        answer
    }

    async fn get(&mut self, path: &str, token: &str) -> Answer {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\r\n",
            self.host
        );
        let write = self.write.as_mut().expect("the connection is still open");
        write.write_all(request.as_bytes()).await.unwrap();
        tokio::time::timeout(EXCHANGE_TIMEOUT, self.answer())
            .await
            .expect("no answer in time")
    }

    /// Reads one answer (head, then a `Content-Length` body).
    async fn answer(&mut self) -> Answer {
        let end = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            self.fill().await;
        };
        let head = String::from_utf8(self.buf[..end].to_vec()).unwrap();
        self.buf.drain(..end);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let code: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP answer: {head:?}"));
        let header = |name: &str| {
            head.split("\r\n").find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_ascii_lowercase())
            })
        };
        let length: usize = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no Content-Length: {head:?}"));
        while self.buf.len() < length {
            self.fill().await;
        }
        let body: Vec<u8> = self.buf.drain(..length).collect();
        Answer {
            status: StatusCode::from_u16(code).unwrap(),
            connection: header("connection"),
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        }
    }

    async fn fill(&mut self) {
        let mut chunk = [0u8; 16 * 1024];
        let n = self
            .read
            .read(&mut chunk)
            .await
            .unwrap_or_else(|e| panic!("reading the answer failed: {e}"));
        assert!(n > 0, "the server closed the connection without an answer");
        self.buf.extend_from_slice(&chunk[..n]);
    }
}

fn assert_413(answer: &Answer, size: u64) {
    assert_error(answer.status, &answer.body, StatusCode::PAYLOAD_TOO_LARGE);
    assert_ne!(
        answer.connection.as_deref(),
        Some("close"),
        "a {size}-byte refusal closes the connection"
    );
}

/// Every size from just over the limit to four times it, as the `file` and
/// the `avatar` field, each on a fresh connection and then all on one
/// keep-alive connection that serves `GET /me` between them.
async fn over_the_limit_is_always_413(limit: u64, sizes: &[u64]) {
    let s = start(Limits {
        gateway_upload: limit,
        media_upload: limit,
    })
    .await;
    let user = s.register("dave").await;
    let token = user["token"].as_str().unwrap();

    for &size in sizes {
        for field in ["file", "avatar"] {
            let mut fresh = Conn::open(&s).await;
            assert_413(&fresh.upload(token, field, size).await, size);
        }
    }

    let mut kept = Conn::open(&s).await;
    for &size in sizes {
        for field in ["file", "avatar"] {
            assert_413(&kept.upload(token, field, size).await, size);
            // The same connection still serves the next request.
            let me = kept.get("/me", token).await;
            assert_eq!(me.status, StatusCode::OK, "{}", me.body);
            assert_eq!(me.body["username"], "dave");
        }
    }
    // A refusal for another reason is read to its end as well.
    let anonymous = kept.upload("not-a-token", "file", 2 * limit).await;
    assert_error(anonymous.status, &anonymous.body, StatusCode::UNAUTHORIZED);
    // And an upload within the limit still goes through on it.
    let ok = kept.upload(token, "file", limit).await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
    assert_eq!(ok.body["size"], limit);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_10_mib_limit_answers_413_up_to_40_mib() {
    over_the_limit_is_always_413(10 * MIB, &[11 * MIB, 40 * MIB]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_1_mib_limit_answers_413_from_one_byte_over_to_four_times() {
    let limit = MIB;
    over_the_limit_is_always_413(limit, &[limit + 1, 2 * limit, 4 * limit]).await;
}
