//! The catch-up half of learning which sessions ended: every
//! [`SYNC_EVERY`], ask the auth service for the sessions ended since the
//! last answer. For a gateway it covers what Redis cannot: a node that
//! started late, an announcement lost while Redis was down, endings made by
//! the auth service itself (a replayed refresh token seen by another node,
//! the idle sweep, an operator's `EndSession` through grpcurl) and a node
//! without Redis. For a service it is the only way. One small call per
//! process per interval, never one per request.

use std::time::Duration;

use chat_proto::auth::v1::EndedSessions;

use crate::revocations::Ending;
use crate::time::{now_millis, timestamp_to_millis};
use crate::tokens::Verifier;

pub const SYNC_EVERY: Duration = Duration::from_secs(1);
/// Endings are asked for again this far back, so one committed just as
/// the previous answer was read is not missed.
const OVERLAP_MS: i64 = 5_000;
const CLOCK_SLACK_MS: i64 = 60_000;

/// The auth service's answer as [`Ending`]s.
pub fn endings(res: EndedSessions) -> Vec<Ending> {
    res.sessions
        .into_iter()
        .map(|s| Ending {
            ended_at_ms: s.ended_at.as_ref().map_or(0, timestamp_to_millis),
            session_id: s.session_id,
            user_id: s.user_id,
            reason: s.reason,
        })
        .collect()
}

/// Runs for the life of the process; call once the public keys are in
/// (they bring the access-token lifetime, how far back to start).
pub fn spawn(verifier: Verifier) {
    let Some(authority) = verifier.authority() else {
        tracing::error!("no auth authority to catch up on ended sessions from");
        return;
    };
    tokio::spawn(async move {
        let ttl = i64::try_from(verifier.access_ttl().as_millis()).unwrap_or(0);
        let mut since = now_millis().saturating_sub(ttl);
        let mut tick = tokio::time::interval(SYNC_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut sweeps = 0u32;
        loop {
            tick.tick().await;
            match authority.ended_since(since).await {
                Ok(res) => {
                    let ended = endings(res);
                    if let Some(latest) = ended.iter().map(|e| e.ended_at_ms).max() {
                        since = since.max(latest.saturating_sub(OVERLAP_MS));
                    }
                    // Without endings the window still moves on (clocks are
                    // assumed within a minute of each other), so an answer
                    // stays small.
                    since = since.max(now_millis().saturating_sub(CLOCK_SLACK_MS));
                    let fresh = verifier.revocations.record(&ended);
                    if fresh > 0 {
                        tracing::info!(
                            count = fresh,
                            "ended sessions caught up from the auth service"
                        );
                    }
                }
                Err(e) => tracing::debug!(error = %e, "could not catch up on ended sessions"),
            }
            sweeps += 1;
            if sweeps.is_multiple_of(60) {
                verifier.revocations.sweep();
            }
        }
    });
}
