//! The store's health probe.

use std::sync::Arc;

use crate::Harness;

/// A reachable store answers the probe, before and after a write.
pub async fn ping_answers(h: Arc<Harness>) {
    h.store.ping().await.expect("a fresh store answers");
    super::post(&h, "general", "alice", "hi").await;
    h.store.ping().await.expect("a used store answers");
}
