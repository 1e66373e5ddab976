//! Rate limits shared by every gateway node: the generic cell rate algorithm
//! (the one `governor` uses on one node) run as one Lua script in Redis, so
//! checking and spending a token is a single atomic step whichever node a
//! user's sockets are on.

use std::time::Duration;

use redis::Script;

use super::cluster::RedisLink;

/// One bucket per key, stored as its "theoretical arrival time" (TAT): the
/// instant, in Redis' clock, at which the bucket will be full again. A
/// request is allowed when spending one more emission interval does not push
/// the TAT further than `burst` intervals ahead of now.
///
/// KEYS[1] the bucket; ARGV[1] emission interval (µs); ARGV[2] burst.
/// Returns 1 (allowed, spent) or 0 (refused, nothing changed).
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local new_tat = tat + interval
if new_tat - now > burst * interval then return 0 end
-- The key lives exactly as long as the bucket is not full.
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
return 1
";

/// Gives one token back (a send that turned out to be a resend): the TAT
/// moves one interval back, never below now; a bucket that is full again
/// loses its key. Same KEYS and ARGV as [`GCRA`]; returns nothing useful.
const REFUND: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat then return 0 end
local new_tat = tat - tonumber(ARGV[1])
if new_tat <= now then redis.call('DEL', KEYS[1]) return 1 end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
return 1
";

/// Beyond this a check counts as failed and the caller decides locally.
const CHECK_TIMEOUT: Duration = Duration::from_millis(500);

/// A rate: `per_sec` tokens a second, at most `burst` saved up.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    pub per_sec: u32,
    pub burst: u32,
}

impl Rate {
    fn interval_micros(self) -> u64 {
        1_000_000 / u64::from(self.per_sec.max(1))
    }

    /// The time one token takes to come back.
    pub fn interval(self) -> Duration {
        Duration::from_micros(self.interval_micros())
    }
}

#[derive(Clone)]
pub struct SharedBuckets {
    link: RedisLink,
    script: Script,
    refund: Script,
    prefix: String,
}

impl SharedBuckets {
    pub fn new(link: RedisLink, prefix: impl Into<String>) -> Self {
        Self {
            link,
            script: Script::new(GCRA),
            refund: Script::new(REFUND),
            prefix: prefix.into(),
        }
    }

    /// Spends one token of `key` at `rate`: `Some(allowed)`, or `None` when
    /// Redis cannot answer now.
    pub async fn take(&self, key: &str, rate: Rate) -> Option<bool> {
        self.run(&self.script, key, rate).await.map(|n| n == 1)
    }

    /// Gives back a token spent by [`take`](Self::take); `None` when Redis
    /// cannot answer now (the token is then lost, as if spent).
    pub async fn refund(&self, key: &str, rate: Rate) -> Option<()> {
        self.run(&self.refund, key, rate).await.map(drop)
    }

    async fn run(&self, script: &Script, key: &str, rate: Rate) -> Option<i64> {
        self.link.ensure_up().ok()?;
        let mut conn = self.link.connection();
        let mut call = script.key(format!("{}:{key}", self.prefix));
        call.arg(rate.interval_micros()).arg(rate.burst.max(1));
        match tokio::time::timeout(CHECK_TIMEOUT, call.invoke_async::<i64>(&mut conn)).await {
            Ok(Ok(n)) => Some(n),
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "shared rate limit call failed");
                self.link.observe(&e);
                None
            }
            Err(_) => {
                tracing::debug!("shared rate limit call timed out");
                self.link.mark(false);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socket::test_redis::TestRedis;

    fn unique(prefix: &str) -> String {
        format!("{prefix}-{}", uuid::Uuid::new_v4())
    }

    #[tokio::test]
    async fn bursts_then_refuses_and_refills_across_handles() {
        let redis = TestRedis::start().await;
        // Two links stand for two gateway nodes.
        let a = SharedBuckets::new(redis.link().await, "t");
        let b = SharedBuckets::new(redis.link().await, "t");
        let rate = Rate {
            per_sec: 10,
            burst: 20,
        };
        let user = unique("alice");
        let mut allowed = 0;
        for i in 0..30 {
            let node = if i % 2 == 0 { &a } else { &b };
            if node.take(&user, rate).await.expect("redis answers") {
                allowed += 1;
            }
        }
        // 30 calls take well under 100 ms here, so at most one token came back.
        assert!((20..=21).contains(&allowed), "allowed {allowed}");
        // Another user has a bucket of their own.
        assert_eq!(a.take(&unique("bob"), rate).await, Some(true));
        tokio::time::sleep(Duration::from_millis(250)).await;
        // 100 ms a token: about two are back.
        let mut back = 0;
        while b.take(&user, rate).await == Some(true) {
            back += 1;
        }
        assert!((1..=4).contains(&back), "refilled {back}");
    }

    #[tokio::test]
    async fn one_a_second_and_keys_expire_when_full() {
        let redis = TestRedis::start().await;
        let link = redis.link().await;
        let s = SharedBuckets::new(link.clone(), "t");
        let rate = Rate {
            per_sec: 1,
            burst: 1,
        };
        let user = unique("carol");
        assert_eq!(s.take(&user, rate).await, Some(true));
        assert_eq!(s.take(&user, rate).await, Some(false));
        let ttl: i64 = redis::cmd("PTTL")
            .arg(format!("t:{user}"))
            .query_async(&mut link.connection())
            .await
            .expect("PTTL");
        assert!((1..=1000).contains(&ttl), "ttl {ttl}");
        tokio::time::sleep(Duration::from_millis(1050)).await;
        assert_eq!(s.take(&user, rate).await, Some(true));
    }

    #[tokio::test]
    async fn a_refund_gives_one_token_back() {
        let redis = TestRedis::start().await;
        let s = SharedBuckets::new(redis.link().await, "t");
        let rate = Rate {
            per_sec: 1,
            burst: 2,
        };
        let user = unique("frank");
        assert_eq!(s.take(&user, rate).await, Some(true));
        assert_eq!(s.take(&user, rate).await, Some(true));
        assert_eq!(s.take(&user, rate).await, Some(false));
        assert_eq!(s.refund(&user, rate).await, Some(()));
        assert_eq!(s.take(&user, rate).await, Some(true));
        assert_eq!(s.take(&user, rate).await, Some(false));
        // On a full bucket (no key) a refund adds nothing.
        let fresh = unique("gina");
        assert_eq!(s.refund(&fresh, rate).await, Some(()));
        assert_eq!(s.take(&fresh, rate).await, Some(true));
        assert_eq!(s.take(&fresh, rate).await, Some(true));
        assert_eq!(s.take(&fresh, rate).await, Some(false));
    }

    #[tokio::test]
    async fn answers_none_while_redis_is_down() {
        let mut redis = TestRedis::start().await;
        let link = redis.link().await;
        let s = SharedBuckets::new(link.clone(), "t");
        let rate = Rate {
            per_sec: 1,
            burst: 1,
        };
        redis.stop();
        // Whether the failure is seen by the check or by a ping first, the
        // answer is "cannot tell", never a made-up verdict.
        assert_eq!(s.take("dave", rate).await, None);
        assert!(!link.is_up());
        assert_eq!(s.take("dave", rate).await, None);
    }
}
