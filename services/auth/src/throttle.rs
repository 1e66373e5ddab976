//! Failed logins per username (PROTOCOL.md § Limits): past
//! `LOGIN_MAX_FAILURES` in `LOGIN_FAILURE_WINDOW_SECS`, a login for that name
//! is refused before any password is checked, until the oldest failure
//! leaves the window; a success clears the name's count.
//!
//! Counted here, in the auth service, because every login of every gateway
//! node passes through it: the count spans nodes without Redis, and a
//! throttled attempt never reaches the hashing queue. (Replicas of the auth
//! service would each count their own share; the deployment runs one.)
//! A sliding log of at most `max` instants per name is kept rather than a
//! rate-limiter crate's bucket, since the rule needs a "peek" before the
//! attempt, counting failures only, and a reset on success, which
//! `governor`'s keyed limiters do not offer.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::Error;

#[derive(Clone)]
pub struct LoginThrottle {
    max: usize,
    window_ms: i64,
    failures: Arc<Mutex<HashMap<String, VecDeque<i64>>>>,
}

impl LoginThrottle {
    pub fn new(max: usize, window: Duration) -> LoginThrottle {
        LoginThrottle {
            max: max.max(1),
            window_ms: i64::try_from(window.as_millis()).unwrap_or(i64::MAX),
            failures: Arc::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<i64>>> {
        self.failures.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `Err(Throttled)` while `key` has `max` failures in the window.
    pub fn check(&self, key: &str, now_ms: i64) -> Result<(), Error> {
        let mut map = self.lock();
        let Some(log) = map.get_mut(key) else {
            return Ok(());
        };
        let since = now_ms.saturating_sub(self.window_ms);
        while log.front().is_some_and(|&t| t <= since) {
            log.pop_front();
        }
        match log.front() {
            Some(&oldest) if log.len() >= self.max => {
                let wait_ms = oldest.saturating_add(self.window_ms) - now_ms;
                let secs = u64::try_from(wait_ms).unwrap_or(0).div_ceil(1000).max(1);
                Err(Error::Throttled {
                    retry_after_secs: secs,
                })
            }
            None => {
                map.remove(key);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    pub fn failed(&self, key: &str, now_ms: i64) {
        let mut map = self.lock();
        let log = map.entry(key.to_owned()).or_default();
        log.push_back(now_ms);
        while log.len() > self.max {
            log.pop_front();
        }
    }

    pub fn succeeded(&self, key: &str) {
        self.lock().remove(key);
    }

    /// Forgets names whose failures all left the window, so memory follows
    /// recent attempts only.
    pub fn sweep(&self, now_ms: i64) {
        let since = now_ms.saturating_sub(self.window_ms);
        self.lock()
            .retain(|_, log| log.back().is_some_and(|&t| t > since));
    }

    pub fn spawn_sweeper(&self) {
        let this = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                this.sweep(chat_common::time::now_millis());
            }
        });
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retry(r: Result<(), Error>) -> Option<u64> {
        match r {
            Ok(()) => None,
            Err(Error::Throttled { retry_after_secs }) => Some(retry_after_secs),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn throttles_after_max_failures_until_the_window_moves() {
        let t = LoginThrottle::new(3, Duration::from_secs(60));
        for i in 0..3 {
            assert_eq!(retry(t.check("alice", 1_000 + i)), None);
            t.failed("alice", 1_000 + i);
        }
        assert_eq!(retry(t.check("alice", 2_000)), Some(59));
        // Another name is not affected.
        assert_eq!(retry(t.check("bob", 2_000)), None);
        // Once the oldest failure leaves the window, one more try is allowed.
        assert_eq!(retry(t.check("alice", 61_000)), None);
        t.failed("alice", 61_000);
        assert!(retry(t.check("alice", 61_000)).is_some());
    }

    #[test]
    fn success_clears_and_sweep_forgets() {
        let t = LoginThrottle::new(2, Duration::from_secs(60));
        t.failed("alice", 0);
        t.succeeded("alice");
        t.failed("alice", 1);
        assert_eq!(retry(t.check("alice", 2)), None);
        t.failed("bob", 0);
        t.sweep(60_001);
        assert_eq!(t.tracked(), 0);
    }
}
