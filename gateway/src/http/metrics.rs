//! `GET /metrics` in the Prometheus text format, and the middleware that
//! counts and times every API request by route.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

const REQUESTS: &str = "http_requests_total";
const DURATION: &str = "http_request_duration_seconds";
const BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Every event and request is timed; these are their histograms.
const TIMED: [&str; 2] = [DURATION, "chat_socket_event_seconds"];

/// How often recorded samples are folded into the histograms.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide recorder on first use, and its upkeep. A
/// second gateway in the same process (tests, the one-process binary)
/// shares it; if some other recorder got there first, `/metrics` still
/// answers, only emptier.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = TIMED.iter().try_fold(PrometheusBuilder::new(), |b, name| {
            b.set_buckets_for_metric(Matcher::Full((*name).into()), BUCKETS)
        });
        let installed = builder.and_then(PrometheusBuilder::install_recorder);
        match installed {
            Ok(handle) => {
                spawn_upkeep(handle.clone());
                metrics::describe_counter!(REQUESTS, "HTTP requests answered, by method, route and status");
                metrics::describe_histogram!(
                    DURATION,
                    metrics::Unit::Seconds,
                    "Time to the response head, by method, route and status"
                );
                handle
            }
            Err(e) => {
                tracing::warn!(error = %e, "metrics recorder not installed; /metrics will be sparse");
                PrometheusBuilder::new().build_recorder().handle()
            }
        }
    })
}

/// The recorder keeps every sample until an upkeep folds them into the
/// histograms; `install_recorder` leaves upkeep to its caller. Run only at
/// scrape time, a gateway nobody scraped kept each event's timing: the
/// 20-minute soak grew 40 MiB (16 bytes an event) until `/metrics` was
/// read once. A thread, not a task: the recorder may be installed before
/// (or outside) a runtime, and upkeep is a few microseconds of locking.
fn spawn_upkeep(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_EVERY);
                handle.run_upkeep();
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "no metrics upkeep thread; samples fold only when /metrics is read");
    }
}

pub async fn render() -> Response {
    let handle = install();
    // Histograms are drained on upkeep; scraping is the natural moment.
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}

/// Route-level middleware: the matched route template (`/media/{id}`), not
/// the raw path, keeps the label set small.
pub async fn track(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = req.method().as_str().to_string();
    let res = next.run(req).await;
    let labels = [
        ("method", method),
        ("route", route),
        ("status", res.status().as_u16().to_string()),
    ];
    metrics::counter!(REQUESTS, &labels).increment(1);
    metrics::histogram!(DURATION, &labels).record(started.elapsed().as_secs_f64());
    res
}
