//! `GET /healthz`: 200 when every service answers `SERVING` to the standard
//! gRPC health check (and every registered extra check passes) within a
//! short timeout; 200 `degraded` naming what is degraded when only a
//! degrading dependency (Redis) fails; otherwise 503 naming what is down;
//! 503 `draining` as soon as a graceful stop begins.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures::future::join_all;
use serde_json::json;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;

use crate::health::Severity;
use crate::state::AppState;

/// Load balancers poll this; a slow dependency counts as down.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn healthz(State(state): State<AppState>) -> Response {
    // A node that is stopping must leave its load balancer's rotation at
    // once, whatever its dependencies say.
    if state.drain.is_draining() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({ "status": "draining" })),
        )
            .into_response();
    }
    match summarize(check_all(&state).await) {
        Ok(degraded) if degraded.is_empty() => {
            (StatusCode::OK, axum::Json(json!({ "status": "ok" }))).into_response()
        }
        Ok(degraded) => (
            StatusCode::OK,
            axum::Json(json!({ "status": "degraded", "degraded": degraded })),
        )
            .into_response(),
        Err(text) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({ "error": text })),
        )
            .into_response(),
    }
}

/// Every dependency with how much it matters and whether it is up, in a
/// stable order.
pub async fn check_all(state: &AppState) -> Vec<(String, Severity, bool)> {
    let timeout = CHECK_TIMEOUT.min(state.config.grpc_timeout);
    let services = state.clients.health.iter().map(|(name, client)| {
        let mut client = client.clone();
        async move {
            let check = client.check(HealthCheckRequest {
                service: String::new(),
            });
            let up = matches!(
                tokio::time::timeout(timeout, check).await,
                Ok(Ok(res)) if res.get_ref().status == ServingStatus::Serving as i32
            );
            (name.to_string(), Severity::Required, up)
        }
    });
    let extras =
        state
            .clients
            .checks
            .pending()
            .into_iter()
            .map(|(name, severity, check)| async move {
                let up = tokio::time::timeout(timeout, check).await.unwrap_or(false);
                (name, severity, up)
            });
    let mut results = join_all(services).await;
    // Tokens cannot be checked until the auth service's key is in; say so
    // rather than report a healthy gateway that refuses every client.
    if results.iter().any(|(name, _, up)| name == "auth" && *up) && !state.verifier.is_ready() {
        results.push(("auth public key".into(), Severity::Required, false));
    }
    results.extend(join_all(extras).await);
    results
}

/// `Ok(degraded names)` when every required dependency is up, else
/// `"unavailable: a, b"` naming the required ones that are down.
pub fn summarize(results: Vec<(String, Severity, bool)>) -> Result<Vec<String>, String> {
    let (mut down, mut degraded) = (Vec::new(), Vec::new());
    for (name, severity, up) in results {
        match (up, severity) {
            (true, _) => {}
            (false, Severity::Required) => down.push(name),
            (false, Severity::Degrading) => degraded.push(name),
        }
    }
    if down.is_empty() {
        Ok(degraded)
    } else {
        Err(format!("unavailable: {}", down.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn names_only_what_is_down() {
        use Severity::{Degrading, Required};
        let r = |v: &[(&str, Severity, bool)]| {
            summarize(v.iter().map(|(n, s, u)| (n.to_string(), *s, *u)).collect())
        };
        assert_eq!(
            r(&[("auth", Required, true), ("media", Required, true)]),
            Ok(vec![])
        );
        assert_eq!(
            r(&[
                ("auth", Required, false),
                ("message", Required, true),
                ("media", Required, false)
            ]),
            Err("unavailable: auth, media".into())
        );
        assert_eq!(
            r(&[("redis", Required, false)]),
            Err("unavailable: redis".into())
        );
        assert_eq!(
            r(&[("auth", Required, true), ("redis", Degrading, false)]),
            Ok(vec!["redis".to_string()])
        );
        assert_eq!(
            r(&[("auth", Required, false), ("redis", Degrading, false)]),
            Err("unavailable: auth".into())
        );
    }

    #[tokio::test]
    async fn unreachable_services_and_failed_extras_are_reported_down() {
        // Nothing listens on port 1: every connection is refused at once.
        let config = Config::from_lookup(|k| match k {
            "AUTH_URL" | "MESSAGE_URL" | "MEDIA_URL" => Some("http://127.0.0.1:1".into()),
            _ => None,
        })
        .unwrap();
        let state = AppState::new(config).unwrap();
        state.clients.checks.register("redis", || async { false });
        state.clients.checks.register("slow", || async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            true
        });
        let started = std::time::Instant::now();
        let res = summarize(check_all(&state).await);
        assert_eq!(
            res,
            Err("unavailable: auth, message, media, redis, slow".into())
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
