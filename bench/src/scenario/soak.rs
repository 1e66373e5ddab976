//! soak: connect/join/send/disconnect churn for a long time, reading the
//! server's resident memory as it goes. A server that leaks per connection,
//! per room join or per message shows it here as RSS that keeps growing
//! once the churn has reached its steady state.
//!
//! The verdict compares two windows of samples: the second quarter of the
//! run (after warm-up: allocator pools, caches and SQLite's page cache have
//! filled) and the last quarter. Growth is the difference of their medians
//! (medians, so one sample taken mid-burst does not decide).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use crate::dial::Dialer;
use crate::error::Error;
use crate::progress;
use crate::sio;

/// Rooms the churning clients spread over.
const ROOMS: usize = 50;
/// Messages each client sends per connection before it disconnects.
const SENDS_PER_CONNECTION: u64 = 5;

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Soak {
    pub secs: u64,
    pub clients: usize,
    /// Connect → join → sends → disconnect cycles completed.
    pub cycles: u64,
    pub messages_acked: u64,
    /// Handshakes, joins or sends that failed or were refused.
    pub errors: u64,
    pub first_error: Option<String>,
    /// (seconds since the start, RSS in KiB), one per `sample_secs`.
    pub rss_kib: Vec<(f64, u64)>,
    /// Median RSS of the second quarter and of the last quarter (KiB).
    pub settled_kib: u64,
    pub final_kib: u64,
    pub growth_kib: i64,
    pub max_growth_kib: u64,
}

impl Soak {
    pub fn grew_too_much(&self) -> bool {
        self.growth_kib > self.max_growth_kib as i64
    }
}

pub struct Plan {
    pub secs: u64,
    pub clients: usize,
    pub sample_secs: u64,
    pub max_growth_kib: u64,
    pub tag: String,
}

#[derive(Default)]
struct Counters {
    cycles: AtomicU64,
    acked: AtomicU64,
    errors: AtomicU64,
    first_error: std::sync::Mutex<Option<String>>,
}

impl Counters {
    fn fail(&self, e: impl ToString) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut first) = self.first_error.lock() {
            first.get_or_insert_with(|| e.to_string());
        }
    }
}

pub async fn run(
    dialer: &Dialer,
    plan: &Plan,
    rss_kib: impl Fn() -> Result<u64, Error>,
) -> Result<Soak, Error> {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(plan.secs);
    let counters = Arc::new(Counters::default());
    let mut tasks = JoinSet::new();
    for client in 0..plan.clients {
        let (dialer, counters, tag) = (dialer.clone(), counters.clone(), plan.tag.clone());
        tasks.spawn(async move { churn(&dialer, client, deadline, &tag, &counters).await });
    }

    let mut samples = vec![(0.0, rss_kib()?)];
    let bar = progress::timer(plan.secs, "soak: churning");
    let every = Duration::from_secs(plan.sample_secs.max(1));
    while Instant::now() < deadline {
        tokio::time::sleep(every.min(deadline.saturating_duration_since(Instant::now()))).await;
        let at = started.elapsed();
        samples.push((at.as_secs_f64(), rss_kib()?));
        bar.set_position(at.as_secs());
    }
    bar.finish_and_clear();
    while tasks.join_next().await.is_some() {}

    let (settled_kib, final_kib) = windows(&samples);
    Ok(Soak {
        secs: plan.secs,
        clients: plan.clients,
        cycles: counters.cycles.load(Ordering::Relaxed),
        messages_acked: counters.acked.load(Ordering::Relaxed),
        errors: counters.errors.load(Ordering::Relaxed),
        first_error: counters.first_error.lock().ok().and_then(|f| f.clone()),
        rss_kib: samples,
        settled_kib,
        final_kib,
        growth_kib: final_kib as i64 - settled_kib as i64,
        max_growth_kib: plan.max_growth_kib,
    })
}

/// One client's loop until the deadline: a fresh connection each cycle, a
/// room drawn from the client's number and cycle, a few acked sends.
async fn churn(dialer: &Dialer, client: usize, deadline: Instant, tag: &str, counters: &Counters) {
    let mut cycle = 0usize;
    while Instant::now() < deadline {
        let conn = client + cycle * 7919;
        cycle += 1;
        let mut ws = match dialer.dial(conn, conn).await {
            Ok(ws) => ws,
            Err(e) => {
                counters.fail(format!("connect: {e}"));
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        let room = format!("soak-{tag}-{}", conn % ROOMS);
        let join = serde_json::json!({ "room": room, "limit": 5 });
        match sio::call(&mut ws, 1, "joinRoom", &join).await {
            Ok(reply) if reply["ok"] == true => {}
            Ok(reply) => counters.fail(format!("joinRoom refused: {reply}")),
            Err(e) => counters.fail(format!("joinRoom: {e}")),
        }
        for n in 0..SENDS_PER_CONNECTION {
            let send = serde_json::json!({
                "room": room,
                "content": format!("soak {client}/{cycle}/{n}"),
                "clientId": format!("soak-{tag}-{client}-{cycle}-{n}"),
            });
            match sio::call(&mut ws, 2 + n, "sendMessage", &send).await {
                Ok(reply) if reply["ok"] == true => {
                    counters.acked.fetch_add(1, Ordering::Relaxed);
                }
                Ok(reply) => counters.fail(format!("sendMessage refused: {reply}")),
                Err(e) => counters.fail(format!("sendMessage: {e}")),
            }
        }
        // Gone without a goodbye, like a closed tab or a lost network.
        let _ = ws.close(None).await;
        counters.cycles.fetch_add(1, Ordering::Relaxed);
    }
}

/// Medians of the second quarter and of the last quarter of the samples.
fn windows(samples: &[(f64, u64)]) -> (u64, u64) {
    let n = samples.len();
    let median = |range: &[(f64, u64)]| {
        let mut v: Vec<u64> = range.iter().map(|s| s.1).collect();
        v.sort_unstable();
        v.get(v.len() / 2).copied().unwrap_or(0)
    };
    if n < 4 {
        let last = samples.last().map_or(0, |s| s.1);
        return (samples.first().map_or(0, |s| s.1), last);
    }
    (
        median(&samples[n / 4..n / 2]),
        median(&samples[n - n / 4..]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(kib: &[u64]) -> Vec<(f64, u64)> {
        kib.iter()
            .enumerate()
            .map(|(i, &k)| (i as f64, k))
            .collect()
    }

    #[test]
    fn a_flat_run_after_warm_up_has_no_growth() {
        let s = series(&[100, 400, 500, 510, 505, 500, 495, 505]);
        let (settled, last) = windows(&s);
        assert_eq!(settled, 510);
        assert_eq!(last, 505);
    }

    #[test]
    fn a_leak_shows_as_growth_between_the_windows() {
        let s = series(&[100, 200, 300, 400, 500, 600, 700, 800]);
        let (settled, last) = windows(&s);
        assert!(last - settled >= 300, "{settled} → {last}");
    }

    #[test]
    fn one_spike_does_not_decide() {
        let s = series(&[100, 500, 500, 500, 500, 500, 500, 500, 500, 500, 5000, 500]);
        assert_eq!(windows(&s), (500, 500));
    }
}
