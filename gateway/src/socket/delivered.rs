//! Which recent messages were broadcast, so that a resend can tell a message
//! whose broadcast happened from one whose reply was lost before it (the
//! message service, or the gateway that called it, died after the store
//! committed). A resend that finds its message stored less than
//! [`WINDOW`] ago and not marked broadcasts it then: live members see every
//! stored message, at worst twice (clients de-duplicate by id), never zero
//! times. Marks live in this node's memory and, with Redis, in Redis for
//! [`WINDOW`], so a resend to another node after a failover sees them.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis::AsyncCommands;

use super::cluster::RedisLink;

/// How old a stored message may be for a resend to broadcast it: longer
/// than any client waits before it resends, short enough that a resend
/// from a stale outbox does not surface an old message live.
pub const WINDOW: Duration = Duration::from_secs(60);

/// Ids marked on this node, and the same oldest first for pruning.
type Marks = (HashMap<String, Instant>, VecDeque<(Instant, String)>);

#[derive(Default)]
pub struct Delivered {
    link: Option<RedisLink>,
    /// Pruned past [`WINDOW`].
    local: Mutex<Marks>,
}

fn redis_key(id: &str) -> String {
    format!("chat:delivered:{id}")
}

impl Delivered {
    pub fn new(link: Option<RedisLink>) -> Self {
        Delivered {
            link,
            local: Mutex::default(),
        }
    }

    /// Records that message `id` was broadcast.
    pub async fn mark(&self, id: &str) {
        {
            let now = Instant::now();
            let mut guard = self.local.lock().unwrap_or_else(|p| p.into_inner());
            let (ids, order) = &mut *guard;
            while let Some((at, old)) = order.front() {
                if now.duration_since(*at) < WINDOW {
                    break;
                }
                ids.remove(old);
                order.pop_front();
            }
            ids.insert(id.to_string(), now);
            order.push_back((now, id.to_string()));
        }
        if let Some(link) = self.link.as_ref().filter(|l| l.is_up()) {
            let ms = WINDOW.as_millis() as u64;
            let res: Result<(), _> = link.connection().pset_ex(redis_key(id), 1, ms).await;
            if let Err(e) = res {
                link.observe(&e);
            }
        }
    }

    /// Whether message `id` is known to have been broadcast. When in doubt
    /// (Redis unreachable) it was not: a duplicate is harmless, a missing
    /// message is not.
    pub async fn was_marked(&self, id: &str) -> bool {
        let local = self
            .local
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .0
            .get(id)
            .is_some_and(|at| at.elapsed() < WINDOW);
        if local {
            return true;
        }
        let Some(link) = self.link.as_ref().filter(|l| l.is_up()) else {
            return false;
        };
        match link.connection().exists::<_, bool>(redis_key(id)).await {
            Ok(marked) => marked,
            Err(e) => {
                link.observe(&e);
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn marks_are_seen_on_this_node_and_through_redis() {
        let alone = Delivered::new(None);
        assert!(!alone.was_marked("m1").await);
        alone.mark("m1").await;
        assert!(alone.was_marked("m1").await);

        let redis = crate::socket::test_redis::TestRedis::start().await;
        let (a, b) = (
            Delivered::new(Some(redis.link().await)),
            Delivered::new(Some(redis.link().await)),
        );
        a.mark("m2").await;
        assert!(b.was_marked("m2").await, "a mark made on another node");
        assert!(!b.was_marked("m3").await);
    }
}
