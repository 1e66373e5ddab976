//! Avatar change notices between gateway nodes, over the Redis link the
//! socket.io adapter uses: an upload on one node makes every node forget
//! that user's cached avatar (see `crate::avatars`).

use std::time::Duration;

use futures::StreamExt;
use socketioxide_redis::drivers::Driver;

use crate::avatars::Avatars;

use super::cluster::RedisLink;

const CHANNEL: &str = "chat:avatar-changed";

/// Publishes this node's changes and applies the other nodes' ones. While
/// Redis is down notices are lost, so everything is forgotten when it is
/// back.
pub fn follow(avatars: &Avatars, link: RedisLink) {
    let publisher = link.clone();
    avatars.on_change(move |user_id| {
        let link = publisher.clone();
        Box::pin(async move {
            if let Err(e) = link
                .publish(CHANNEL.to_string(), user_id.into_bytes())
                .await
            {
                tracing::debug!(error = %e, "could not announce an avatar change");
            }
        })
    });
    let avatars = avatars.clone();
    tokio::spawn(async move {
        loop {
            let mut notices = match link.subscribe(CHANNEL.to_string(), 1024).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::debug!(error = %e, "cannot follow avatar changes yet");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            avatars.forget_all();
            let mut was_up = true;
            let mut tick = tokio::time::interval(Duration::from_millis(500));
            loop {
                tokio::select! {
                    notice = notices.next() => match notice {
                        Some((_, user_id)) => avatars.forget(&String::from_utf8_lossy(&user_id)),
                        None => break,
                    },
                    _ = tick.tick() => {
                        let up = link.is_up();
                        if up && !was_up {
                            avatars.forget_all();
                        }
                        was_up = up;
                    }
                }
            }
        }
    });
}
