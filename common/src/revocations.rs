//! Ended sessions this process knows of (PROTOCOL.md § Sessions): the
//! access tokens of an ended session are refused at once (on the gateway's
//! HTTP and handshakes, and by every service's gRPC caller check), although
//! their signature and expiry are still good. The check is a lookup in this
//! process's memory, so it costs no round trip.
//!
//! An ended session is kept for as long as one of its access tokens could
//! still be valid (the access-token lifetime the auth service announces,
//! plus the verifier's leeway), then forgotten: by then its tokens have
//! expired anyway. How a gateway node learns of endings: [`Revocations::announce`]
//! for those it causes, Redis pub/sub for those of other nodes, and
//! `crate::session_sync` (a catch-up from the auth service) for the rest;
//! the services use the catch-up alone.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// One session ending, as announced by the auth service.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Ending {
    pub session_id: String,
    pub user_id: String,
    pub reason: String,
    /// Unix milliseconds.
    pub ended_at_ms: i64,
}

type Acting = Arc<dyn Fn(&[Ending]) + Send + Sync>;
type Publisher = tokio::sync::mpsc::UnboundedSender<Vec<Ending>>;

#[derive(Clone, Default)]
pub struct Revocations {
    ended: Arc<RwLock<HashMap<String, Instant>>>,
    /// How long an ending is remembered.
    keep: Arc<RwLock<Duration>>,
    /// What happens to the sockets of ended sessions; set by the socket layer.
    on_end: Arc<RwLock<Option<Acting>>>,
    /// Where endings learned here are told to the other nodes (Redis).
    publish: Arc<RwLock<Option<Publisher>>>,
}

impl Revocations {
    pub fn is_ended(&self, sid: &str) -> bool {
        self.ended
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(sid)
            .is_some_and(|until| *until > Instant::now())
    }

    /// How long endings are kept: the access-token lifetime plus slack.
    pub fn set_keep(&self, keep: Duration) {
        *self.keep.write().unwrap_or_else(|p| p.into_inner()) = keep;
    }

    /// Called with the endings this node has not seen before.
    pub fn on_end(&self, act: impl Fn(&[Ending]) + Send + Sync + 'static) {
        *self.on_end.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(act));
    }

    pub fn set_publisher(&self, tx: Publisher) {
        *self.publish.write().unwrap_or_else(|p| p.into_inner()) = Some(tx);
    }

    /// Endings this node caused (a logout through its HTTP API): recorded
    /// and acted on here, and told to every other node.
    pub fn announce(&self, endings: Vec<Ending>) {
        if endings.is_empty() {
            return;
        }
        self.record(&endings);
        let tx = self
            .publish
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(tx) = tx
            && tx.send(endings).is_err()
        {
            tracing::warn!("session endings could not be handed to the Redis publisher");
        }
    }

    /// Records endings and acts on the new ones; returns how many were new.
    pub fn record(&self, endings: &[Ending]) -> usize {
        let keep = *self.keep.read().unwrap_or_else(|p| p.into_inner());
        let keep = keep.max(Duration::from_secs(60));
        let until = Instant::now() + keep;
        let fresh: Vec<Ending> = {
            let mut ended = self.ended.write().unwrap_or_else(|p| p.into_inner());
            endings
                .iter()
                .filter(|e| ended.insert(e.session_id.clone(), until).is_none())
                .cloned()
                .collect()
        };
        if !fresh.is_empty() {
            let act = self
                .on_end
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            if let Some(act) = act {
                act(&fresh);
            }
        }
        fresh.len()
    }

    /// Forgets endings whose tokens have all expired.
    pub fn sweep(&self) {
        let now = Instant::now();
        self.ended
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, until| *until > now);
    }

    pub fn len(&self) -> usize {
        self.ended.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn ending(sid: &str) -> Ending {
        Ending {
            session_id: sid.into(),
            user_id: "u1".into(),
            reason: "logout".into(),
            ended_at_ms: 1,
        }
    }

    #[test]
    fn ended_sessions_are_refused_and_acted_on_once() {
        let r = Revocations::default();
        let acted = Arc::new(AtomicUsize::new(0));
        let seen = acted.clone();
        r.on_end(move |e| {
            seen.fetch_add(e.len(), Ordering::SeqCst);
        });
        assert!(!r.is_ended("s1"));
        assert_eq!(r.record(&[ending("s1")]), 1);
        assert!(r.is_ended("s1"));
        assert!(!r.is_ended("s2"));
        // Heard again (from Redis and from the catch-up): no second action.
        assert_eq!(r.record(&[ending("s1"), ending("s2")]), 1);
        assert_eq!(acted.load(Ordering::SeqCst), 2);
        assert!(r.is_ended("s2"));
    }

    #[test]
    fn sweep_keeps_what_may_still_be_valid() {
        let r = Revocations::default();
        r.set_keep(Duration::from_secs(900));
        r.record(&[ending("s1")]);
        r.sweep();
        assert_eq!(r.len(), 1);
        assert!(r.is_ended("s1"));
    }
}
