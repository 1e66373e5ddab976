//! Readiness checks beyond the gRPC services (e.g. Redis), registered by
//! whoever owns the dependency and reported by `/healthz`.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

type CheckFuture = Pin<Box<dyn Future<Output = bool> + Send>>;
type Check = Arc<dyn Fn() -> CheckFuture + Send + Sync>;

/// Named readiness checks beyond the gRPC services, e.g. `("redis", …)`.
/// Each answers `true` when healthy; `/healthz` bounds it with a timeout.
#[derive(Clone, Default)]
pub struct HealthChecks {
    checks: Arc<RwLock<Vec<(String, Check)>>>,
}

impl HealthChecks {
    pub fn register<F, Fut>(&self, name: impl Into<String>, check: F)
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = bool> + Send + 'static,
    {
        let check: Check = Arc::new(move || Box::pin(check()));
        self.checks
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push((name.into(), check));
    }

    /// The registered checks, as (name, future) pairs ready to run.
    pub fn pending(&self) -> Vec<(String, CheckFuture)> {
        self.checks
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(name, check)| (name.clone(), check()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_what_was_registered() {
        let checks = HealthChecks::default();
        checks.register("redis", || async { false });
        let pending = checks.pending();
        assert_eq!(pending.len(), 1);
        let (name, fut) = pending.into_iter().next().unwrap();
        assert_eq!(name, "redis");
        assert!(!fut.await);
    }
}
