//! A socket lives no longer than its token (PROTOCOL.md § Sessions): at the
//! token's `exp`, unless `renewToken` moved it on, the socket gets
//! `sessionEnded {reason: "expired"}` and is disconnected.
//!
//! One sweeper task per node over an ordered map of the sockets' expiries,
//! not a sleeping task per socket: a task with its timer cost about 0.4 KiB
//! of every idle socket (bench/README.md § Memory per idle connection), an
//! entry in the map a few dozen bytes. An entry belongs to its socket's
//! [`Lease`] and goes when the lease is dropped with the socket, so
//! connection churn leaves nothing behind, whatever the tokens' lifetime.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;
use socketioxide::socket::Sid;
use tokio::sync::Notify;

/// Sockets waiting for their expiry, as the gauge
/// `chat_socket_expiry_watchers` on `/metrics`: it follows the number of
/// open sockets, which is how a test sees that a closed socket's entry went.
pub const WATCHERS_GAUGE: &str = "chat_socket_expiry_watchers";

/// This node's sockets by expiry. Cloned handles share one map.
#[derive(Clone, Default)]
pub struct Expiries(Arc<Shared>);

#[derive(Default)]
struct Shared {
    due: Mutex<BTreeMap<Due, Watched>>,
    /// Wakes the sweeper when an entry comes first in the map.
    sooner: Notify,
    next_seq: AtomicU64,
}

/// The map's order: by expiry, then by arrival (two sockets can share an
/// `exp`; one socket's `Sid` is shared by its namespaces).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Due {
    exp: u64,
    seq: u64,
}

/// Where to find the socket to end.
struct Watched {
    ns: Box<str>,
    sid: Sid,
}

/// A socket's place in the map, kept in its `Conn`: dropped with the
/// socket, which takes the entry out.
pub struct Lease {
    shared: Arc<Shared>,
    seq: u64,
    /// Unix seconds. Changed only with the map locked.
    exp: AtomicU64,
}

impl Shared {
    fn map(&self) -> MutexGuard<'_, BTreeMap<Due, Watched>> {
        // A panic elsewhere while the lock was held leaves a map that is
        // still whole (inserts and removals do not unwind halfway).
        self.due
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes out every entry due at `now` (Unix seconds); returns them and
    /// the expiry of the next one.
    fn take_expired(&self, now: u64) -> (Vec<Watched>, Option<u64>) {
        let mut map = self.map();
        let mut expired = Vec::new();
        while let Some(entry) = map.first_entry() {
            if entry.key().exp > now {
                break;
            }
            expired.push(entry.remove());
        }
        let next = map.first_key_value().map(|(d, _)| d.exp);
        drop(map);
        metrics::gauge!(WATCHERS_GAUGE).decrement(expired.len() as f64);
        (expired, next)
    }
}

impl Expiries {
    /// Watches the socket `sid` of namespace `ns` until `exp` (Unix
    /// seconds).
    pub fn lease(&self, ns: &str, sid: Sid, exp: u64) -> Lease {
        let seq = self.0.next_seq.fetch_add(1, Ordering::Relaxed);
        let due = Due { exp, seq };
        let mut map = self.0.map();
        map.insert(due, Watched { ns: ns.into(), sid });
        let first = map.first_key_value().is_some_and(|(d, _)| *d == due);
        drop(map);
        metrics::gauge!(WATCHERS_GAUGE).increment(1.0);
        if first {
            self.0.sooner.notify_one();
        }
        Lease {
            shared: self.0.clone(),
            seq,
            exp: AtomicU64::new(exp),
        }
    }

    /// Starts the node's sweeper: it ends each socket whose `exp` has
    /// passed, through `end`, and sleeps until the next one is due.
    pub fn sweep<A: Adapter>(&self, io: SocketIo<A>, end: fn(SocketRef<A>)) {
        let shared = self.0.clone();
        tokio::spawn(async move {
            loop {
                let now_ms = u64::try_from(chat_common::time::now_millis()).unwrap_or(0);
                let (expired, next) = shared.take_expired(now_ms / 1000);
                for w in expired {
                    if let Some(s) = io.of(&*w.ns).and_then(|op| op.get_socket(w.sid)) {
                        end(s);
                    }
                }
                let Some(next) = next else {
                    shared.sooner.notified().await;
                    continue;
                };
                // `exp` is the first second the token is no longer valid.
                let wait = Duration::from_millis((next * 1000).saturating_sub(now_ms));
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = shared.sooner.notified() => {}
                }
            }
        });
    }
}

impl Lease {
    /// Moves the expiry on to `exp` if that is later (a renewed token).
    /// Too late once the sweeper has taken the entry: the socket is ending.
    pub fn extend(&self, exp: u64) {
        let mut map = self.shared.map();
        let old = Due {
            exp: self.exp.load(Ordering::Relaxed),
            seq: self.seq,
        };
        if exp <= old.exp {
            return;
        }
        if let Some(watched) = map.remove(&old) {
            map.insert(Due { exp, seq: self.seq }, watched);
            self.exp.store(exp, Ordering::Relaxed);
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let due = Due {
            exp: *self.exp.get_mut(),
            seq: self.seq,
        };
        if self.shared.map().remove(&due).is_some() {
            metrics::gauge!(WATCHERS_GAUGE).decrement(1.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn due_at(e: &Expiries, now: u64) -> Vec<Sid> {
        let (expired, _) = e.0.take_expired(now);
        expired.into_iter().map(|w| w.sid).collect()
    }

    #[test]
    fn a_lease_comes_due_at_its_exp_not_before() {
        let e = Expiries::default();
        let sid = Sid::new();
        let _lease = e.lease("/chat", sid, 100);
        assert!(due_at(&e, 99).is_empty());
        assert_eq!(due_at(&e, 100), vec![sid]);
        assert!(due_at(&e, 101).is_empty(), "taken once");
    }

    #[test]
    fn a_dropped_lease_leaves_nothing_behind() {
        let e = Expiries::default();
        drop(e.lease("/chat", Sid::new(), 100));
        assert!(e.0.map().is_empty());
    }

    #[test]
    fn extending_moves_the_expiry_on_and_never_back() {
        let e = Expiries::default();
        let sid = Sid::new();
        let lease = e.lease("/chat", sid, 100);
        lease.extend(200);
        lease.extend(150);
        assert!(due_at(&e, 199).is_empty());
        assert_eq!(due_at(&e, 200), vec![sid]);
    }

    #[test]
    fn one_socket_in_two_namespaces_has_two_entries() {
        let e = Expiries::default();
        let sid = Sid::new();
        let chat = e.lease("/chat", sid, 100);
        let _notifications = e.lease("/notifications", sid, 100);
        drop(chat);
        let (expired, next) = e.0.take_expired(100);
        assert_eq!(expired.len(), 1);
        assert_eq!(&*expired[0].ns, "/notifications");
        assert_eq!(next, None);
    }

    #[test]
    fn the_next_expiry_is_the_earliest_left() {
        let e = Expiries::default();
        let _late = e.lease("/chat", Sid::new(), 300);
        let _soon = e.lease("/chat", Sid::new(), 200);
        let (expired, next) = e.0.take_expired(100);
        assert!(expired.is_empty());
        assert_eq!(next, Some(200));
    }
}
