//! Per-user sending rates (PROTOCOL.md § Limits): one token bucket per user
//! for messages and one for notifications, shared by all of the user's
//! sockets on this node.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::Limits;
use crate::error::Error;

#[derive(Clone)]
pub struct RateLimits {
    messages: Arc<DefaultKeyedRateLimiter<String>>,
    notifications: Arc<DefaultKeyedRateLimiter<String>>,
}

fn quota(per_sec: u32, burst: u32) -> Quota {
    let per_sec = NonZeroU32::new(per_sec).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst).unwrap_or(per_sec);
    Quota::per_second(per_sec).allow_burst(burst)
}

impl RateLimits {
    pub fn new(limits: &Limits) -> Self {
        Self {
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
    pub fn message(&self, user: &str) -> Result<(), Error> {
        self.messages.check_key(&user.to_string()).map_err(|_| {
            metrics::counter!("chat_rate_limited_total", "kind" => "message").increment(1);
            Error::RateLimited(
                "You are sending messages too fast; wait a moment and try again".into(),
            )
        })
    }

    pub fn notification(&self, user: &str) -> Result<(), Error> {
        self.notifications
            .check_key(&user.to_string())
            .map_err(|_| {
                metrics::counter!("chat_rate_limited_total", "kind" => "notification").increment(1);
                Error::RateLimited(
                    "You are sending notifications too fast; wait a second and try again".into(),
                )
            })
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

    #[test]
    fn bursts_then_refuses_per_user() {
        let l = RateLimits::new(&Limits {
            messages_per_sec: 10,
            messages_burst: 20,
            ..Limits::default()
        });
        for i in 0..20 {
            assert!(l.message("alice").is_ok(), "message {i}");
        }
        assert_eq!(
            l.message("alice").unwrap_err().code(),
            ErrorCode::RateLimited
        );
        // Another user has their own bucket.
        assert!(l.message("bob").is_ok());
    }

    #[test]
    fn one_notification_a_second() {
        let l = RateLimits::new(&Limits::default());
        assert!(l.notification("alice").is_ok());
        assert_eq!(
            l.notification("alice").unwrap_err().code(),
            ErrorCode::RateLimited
        );
        assert!(l.message("alice").is_ok());
    }

    #[tokio::test]
    async fn tokens_come_back_over_time() {
        let l = RateLimits::new(&Limits {
            messages_per_sec: 10,
            messages_burst: 1,
            ..Limits::default()
        });
        assert!(l.message("carol").is_ok());
        assert!(l.message("carol").is_err());
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert!(l.message("carol").is_ok());
    }
}
