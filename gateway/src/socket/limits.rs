//! Per-user sending rates (PROTOCOL.md § Limits): one token bucket per user
//! for messages and one for notifications, shared by all of the user's
//! sockets. With Redis the buckets live there and count the user's sockets
//! on every node; without it, or while Redis cannot answer, the in-process
//! buckets of this node decide.

use std::sync::Arc;
use std::time::Duration;

use crate::config::Limits;
use crate::error::Error;

use super::buckets::LocalBuckets;
use super::cluster::RedisLink;
use super::gcra::{Rate, SharedBuckets};

#[derive(Clone)]
pub struct RateLimits {
    messages: Arc<LocalBuckets>,
    notifications: Arc<LocalBuckets>,
    shared: Option<SharedBuckets>,
    message_rate: Rate,
    notification_rate: Rate,
}

/// A message token spent by [`RateLimits::message`], to give back with
/// [`RateLimits::refund_message`] when the send stored nothing new.
#[derive(Debug)]
#[must_use = "a token that is not used must be refunded"]
pub struct Token {
    user: String,
    /// Whether Redis held the bucket (else this node's did).
    shared: bool,
}

impl RateLimits {
    /// Buckets in Redis when `link` is given, else on this node only.
    pub fn new(limits: &Limits, link: Option<RedisLink>) -> Self {
        let message_rate = Rate {
            per_sec: limits.messages_per_sec,
            burst: limits.messages_burst,
        };
        let notification_rate = Rate {
            per_sec: limits.notifications_per_sec,
            burst: limits.notifications_per_sec,
        };
        Self {
            shared: link.map(|l| SharedBuckets::new(l, "chat:rate")),
            messages: Arc::new(LocalBuckets::new(message_rate)),
            notifications: Arc::new(LocalBuckets::new(notification_rate)),
            message_rate,
            notification_rate,
        }
    }

    /// Takes one message token of `user` (lower-cased name).
    pub async fn message(&self, user: &str) -> Result<Token, Error> {
        let shared = self
            .shared_take(&format!("msg:{user}"), self.message_rate)
            .await;
        let token = Token {
            shared: shared.is_some(),
            user: user.to_string(),
        };
        if shared.unwrap_or_else(|| self.messages.take(user)) {
            return Ok(token);
        }
        metrics::counter!("chat_rate_limited_total", "kind" => "message").increment(1);
        Err(Error::RateLimited(
            "You are sending messages too fast; wait a moment and try again".into(),
        ))
    }

    /// Gives back a token whose send stored nothing new (a resend of a
    /// stored `clientId`, or a send that failed): those cost nothing.
    pub async fn refund_message(&self, token: Token) {
        if !token.shared {
            self.messages.refund(&token.user);
            return;
        }
        let key = format!("msg:{}", token.user);
        if let Some(shared) = &self.shared
            && shared.refund(&key, self.message_rate).await.is_none()
        {
            tracing::debug!("could not give a message token back: Redis did not answer");
        }
    }

    pub async fn notification(&self, user: &str) -> Result<(), Error> {
        let shared = self
            .shared_take(&format!("note:{user}"), self.notification_rate)
            .await;
        if shared.unwrap_or_else(|| self.notifications.take(user)) {
            return Ok(());
        }
        metrics::counter!("chat_rate_limited_total", "kind" => "notification").increment(1);
        Err(Error::RateLimited(
            "You are sending notifications too fast; wait a second and try again".into(),
        ))
    }

    /// The Redis verdict, or `None` without Redis or while it cannot answer.
    async fn shared_take(&self, key: &str, rate: Rate) -> Option<bool> {
        let shared = self.shared.as_ref()?;
        let verdict = shared.take(key, rate).await;
        if verdict.is_none() {
            let kind = key.split(':').next().unwrap_or_default().to_string();
            metrics::counter!("chat_rate_limit_fallback_total", "kind" => kind).increment(1);
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
                this.messages.forget_full();
                this.notifications.forget_full();
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
    async fn a_refunded_token_can_be_spent_again() {
        let l = RateLimits::new(&burst_limits(), None);
        let mut tokens = Vec::new();
        for _ in 0..20 {
            tokens.push(l.message("hana").await.expect("within the burst"));
        }
        assert!(l.message("hana").await.is_err());
        for t in tokens.drain(..2) {
            l.refund_message(t).await;
        }
        assert!(l.message("hana").await.is_ok());
        assert!(l.message("hana").await.is_ok());
        assert!(l.message("hana").await.is_err());
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
        // A token spent on one node and refunded through the other is back.
        let token = loop {
            if let Ok(t) = one.message(&user).await {
                break t;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert!(two.message(&user).await.is_err());
        two.refund_message(token).await;
        assert!(two.message(&user).await.is_ok());
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
