//! storm: authenticated handshakes per second — TCP connect, WebSocket
//! upgrade, Engine.IO open and the namespace CONNECT with a token — with a
//! fixed number in flight. Every socket stays open until the end, so the
//! server's cost of holding them is part of the figure.

use std::time::Instant;

use futures::StreamExt;

use crate::dial::Dialer;
use crate::progress;
use crate::stats::{self, Latency};

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Storm {
    pub connections: usize,
    pub concurrency: usize,
    pub ok: u64,
    pub failed: u64,
    pub secs: f64,
    pub handshakes_per_sec: f64,
    pub latency: Latency,
    pub first_error: Option<String>,
    /// Under `--callgrind`: what the server executed for the whole storm.
    pub server_instructions: Option<u64>,
}

pub async fn run(dialer: &Dialer, connections: usize, concurrency: usize) -> Storm {
    let mut out = Storm {
        connections,
        concurrency,
        ..Storm::default()
    };
    let mut hist = stats::histogram();
    let mut open = Vec::with_capacity(connections);
    let bar = progress::counter(connections as u64, "storm: handshakes");
    let started = Instant::now();
    let mut attempts = futures::stream::iter(0..connections)
        .map(|i| async move {
            let t = Instant::now();
            dialer.dial(i, i).await.map(|ws| (ws, t.elapsed()))
        })
        .buffer_unordered(concurrency.max(1));
    while let Some(result) = attempts.next().await {
        match result {
            Ok((ws, took)) => {
                out.ok += 1;
                hist.saturating_record(took.as_micros() as u64);
                open.push(ws);
            }
            Err(e) => {
                out.failed += 1;
                out.first_error.get_or_insert_with(|| e.to_string());
            }
        }
        bar.inc(1);
    }
    out.secs = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    out.handshakes_per_sec = out.ok as f64 / out.secs.max(1e-9);
    out.latency = Latency::of(&hist);
    drop(open);
    out
}
