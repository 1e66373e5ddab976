//! Per-key token buckets held by this node: the generic cell rate algorithm,
//! the same arithmetic as the Redis script in `gcra.rs`, so a user is
//! limited alike with and without Redis.
//!
//! Not `governor`: a send takes its token before it knows whether it is a
//! resend of a stored `clientId` (finding out costs a round trip to the
//! message service), and a resend must cost nothing, so a spent token has
//! to be given back. `governor` has no way to return one.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::gcra::Rate;

pub struct LocalBuckets {
    interval: Duration,
    /// How far ahead of now a bucket's TAT may run: `burst` intervals.
    tolerance: Duration,
    /// Per key, the instant the bucket is full again (its "theoretical
    /// arrival time"). A key whose TAT has passed holds a full bucket and
    /// may be forgotten.
    tats: Mutex<HashMap<String, Instant>>,
}

impl LocalBuckets {
    pub fn new(rate: Rate) -> Self {
        let interval = rate.interval();
        Self {
            interval,
            tolerance: interval * rate.burst.max(1),
            tats: Mutex::default(),
        }
    }

    /// Spends one token of `key`; `false` (and nothing spent) when empty.
    pub fn take(&self, key: &str) -> bool {
        self.take_at(key, Instant::now())
    }

    /// Gives back one token spent by [`take`](Self::take).
    pub fn refund(&self, key: &str) {
        self.refund_at(key, Instant::now());
    }

    /// Forgets keys whose buckets are full again, so memory follows the
    /// active users rather than every user ever seen.
    pub fn forget_full(&self) {
        let now = Instant::now();
        let mut tats = self.tats.lock().unwrap_or_else(PoisonError::into_inner);
        tats.retain(|_, tat| *tat > now);
        tats.shrink_to_fit();
    }

    pub(super) fn take_at(&self, key: &str, now: Instant) -> bool {
        let mut tats = self.tats.lock().unwrap_or_else(PoisonError::into_inner);
        let tat = tats.get(key).copied().unwrap_or(now).max(now);
        let new_tat = tat + self.interval;
        if new_tat - now > self.tolerance {
            return false;
        }
        match tats.get_mut(key) {
            Some(t) => *t = new_tat,
            None => {
                tats.insert(key.to_string(), new_tat);
            }
        }
        true
    }

    fn refund_at(&self, key: &str, now: Instant) {
        let mut tats = self.tats.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(tat) = tats.get_mut(key) {
            // Never below now: a bucket cannot hold more than it is full.
            *tat = tat.checked_sub(self.interval).unwrap_or(now).max(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buckets(per_sec: u32, burst: u32) -> LocalBuckets {
        LocalBuckets::new(Rate { per_sec, burst })
    }

    #[test]
    fn bursts_then_refuses_then_refills_at_the_rate() {
        let b = buckets(10, 20);
        let t0 = Instant::now();
        assert!((0..20).all(|_| b.take_at("alice", t0)));
        assert!(!b.take_at("alice", t0));
        // A refused take spends nothing: 100 ms later exactly one is back.
        let t1 = t0 + Duration::from_millis(100);
        assert!(b.take_at("alice", t1));
        assert!(!b.take_at("alice", t1));
        // Each key is a bucket of its own.
        assert!(b.take_at("bob", t1));
        // After two seconds the bucket is full again: 20, not more.
        let t2 = t1 + Duration::from_secs(2);
        assert_eq!((0..30).filter(|_| b.take_at("alice", t2)).count(), 20);
    }

    #[test]
    fn a_refund_gives_one_token_back_and_never_more_than_full() {
        let b = buckets(1, 2);
        let t0 = Instant::now();
        assert!(b.take_at("carol", t0));
        assert!(b.take_at("carol", t0));
        assert!(!b.take_at("carol", t0));
        b.refund_at("carol", t0);
        assert!(b.take_at("carol", t0));
        assert!(!b.take_at("carol", t0));
        // Refunds on a full bucket do not raise it past the burst.
        let later = t0 + Duration::from_secs(10);
        b.refund_at("carol", later);
        b.refund_at("carol", later);
        b.refund_at("dave", later);
        assert_eq!((0..5).filter(|_| b.take_at("carol", later)).count(), 2);
    }

    #[test]
    fn full_buckets_are_forgotten() {
        let b = buckets(1000, 1);
        assert!(b.take("erin"));
        std::thread::sleep(Duration::from_millis(5));
        b.forget_full();
        assert!(b.tats.lock().unwrap().is_empty());
        assert!(b.take("erin"));
    }
}
