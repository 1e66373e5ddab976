//! Tokens that already passed every check of [`super::Verifier::verify`],
//! remembered with their claims, so the same token presented again skips
//! the Ed25519 signature check (about 350k of the 570k instructions of a
//! whole handshake, callgrind). A client presents one token many times: once
//! per namespace it connects (`/chat` and `/notifications` over one
//! connection), on every reconnect, from every tab.
//!
//! Only a token that passed enters; a hit is checked for expiry here, and
//! the caller still checks its session against the revocations every time.
//! The memo belongs to one key set (`super::Keys`), so a new key set — a
//! rotation, a refetch — starts with an empty one. Keyed by the whole
//! token, not a hash of it: equal keys are equal tokens, so no collision can
//! hand one token another's claims. `lru` bounds it rather than a map that
//! only grows: an attacker with many valid tokens still cannot grow it past
//! [`CAPACITY`].

use std::num::NonZeroUsize;
use std::sync::Mutex;

use lru::LruCache;

use super::{Claims, LEEWAY_SECS};

/// Tokens remembered; at ~500 bytes each (token and claims) about 2 MiB
/// when full.
const CAPACITY: NonZeroUsize = NonZeroUsize::new(4096).unwrap();

pub(super) struct Verified(Mutex<LruCache<String, Claims>>);

impl Default for Verified {
    fn default() -> Self {
        Verified(Mutex::new(LruCache::new(CAPACITY)))
    }
}

impl Verified {
    /// The claims of `token` if it passed before and has not expired by
    /// `now` (Unix seconds), with the same leeway as the full check.
    pub(super) fn get(&self, token: &str, now: u64) -> Option<Claims> {
        let mut memo = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let claims = memo.get(token)?;
        if claims.exp.saturating_add(LEEWAY_SECS) >= now {
            return Some(claims.clone());
        }
        memo.pop(token);
        None
    }

    /// Remembers a token that passed every check.
    pub(super) fn put(&self, token: &str, claims: &Claims) {
        let mut memo = self.0.lock().unwrap_or_else(|p| p.into_inner());
        memo.put(token.to_owned(), claims.clone());
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(sid: &str, exp: u64) -> Claims {
        Claims {
            sub: "u1".into(),
            username: "alice".into(),
            sid: sid.into(),
            exp,
        }
    }

    #[test]
    fn a_remembered_token_gives_back_its_own_claims() {
        let memo = Verified::default();
        memo.put("t1", &claims("s1", 1_000));
        memo.put("t2", &claims("s2", 1_000));
        assert_eq!(memo.get("t1", 500).map(|c| c.sid), Some("s1".into()));
        assert_eq!(memo.get("t2", 500).map(|c| c.sid), Some("s2".into()));
        assert!(memo.get("t3", 500).is_none());
    }

    #[test]
    fn an_expired_token_is_forgotten_with_the_same_leeway_as_the_full_check() {
        let memo = Verified::default();
        memo.put("t", &claims("s", 1_000));
        assert!(memo.get("t", 1_000 + LEEWAY_SECS).is_some());
        assert!(memo.get("t", 1_001 + LEEWAY_SECS).is_none());
        assert_eq!(memo.len(), 0);
    }

    #[test]
    fn it_never_holds_more_than_its_capacity() {
        let memo = Verified::default();
        for i in 0..CAPACITY.get() + 10 {
            memo.put(&format!("t{i}"), &claims("s", 1_000));
        }
        assert_eq!(memo.len(), CAPACITY.get());
        assert!(memo.get("t0", 0).is_none(), "the oldest went first");
    }
}
