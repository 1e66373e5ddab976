//! The room load behind fan-out and ramp: R rooms × U members, every member
//! sending and receiving; the total send rate follows a list of steps.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::dial::Dialer;
use crate::error::Error;
use crate::member::{self, Counters, Member, Outcome, Phase};
use crate::progress;
use crate::sio;
use crate::stats::Latency;
use crate::verify::{self, Check};

pub struct Plan {
    /// Distinguishes room names and client ids of one scenario from another's.
    pub tag: String,
    pub rooms: usize,
    pub users_per_room: usize,
    pub sampled_per_room: usize,
    /// Total send rates (messages/s over all members), in order.
    pub steps: Vec<f64>,
    pub step_secs: u64,
    /// Leading part of each step left out of its figures.
    pub warmup: Duration,
    /// A step holds when its p99 is within this (ms).
    pub p99_bound_ms: Option<f64>,
    /// Stop after the first step that does not keep up or whose p99
    /// exceeds this (ms); `None`: run every step.
    pub stop_p99_ms: Option<f64>,
    pub connect_concurrency: usize,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Step {
    pub target_rate: f64,
    pub sent_per_sec: f64,
    pub acked_per_sec: f64,
    pub delivered_per_sec: f64,
    /// Deliveries seen ÷ deliveries owed for the sends of the step.
    pub delivery_ratio: f64,
    pub latency: Latency,
    pub ack_latency: Latency,
    /// Kept up and p99 within the bound.
    pub held: bool,
    /// Sent ≥ 90 % of the target and ≥ 95 % of the owed deliveries arrived.
    pub kept_up: bool,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Outcomes {
    pub connections: usize,
    pub steps: Vec<Step>,
    pub sent: u64,
    pub acked: u64,
    pub refused: u64,
    /// Sends never answered, even after draining.
    pub unanswered: u64,
    pub delivered: u64,
    /// Member sockets the server closed (e.g. a full outgoing buffer).
    pub closed_by_server: u64,
    pub errors: std::collections::BTreeMap<String, u64>,
    pub history: Check,
    pub server_cpu_secs: f64,
    /// Instructions the server executed over the steps and the drain, under
    /// `--callgrind`.
    pub server_instructions: Option<u64>,
}

/// What the scenario reads of the server around its measured window (the
/// steps and the drain that follows them).
pub trait Meter {
    fn cpu_secs(&self) -> f64;
    fn start_counting(&self) -> Result<(), Error>;
    fn stop_counting(&self) -> Result<Option<u64>, Error>;
}

/// A step holds when its p99 is within the bound and the system kept up.
fn kept_up(step: &Step) -> bool {
    step.sent_per_sec >= 0.9 * step.target_rate
        && step.delivery_ratio >= 0.95
        && step.latency.samples > 0
}

fn within(step: &Step, bound_ms: Option<f64>) -> bool {
    bound_ms.is_none_or(|b| step.latency.p99_ms <= b)
}

pub async fn run(dialer: &Dialer, plan: &Plan, meter: &impl Meter) -> Result<Outcomes, Error> {
    let members = plan.rooms * plan.users_per_room;
    let counters = Arc::new(Counters::new());
    let (phase_tx, phase_rx) = watch::channel(Phase::Drain);
    let mut tasks = JoinSet::new();

    let bar = progress::counter(members as u64, &format!("{}: joining", plan.tag));
    let mut joined = futures::stream::iter(0..members)
        .map(|i| {
            let (room, slot) = (i / plan.users_per_room, i % plan.users_per_room);
            let room_name = format!("{}-{room}", plan.tag);
            async move {
                // Slot s is user s in every room, so users ≥ users_per_room
                // keeps each room's members distinct people.
                let mut ws = dialer.dial(i, slot).await?;
                let reply = sio::call(
                    &mut ws,
                    0,
                    "joinRoom",
                    &serde_json::json!({ "room": room_name, "limit": 1 }),
                )
                .await?;
                if reply["ok"] != serde_json::Value::Bool(true) {
                    return Err(Error::Server(format!(
                        "joinRoom {room_name} refused: {reply}"
                    )));
                }
                Ok((ws, room, slot, room_name))
            }
        })
        .buffer_unordered(plan.connect_concurrency.max(1));
    while let Some(result) = joined.next().await {
        let (ws, room, slot, room_name) = result?;
        let m = Member {
            room,
            slot,
            room_name,
            sampled: slot < plan.sampled_per_room,
            tag: plan.tag.clone(),
        };
        tasks.spawn(member::run(ws, m, phase_rx.clone(), counters.clone()));
        bar.inc(1);
    }
    bar.finish_and_clear();

    meter.start_counting()?;
    let cpu_start = meter.cpu_secs();
    let mut out = Outcomes {
        connections: members,
        ..Outcomes::default()
    };
    for (n, &rate) in plan.steps.iter().enumerate() {
        let step = run_step(plan, n, rate, members, &counters, &phase_tx).await;
        let kept_up = kept_up(&step);
        let held = kept_up && within(&step, plan.p99_bound_ms);
        eprintln!(
            "  {} step {}: target {:.0}/s sent {:.0}/s delivered {:.0}/s ({:.0} %) p99 {:.1} ms{}",
            plan.tag,
            n + 1,
            rate,
            step.sent_per_sec,
            step.delivered_per_sec,
            step.delivery_ratio * 100.0,
            step.latency.p99_ms,
            match (held, kept_up) {
                (true, _) => "",
                (false, true) => "  <- p99 over the bound",
                (false, false) => "  <- not keeping up",
            }
        );
        let stop = plan.stop_p99_ms.is_some() && !(kept_up && within(&step, plan.stop_p99_ms));
        out.steps.push(Step {
            held,
            kept_up,
            ..step
        });
        if stop {
            break;
        }
    }
    drain(&counters, &phase_tx).await;
    out.server_cpu_secs = meter.cpu_secs() - cpu_start;
    out.server_instructions = meter.stop_counting()?;
    let _ = phase_tx.send(Phase::Quit);
    let mut outcomes = Vec::with_capacity(members);
    while let Some(done) = tasks.join_next().await {
        outcomes.push(done.map_err(|e| Error::Server(format!("member task failed: {e}")))?);
    }
    out.sent = counters.sent.load(Ordering::Relaxed);
    out.acked = counters.acked.load(Ordering::Relaxed);
    out.refused = counters.refused.load(Ordering::Relaxed);
    out.unanswered = out.sent.saturating_sub(out.acked + out.refused);
    out.delivered = counters.delivered.load(Ordering::Relaxed);
    out.errors = counters
        .errors
        .lock()
        .map(|e| e.clone())
        .unwrap_or_default();
    out.closed_by_server = counters.closed.load(Ordering::Relaxed);
    out.history = check_history(dialer, plan, outcomes).await?;
    Ok(out)
}

async fn run_step(
    plan: &Plan,
    n: usize,
    rate: f64,
    members: usize,
    c: &Counters,
    phase: &watch::Sender<Phase>,
) -> Step {
    let every = Duration::from_secs_f64(members as f64 / rate.max(0.001));
    let _ = phase.send(Phase::Send(every));
    tokio::time::sleep(plan.warmup).await;
    let snapshot = |c: &Counters| {
        (
            c.sent.load(Ordering::Relaxed),
            c.acked.load(Ordering::Relaxed),
            c.delivered.load(Ordering::Relaxed),
        )
    };
    for h in [&c.latency, &c.ack_latency] {
        if let Ok(mut h) = h.lock() {
            h.reset();
        }
    }
    let (s0, a0, d0) = snapshot(c);
    let started = Instant::now();
    let measured = plan.step_secs.saturating_sub(plan.warmup.as_secs()).max(1);
    let bar = progress::timer(
        measured,
        &format!("{} step {} @ {rate:.0}/s", plan.tag, n + 1),
    );
    for second in 1..=measured {
        tokio::time::sleep_until((started + Duration::from_secs(second)).into()).await;
        let (s, _, d) = snapshot(c);
        let t = started.elapsed().as_secs_f64();
        bar.set_position(second);
        bar.set_message(format!(
            "sent {:.0}/s delivered {:.0}/s",
            (s - s0) as f64 / t,
            (d - d0) as f64 / t
        ));
    }
    bar.finish_and_clear();
    let (s1, a1, d1) = snapshot(c);
    let secs = started.elapsed().as_secs_f64();
    let latency = c
        .latency
        .lock()
        .map(|h| Latency::of(&h))
        .unwrap_or_default();
    let ack_latency = c
        .ack_latency
        .lock()
        .map(|h| Latency::of(&h))
        .unwrap_or_default();
    let owed = (s1 - s0) * plan.users_per_room as u64;
    Step {
        target_rate: rate,
        sent_per_sec: (s1 - s0) as f64 / secs,
        acked_per_sec: (a1 - a0) as f64 / secs,
        delivered_per_sec: (d1 - d0) as f64 / secs,
        delivery_ratio: if owed == 0 {
            0.0
        } else {
            (d1 - d0) as f64 / owed as f64
        },
        latency,
        ack_latency,
        held: false,
        kept_up: false,
    }
}

/// Stops sending and waits until every send is answered and deliveries
/// stop arriving (or 30 s pass: an overloaded server may never catch up).
async fn drain(c: &Counters, phase: &watch::Sender<Phase>) {
    let _ = phase.send(Phase::Drain);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = u64::MAX;
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let answered = c.acked.load(Ordering::Relaxed) + c.refused.load(Ordering::Relaxed);
        let delivered = c.delivered.load(Ordering::Relaxed);
        let settled = std::mem::replace(&mut last, delivered) == delivered;
        if answered >= c.sent.load(Ordering::Relaxed) && settled {
            break;
        }
    }
}

/// One fresh socket per room reads the history: a member's own socket may
/// have been closed by an overloaded server.
async fn check_history(
    dialer: &Dialer,
    plan: &Plan,
    outcomes: Vec<Outcome>,
) -> Result<Check, Error> {
    let mut acked: Vec<Vec<(String, String)>> = vec![Vec::new(); plan.rooms];
    for o in outcomes {
        acked[o.room].extend(o.acked);
    }
    let bar = progress::counter(
        plan.rooms as u64,
        &format!("{}: checking history", plan.tag),
    );
    let mut total = Check::default();
    for (room, acked) in acked.iter().enumerate() {
        let name = format!("{}-{room}", plan.tag);
        let mut ws = dialer.dial(room, 0).await?;
        let reply = sio::call(
            &mut ws,
            1,
            "joinRoom",
            &serde_json::json!({ "room": name, "limit": 1 }),
        )
        .await?;
        if reply["ok"] != serde_json::Value::Bool(true) {
            return Err(Error::Server(format!("joinRoom {name} refused: {reply}")));
        }
        let stored = verify::stored(&mut ws, &name, 1).await?;
        total.add(&verify::compare(acked, &stored));
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(total)
}
