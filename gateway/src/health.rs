//! Readiness checks beyond the gRPC services (e.g. Redis), registered by
//! whoever owns the dependency and reported by `/healthz`.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

type CheckFuture = Pin<Box<dyn Future<Output = bool> + Send>>;
type Check = Arc<dyn Fn() -> CheckFuture + Send + Sync>;

/// How much a failing check matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The gateway cannot serve clients without it: `/healthz` answers 503.
    Required,
    /// The gateway still serves its own sockets without it (Redis: only
    /// cross-node delivery is lost): `/healthz` answers 200 "degraded", so
    /// load balancers keep routing to the node.
    Degrading,
}

/// Named readiness checks beyond the gRPC services, e.g. `("redis", …)`.
/// Each answers `true` when healthy; `/healthz` bounds it with a timeout.
#[derive(Clone, Default)]
pub struct HealthChecks {
    checks: Arc<RwLock<Vec<(String, Severity, Check)>>>,
}

impl HealthChecks {
    /// A check whose failure makes the gateway unavailable.
    pub fn register<F, Fut>(&self, name: impl Into<String>, check: F)
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = bool> + Send + 'static,
    {
        self.add(
            name.into(),
            Severity::Required,
            Arc::new(move || Box::pin(check())),
        );
    }

    /// A check whose failure only degrades the gateway.
    pub fn register_degrading<F, Fut>(&self, name: impl Into<String>, check: F)
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = bool> + Send + 'static,
    {
        self.add(
            name.into(),
            Severity::Degrading,
            Arc::new(move || Box::pin(check())),
        );
    }

    fn add(&self, name: String, severity: Severity, check: Check) {
        self.checks
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push((name, severity, check));
    }

    /// The registered checks, as (name, severity, future) ready to run.
    pub fn pending(&self) -> Vec<(String, Severity, CheckFuture)> {
        self.checks
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(name, severity, check)| (name.clone(), *severity, check()))
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
        let (name, severity, fut) = pending.into_iter().next().unwrap();
        assert_eq!(name, "redis");
        assert_eq!(severity, Severity::Required);
        assert!(!fut.await);
    }
}
