//! One room member of the fan-out and ramp scenarios: a task owning its
//! socket that sends on a schedule, counts every delivery, times the
//! deliveries it receives when it is a sampled receiver, and answers pings.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use tokio::sync::watch;
use tokio::time::sleep_until;
use tokio_tungstenite::tungstenite::Message;

use crate::sio::{self, Frame, Ws};
use crate::stats;

/// What every member is told to do; changed by the scenario's coordinator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Phase {
    /// Send one message per interval (each member has its own phase offset).
    Send(Duration),
    /// Stop sending, keep receiving.
    Drain,
    /// Return.
    Quit,
}

/// Totals shared by every member; atomics and rarely-contended locks, since
/// the generator runs on one or two threads.
pub struct Counters {
    pub epoch: Instant,
    pub sent: AtomicU64,
    pub acked: AtomicU64,
    pub refused: AtomicU64,
    pub delivered: AtomicU64,
    pub closed: AtomicU64,
    pub latency: Mutex<Histogram<u64>>,
    pub ack_latency: Mutex<Histogram<u64>>,
    pub errors: Mutex<BTreeMap<String, u64>>,
}

impl Default for Counters {
    fn default() -> Self {
        Self::new()
    }
}

impl Counters {
    pub fn new() -> Counters {
        Counters {
            epoch: Instant::now(),
            sent: AtomicU64::new(0),
            acked: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            closed: AtomicU64::new(0),
            latency: Mutex::new(stats::histogram()),
            ack_latency: Mutex::new(stats::histogram()),
            errors: Mutex::new(BTreeMap::new()),
        }
    }

    fn now_us(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }

    fn record(&self, hist: &Mutex<Histogram<u64>>, sent_us: u64) {
        let took = self.now_us().saturating_sub(sent_us).max(1);
        if let Ok(mut h) = hist.lock() {
            h.saturating_record(took);
        }
    }

    pub fn error(&self, what: String) {
        if let Ok(mut errors) = self.errors.lock() {
            *errors.entry(what).or_default() += 1;
        }
    }
}

pub struct Member {
    pub room: usize,
    pub slot: usize,
    pub room_name: String,
    /// Times the deliveries it receives.
    pub sampled: bool,
    /// Makes client ids unique per user across scenarios.
    pub tag: String,
}

/// What a member hands back: its acknowledged sends.
pub struct Outcome {
    pub room: usize,
    pub slot: usize,
    /// `(clientId, message id)` of every acknowledged send.
    pub acked: Vec<(String, String)>,
}

/// The send time is the client id's last dot-separated field, so any
/// receiver can time a delivery without shared state.
pub fn client_id(tag: &str, room: usize, slot: usize, seq: u64, sent_us: u64) -> String {
    format!("{tag}.{room}.{slot}.{seq}.{sent_us}")
}

/// The `clientId` value inside a message's JSON, found without parsing it.
pub fn find_client_id(json: &str) -> Option<&str> {
    const KEY: &str = "\"clientId\":\"";
    let start = json.find(KEY)? + KEY.len();
    let len = json[start..].find('"')?;
    Some(&json[start..start + len])
}

fn sent_us_of(client_id: &str) -> Option<u64> {
    client_id.rsplit('.').next()?.parse().ok()
}

/// A fraction in [0, 1) spreading members' send times over the interval.
fn offset(room: usize, slot: usize) -> f64 {
    ((room * 7919 + slot * 104_729) % 1000) as f64 / 1000.0
}

pub async fn run(
    mut ws: Ws,
    m: Member,
    mut phase: watch::Receiver<Phase>,
    c: std::sync::Arc<Counters>,
) -> Outcome {
    let mut acked = Vec::new();
    let mut interval = None;
    let mut next = Instant::now();
    let mut seq = 0u64;
    let mut alive = true;
    while alive {
        let timer = async {
            match interval {
                Some(_) => sleep_until(next.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            frame = ws.next() => {
                let text = match frame {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => { c.error(format!("socket: {e}")); break }
                    None => { c.closed.fetch_add(1, Ordering::Relaxed); break }
                };
                match sio::decode(&text) {
                    Frame::Event { name: "message", args } => {
                        c.delivered.fetch_add(1, Ordering::Relaxed);
                        if m.sampled && let Some(t) = find_client_id(args).and_then(sent_us_of) {
                            c.record(&c.latency, t);
                        }
                    }
                    Frame::Ack { args, .. } => on_ack(args, &c, &mut acked),
                    Frame::Ping => alive = ws.send(Message::text(sio::PONG)).await.is_ok(),
                    Frame::Closed => { c.closed.fetch_add(1, Ordering::Relaxed); break }
                    _ => {}
                }
            }
            changed = phase.changed() => {
                let now = *phase.borrow_and_update();
                match (changed, now) {
                    (Ok(()), Phase::Send(every)) => {
                        interval = Some(every);
                        next = Instant::now() + every.mul_f64(offset(m.room, m.slot));
                    }
                    (Ok(()), Phase::Drain) => interval = None,
                    _ => break,
                }
            }
            () = timer => {
                let Some(every) = interval else { continue };
                seq += 1;
                let sent_us = c.now_us();
                let data = serde_json::json!({
                    "room": m.room_name,
                    "content": format!("bench message {seq} from slot {}", m.slot),
                    "clientId": client_id(&m.tag, m.room, m.slot, seq, sent_us),
                });
                if ws.send(Message::text(sio::event_packet("sendMessage", Some(seq), &data))).await.is_err() {
                    c.error("socket: send failed".into());
                    break;
                }
                c.sent.fetch_add(1, Ordering::Relaxed);
                // Open loop: keep the schedule, but after a stall of more
                // than one interval skip the backlog instead of bursting it
                // (the achieved rate is reported next to the target).
                let now = Instant::now();
                next += every;
                if next + every < now {
                    next = now;
                }
            }
        }
    }
    Outcome {
        room: m.room,
        slot: m.slot,
        acked,
    }
}

#[derive(serde::Deserialize)]
struct AckReply {
    ok: bool,
    message: Option<AckedMessage>,
    error: Option<AckError>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct AckedMessage {
    id: String,
    client_id: Option<String>,
}

#[derive(serde::Deserialize)]
struct AckError {
    code: String,
}

fn on_ack(args: &str, c: &Counters, acked: &mut Vec<(String, String)>) {
    let reply: Result<(AckReply,), _> = serde_json::from_str(args);
    match reply {
        Ok((AckReply {
            ok: true,
            message:
                Some(AckedMessage {
                    id,
                    client_id: Some(client_id),
                }),
            ..
        },)) => {
            c.acked.fetch_add(1, Ordering::Relaxed);
            if let Some(t) = sent_us_of(&client_id) {
                c.record(&c.ack_latency, t);
            }
            acked.push((client_id, id));
        }
        Ok((reply,)) => {
            c.refused.fetch_add(1, Ordering::Relaxed);
            let code = reply
                .error
                .map_or_else(|| "ok without a message".into(), |e| e.code);
            c.error(format!("sendMessage: {code}"));
        }
        Err(e) => {
            c.refused.fetch_add(1, Ordering::Relaxed);
            c.error(format!("sendMessage: unreadable ack ({e})"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_carry_their_send_time() {
        let id = client_id("fanout-1", 3, 7, 42, 123_456);
        assert_eq!(id, "fanout-1.3.7.42.123456");
        assert_eq!(sent_us_of(&id), Some(123_456));
    }

    #[test]
    fn finds_the_client_id_in_a_message() {
        let json = r#"["message",{"id":"9","room":"r","content":"x","clientId":"t.0.1.2.99","deleted":false}]"#;
        assert_eq!(find_client_id(json), Some("t.0.1.2.99"));
        assert_eq!(find_client_id(r#"["message",{"clientId":null}]"#), None);
    }

    #[test]
    fn counts_acks_and_refusals() {
        let c = Counters::new();
        let mut acked = Vec::new();
        on_ack(
            r#"[{"ok":true,"message":{"id":"m1","clientId":"t.0.0.1.5"}}]"#,
            &c,
            &mut acked,
        );
        on_ack(
            r#"[{"ok":false,"error":{"code":"RATE_LIMITED","message":"slow down"}}]"#,
            &c,
            &mut acked,
        );
        on_ack("not json", &c, &mut acked);
        assert_eq!(acked, vec![("t.0.0.1.5".to_string(), "m1".to_string())]);
        assert_eq!(c.acked.load(Ordering::Relaxed), 1);
        assert_eq!(c.refused.load(Ordering::Relaxed), 2);
        assert_eq!(
            c.errors.lock().unwrap().get("sendMessage: RATE_LIMITED"),
            Some(&1)
        );
    }

    #[test]
    fn offsets_spread_over_the_interval() {
        let offsets: std::collections::BTreeSet<u64> =
            (0..10).map(|s| (offset(0, s) * 1000.0) as u64).collect();
        assert_eq!(offsets.len(), 10);
        assert!(offsets.iter().all(|&o| o < 1000));
    }
}
