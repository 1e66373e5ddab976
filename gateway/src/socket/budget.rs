//! The per-socket event budget (PROTOCOL.md § Limits, events per socket):
//! every client event of a socket, whatever its name, spends one token of
//! the socket's own bucket; an empty bucket means `RATE_LIMITED`, and a
//! socket that keeps being refused for `events_flood_disconnect` without a
//! pause is disconnected. The bucket is [`LocalBuckets`], the same GCRA the
//! per-user sending rate uses; it lives in the socket's extensions and goes
//! with the socket.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::config::Limits;

use super::buckets::LocalBuckets;
use super::gcra::Rate;

/// A socket whose last refusal is older than this has stopped flooding.
const PAUSE: Duration = Duration::from_secs(1);
/// The one key of a socket's own bucket.
const KEY: &str = "";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Admit,
    Refuse,
    /// Refused, and over budget for too long: disconnect.
    Disconnect,
}

pub struct EventBudget {
    bucket: LocalBuckets,
    disconnect_after: Duration,
    /// `(first, last)` refusal of the current run of refusals.
    flood: Mutex<Option<(Instant, Instant)>>,
}

impl EventBudget {
    pub fn new(limits: &Limits) -> Self {
        Self {
            bucket: LocalBuckets::new(Rate {
                per_sec: limits.events_per_sec,
                burst: limits.events_burst,
            }),
            disconnect_after: limits.events_flood_disconnect,
            flood: Mutex::default(),
        }
    }

    pub fn admit(&self) -> Verdict {
        self.admit_at(Instant::now())
    }

    fn admit_at(&self, now: Instant) -> Verdict {
        if self.bucket.take_at(KEY, now) {
            return Verdict::Admit;
        }
        let mut flood = self.flood.lock().unwrap_or_else(PoisonError::into_inner);
        let first = match *flood {
            Some((first, last)) if now.saturating_duration_since(last) < PAUSE => first,
            _ => now,
        };
        *flood = Some((first, now));
        if now.saturating_duration_since(first) >= self.disconnect_after {
            Verdict::Disconnect
        } else {
            Verdict::Refuse
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget() -> EventBudget {
        EventBudget::new(&Limits::default())
    }

    #[test]
    fn a_burst_of_100_then_50_a_second() {
        let b = budget();
        let t0 = Instant::now();
        assert!((0..100).all(|_| b.admit_at(t0) == Verdict::Admit));
        assert_eq!(b.admit_at(t0), Verdict::Refuse);
        let t1 = t0 + Duration::from_secs(1);
        let admitted = (0..100)
            .filter(|_| b.admit_at(t1) == Verdict::Admit)
            .count();
        assert_eq!(admitted, 50);
    }

    #[test]
    fn ten_seconds_of_refusals_disconnect_a_pause_forgives() {
        let b = budget();
        let t0 = Instant::now();
        (0..100).for_each(|_| {
            b.admit_at(t0);
        });
        // Flooding at 1000 events a second: some get through as tokens come
        // back, the rest are refused, and the run of refusals never pauses.
        let mut verdict = Verdict::Admit;
        let mut t = t0;
        while t < t0 + Duration::from_millis(9_990) {
            t += Duration::from_millis(1);
            verdict = b.admit_at(t);
            assert_ne!(verdict, Verdict::Disconnect, "at {:?}", t - t0);
        }
        while verdict != Verdict::Disconnect {
            t += Duration::from_millis(1);
            verdict = b.admit_at(t);
        }
        assert!(t - t0 <= Duration::from_millis(10_100), "{:?}", t - t0);

        // Another socket that pauses for a second after each refusal is
        // never disconnected.
        let b = budget();
        (0..100).for_each(|_| {
            b.admit_at(t0);
        });
        for s in 0..30 {
            let t = t0 + Duration::from_millis(1_500 * s);
            while b.admit_at(t) == Verdict::Admit {}
            assert_eq!(b.admit_at(t), Verdict::Refuse);
        }
    }
}
