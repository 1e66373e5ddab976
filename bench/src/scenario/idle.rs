//! idle: hold N authenticated connections, each joined to a room, and read
//! what they cost the server in resident memory, and in CPU while nothing
//! but the Engine.IO heartbeat moves (PING_INTERVAL_MS decides how often).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;

use crate::dial::Dialer;
use crate::error::Error;
use crate::progress;
use crate::sio::{self, Frame, Ws};

/// Rooms the idle connections spread over.
const ROOMS: usize = 100;

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Idle {
    pub target: usize,
    /// Connected, joined and still open when memory was read.
    pub held: u64,
    pub failed: u64,
    pub connect_secs: f64,
    pub rss_before_kib: u64,
    pub rss_half_kib: u64,
    pub rss_after_kib: u64,
    /// (after − before) ÷ held.
    pub kib_per_connection: f64,
    /// (after − at half) ÷ the second half: what one more connection costs
    /// once start-up allocations and memory the allocator had cached (e.g.
    /// from password hashing at registration) are used up.
    pub marginal_kib_per_connection: f64,
    /// Server CPU time during the hold ÷ the hold, in percent of one core:
    /// the heartbeat's cost for `held` sockets.
    pub hold_cpu_percent: f64,
    /// From closing every connection until the server is quiet again
    /// (under 5 % of a core over half a second): what it does when
    /// `held` clients leave at once (departures, broadcasts, cleanup).
    pub teardown_secs: f64,
    pub first_error: Option<String>,
    /// Why the first connection that closed before the end closed.
    pub first_drop: Option<String>,
    /// The longest the generator's own runtime was late waking a timer,
    /// from the first connection to the end of the hold (ms): a generator
    /// seconds late answers pings late, near the server's ping timeout.
    pub generator_lag_ms: f64,
}

/// How to read the server's counters.
pub struct Probes<R, C> {
    pub rss_kib: R,
    pub cpu_secs: C,
}

pub async fn run(
    dialer: &Dialer,
    target: usize,
    concurrency: usize,
    hold: Duration,
    probes: Probes<impl Fn() -> Result<u64, Error>, impl Fn() -> Result<f64, Error>>,
) -> Result<Idle, Error> {
    let rss_kib = probes.rss_kib;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_before_kib = rss_kib()?;
    let (quit_tx, quit_rx) = watch::channel(false);
    let dropped = Arc::new(Dropped::default());
    let lag = tokio::spawn(generator_lag(quit_rx.clone()));
    let mut tasks = JoinSet::new();
    let mut out = Idle {
        target,
        rss_before_kib,
        ..Idle::default()
    };
    let bar = progress::counter(target as u64, "idle: connecting");
    let started = Instant::now();
    let mut opened = futures::stream::iter(0..target)
        .map(|i| async move {
            let mut ws = dialer.dial(i, i).await?;
            let room = format!("idle-{}", i % ROOMS);
            let reply = sio::call(
                &mut ws,
                1,
                "joinRoom",
                &serde_json::json!({ "room": room, "limit": 1 }),
            )
            .await?;
            if reply["ok"] != serde_json::Value::Bool(true) {
                return Err(Error::Server(format!("joinRoom refused: {reply}")));
            }
            Ok(ws)
        })
        .buffer_unordered(concurrency.max(1));
    let mut half_at = 0;
    while let Some(result) = opened.next().await {
        if half_at == 0 && tasks.len() >= target / 2 {
            half_at = tasks.len();
            out.rss_half_kib = rss_kib()?;
        }
        match result {
            Ok(ws) => {
                tasks.spawn(hold_open(ws, quit_rx.clone(), dropped.clone()));
            }
            Err(e) => {
                out.failed += 1;
                out.first_error.get_or_insert_with(|| e.to_string());
            }
        }
        bar.inc(1);
    }
    drop(opened);
    bar.finish_and_clear();
    out.connect_secs = started.elapsed().as_secs_f64();

    let bar = progress::timer(hold.as_secs(), &format!("idle: holding {}", tasks.len()));
    let cpu_before = (probes.cpu_secs)()?;
    let hold_started = Instant::now();
    for s in 1..=hold.as_secs() {
        tokio::time::sleep(Duration::from_secs(1)).await;
        bar.set_position(s);
    }
    let held_for = hold_started.elapsed().as_secs_f64();
    out.hold_cpu_percent = ((probes.cpu_secs)()? - cpu_before) / held_for.max(1e-9) * 100.0;
    bar.finish_and_clear();
    out.rss_after_kib = rss_kib()?;
    out.held = (tasks.len() as u64).saturating_sub(dropped.count.load(Ordering::Relaxed));
    out.first_drop = dropped.first.lock().ok().and_then(|first| first.clone());
    if out.held > 0 {
        out.kib_per_connection =
            out.rss_after_kib.saturating_sub(out.rss_before_kib) as f64 / out.held as f64;
    }
    let second_half = out.held.saturating_sub(half_at as u64);
    if half_at > 0 && second_half > 0 {
        out.marginal_kib_per_connection =
            out.rss_after_kib.saturating_sub(out.rss_half_kib) as f64 / second_half as f64;
    }
    let _ = quit_tx.send(true);
    out.generator_lag_ms = lag.await.unwrap_or_default().as_secs_f64() * 1000.0;
    while tasks.join_next().await.is_some() {}
    // The next scenario (the storm) measures handshakes, not this one's
    // departures: wait until the server has finished with them.
    out.teardown_secs = settle(&probes.cpu_secs).await?;
    Ok(out)
}

/// Quiet: under this share of a core over [`SETTLE_SAMPLE`].
const QUIET_CORE_SHARE: f64 = 0.05;
const SETTLE_SAMPLE: Duration = Duration::from_millis(500);
const SETTLE_MAX: Duration = Duration::from_secs(120);

/// Seconds until the server's CPU use falls below [`QUIET_CORE_SHARE`].
async fn settle(cpu_secs: &impl Fn() -> Result<f64, Error>) -> Result<f64, Error> {
    let started = Instant::now();
    let mut before = cpu_secs()?;
    while started.elapsed() < SETTLE_MAX {
        tokio::time::sleep(SETTLE_SAMPLE).await;
        let now = cpu_secs()?;
        if now - before < QUIET_CORE_SHARE * SETTLE_SAMPLE.as_secs_f64() {
            break;
        }
        before = now;
    }
    Ok(started.elapsed().as_secs_f64())
}

/// Connections that closed before the end, and why the first one did.
#[derive(Default)]
struct Dropped {
    count: AtomicU64,
    first: Mutex<Option<String>>,
}

impl Dropped {
    fn record(&self, why: String) {
        self.count.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut first) = self.first.lock() {
            first.get_or_insert(why);
        }
    }
}

/// How late a short timer fires on the generator's runtime, at worst,
/// until `quit`: a busy generator answers pings late.
async fn generator_lag(mut quit: watch::Receiver<bool>) -> Duration {
    const TICK: Duration = Duration::from_millis(50);
    let mut worst = Duration::ZERO;
    loop {
        let asked = Instant::now();
        tokio::select! {
            () = tokio::time::sleep(TICK) => {
                worst = worst.max(asked.elapsed().saturating_sub(TICK));
            }
            _ = quit.changed() => return worst,
        }
    }
}

/// Keeps a socket open: answers pings, ignores everything else.
async fn hold_open(mut ws: Ws, mut quit: watch::Receiver<bool>, dropped: Arc<Dropped>) {
    let mut last_ping: Option<Instant> = None;
    let why = loop {
        tokio::select! {
            frame = ws.next() => match frame {
                Some(Ok(Message::Text(text))) => match sio::decode(&text) {
                    Frame::Ping => {
                        let since = last_ping.replace(Instant::now()).map(|t| t.elapsed());
                        if let Err(e) = ws.send(Message::text(sio::PONG)).await {
                            break format!("answering a ping: {e} (the previous ping came {since:?} before)");
                        }
                    }
                    Frame::Closed => break format!("closed by the server: {text}"),
                    _ => {}
                },
                Some(Ok(Message::Close(frame))) => break format!("WebSocket close from the server: {frame:?}"),
                Some(Ok(_)) => {}
                Some(Err(e)) => break format!("reading: {e}"),
                None => break "the connection ended without a close".to_string(),
            },
            _ = quit.changed() => return,
        }
    };
    dropped.record(why);
}
