//! Per-user sending rates (PROTOCOL.md § Limits): one token bucket per user
//! for messages and one for notifications, shared by all of the user's
//! sockets. With Redis the buckets live there and count the user's sockets
//! on every node; without it, or while Redis cannot answer, the in-process
//! buckets of this node decide.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::Limits;
use crate::error::Error;

use super::cluster::RedisLink;
use super::gcra::{Rate, SharedBuckets};

#[derive(Clone)]
pub struct RateLimits {
    messages: Arc<DefaultKeyedRateLimiter<String>>,
    notifications: Arc<DefaultKeyedRateLimiter<String>>,
    shared: Option<SharedBuckets>,
    message_rate: Rate,
    notification_rate: Rate,
}

fn quota(per_sec: u32, burst: u32) -> Quota {
    let per_sec = NonZeroU32::new(per_sec).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst).unwrap_or(per_sec);
    Quota::per_second(per_sec).allow_burst(burst)
}

impl RateLimits {
    /// Buckets in Redis when `link` is given, else on this node only.
    pub fn new(limits: &Limits, link: Option<RedisLink>) -> Self {
        Self {
            shared: link.map(|l| SharedBuckets::new(l, "chat:rate")),
            message_rate: Rate {
                per_sec: limits.messages_per_sec,
                burst: limits.messages_burst,
            },
            notification_rate: Rate {
                per_sec: limits.notifications_per_sec,
                burst: limits.notifications_per_sec,
            },
            messages: Arc::new(RateLimiter::keyed(quota(
                limits.messages_per_sec,
                limits.messages_burst,
            ))),
            notifications: Arc::new(RateLimiter::keyed(quota(
                limits.notifications_per_sec,
                limits.notifications_per_sec,
            ))),
        }
    }

    /// Takes one message token of `user` (lower-cased name).
    pub async fn message(&self, user: &str) -> Result<(), Error> {
        let shared = self.shared_take("msg", user, self.message_rate).await;
        if shared.unwrap_or_else(|| self.messages.check_key(&user.to_string()).is_ok()) {
            return Ok(());
        }
        metrics::counter!("chat_rate_limited_total", "kind" => "message").increment(1);
        Err(Error::RateLimited(
            "You are sending messages too fast; wait a moment and try again".into(),
        ))
    }

    pub async fn notification(&self, user: &str) -> Result<(), Error> {
        let shared = self.shared_take("note", user, self.notification_rate).await;
        if shared.unwrap_or_else(|| self.notifications.check_key(&user.to_string()).is_ok()) {
            return Ok(());
        }
        metrics::counter!("chat_rate_limited_total", "kind" => "notification").increment(1);
        Err(Error::RateLimited(
            "You are sending notifications too fast; wait a second and try again".into(),
        ))
    }

    /// The Redis verdict, or `None` without Redis or while it cannot answer.
    async fn shared_take(&self, kind: &str, user: &str, rate: Rate) -> Option<bool> {
        let shared = self.shared.as_ref()?;
        let verdict = shared.take(&format!("{kind}:{user}"), rate).await;
        if verdict.is_none() {
            metrics::counter!("chat_rate_limit_fallback_total", "kind" => kind.to_string())
                .increment(1);
        }
        verdict
    }

    /// Forgets users whose buckets are full again, so memory follows the
    /// active users rather than every user ever seen.
    pub fn spawn_cleanup(&self) {
        let this = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                for l in [&this.messages, &this.notifications] {
                    l.retain_recent();
                    l.shrink_to_fit();
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use crate::socket::test_redis::TestRedis;

    fn burst_limits() -> Limits {
        Limits {
            messages_per_sec: 10,
            messages_burst: 20,
            ..Limits::default()
        }
    }

    #[tokio::test]
    async fn bursts_then_refuses_per_user() {
        let l = RateLimits::new(&burst_limits(), None);
        for i in 0..20 {
            assert!(l.message("alice").await.is_ok(), "message {i}");
        }
        assert_eq!(
            l.message("alice").await.unwrap_err().code(),
            ErrorCode::RateLimited
        );
        // Another user has their own bucket.
        assert!(l.message("bob").await.is_ok());
    }

    #[tokio::test]
    async fn one_notification_a_second() {
        let l = RateLimits::new(&Limits::default(), None);
        assert!(l.notification("alice").await.is_ok());
        assert_eq!(
            l.notification("alice").await.unwrap_err().code(),
            ErrorCode::RateLimited
        );
        assert!(l.message("alice").await.is_ok());
    }

    #[tokio::test]
    async fn tokens_come_back_over_time() {
        let l = RateLimits::new(
            &Limits {
                messages_per_sec: 10,
                messages_burst: 1,
                ..Limits::default()
            },
            None,
        );
        assert!(l.message("carol").await.is_ok());
        assert!(l.message("carol").await.is_err());
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert!(l.message("carol").await.is_ok());
    }

    #[tokio::test]
    async fn two_nodes_share_one_bucket_and_fall_back_when_redis_is_gone() {
        let mut redis = TestRedis::start().await;
        let one = RateLimits::new(&burst_limits(), Some(redis.link().await));
        let two = RateLimits::new(&burst_limits(), Some(redis.link().await));
        let user = format!("erin{}", uuid::Uuid::new_v4().simple());
        let mut allowed = 0;
        for i in 0..30 {
            let node = if i % 2 == 0 { &one } else { &two };
            if node.message(&user).await.is_ok() {
                allowed += 1;
            }
        }
        // Per node it would have been 30 (15 each, under each node's 20).
        assert!((20..=21).contains(&allowed), "allowed {allowed}");
        // Notifications are a bucket of their own.
        assert!(one.notification(&user).await.is_ok());
        assert!(two.notification(&user).await.is_err());

        redis.stop();
        // With Redis gone each node's own bucket decides: still limited.
        let mut local = 0;
        for _ in 0..30 {
            if one.message(&user).await.is_ok() {
                local += 1;
            }
        }
        assert!((20..=21).contains(&local), "allowed locally {local}");
    }
}
