//! Draining for a graceful stop: the flag `/healthz` and the HTTP layer read
//! (no new Socket.IO sessions once set), and the count of client events in
//! flight that the stop waits for before disconnecting anyone, so every
//! event that was accepted gets its ack.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio::sync::Notify;

use crate::http::socket_request::SOCKET_IO_PATH;

#[derive(Default)]
pub struct Drain {
    draining: AtomicBool,
    /// Client events being handled.
    events: Counter,
    /// Chat sockets whose departure (`userLeft`) is not announced yet.
    sockets: Counter,
}

/// A number of things under way and a way to wait until there are none.
#[derive(Default)]
pub struct Counter {
    count: AtomicUsize,
    idle: Notify,
}

/// One thing under way; dropping it is what lets a drain finish.
pub struct InFlight(Arc<Drain>, fn(&Drain) -> &Counter);

impl Drop for InFlight {
    fn drop(&mut self) {
        let counter = (self.1)(&self.0);
        if counter.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            counter.idle.notify_waiters();
        }
    }
}

impl Counter {
    fn get(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    async fn idle(&self) {
        loop {
            let notified = self.idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.get() == 0 {
                return;
            }
            notified.await;
        }
    }
}

impl Drain {
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    /// From now on no new event is accepted.
    pub fn start(&self) {
        self.draining.store(true, Ordering::Release);
    }

    /// Admits an event, unless draining. Counted before the flag is read so
    /// that a drain that saw zero events in flight cannot miss one.
    pub fn enter(self: &Arc<Self>) -> Option<InFlight> {
        self.events.count.fetch_add(1, Ordering::AcqRel);
        let guard = InFlight(self.clone(), |d| &d.events);
        (!self.is_draining()).then_some(guard)
    }

    /// A chat socket until its departure is announced (drop it then).
    pub fn socket(self: &Arc<Self>) -> InFlight {
        self.sockets.count.fetch_add(1, Ordering::AcqRel);
        InFlight(self.clone(), |d| &d.sockets)
    }

    pub fn in_flight(&self) -> usize {
        self.events.get()
    }

    /// Resolves once no admitted event is still running.
    pub async fn idle(&self) {
        self.events.idle().await
    }

    /// Resolves once every chat socket's departure was announced.
    pub async fn departed(&self) {
        self.sockets.idle().await
    }
}

/// While draining, a request opening a new Engine.IO session (no `sid`)
/// gets 503, so clients reconnect to another node; the sessions already
/// open keep polling until they are disconnected.
pub async fn refuse_new_sessions(
    State(drain): State<Arc<Drain>>,
    req: Request,
    next: Next,
) -> Response {
    let opens_session = req.uri().path().starts_with(SOCKET_IO_PATH)
        && !req
            .uri()
            .query()
            .is_some_and(|q| q.split('&').any(|kv| kv.starts_with("sid=")));
    if drain.is_draining() && opens_session {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({ "error": "This server is shutting down; connect to another one" })),
        )
            .into_response();
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_drain_waits_for_admitted_events_and_refuses_new_ones() {
        let drain = Arc::new(Drain::default());
        let running = drain.enter().expect("admitted before the drain");
        drain.start();
        assert!(drain.enter().is_none(), "admitted while draining");
        assert_eq!(drain.in_flight(), 1);
        let waiter = tokio::spawn({
            let drain = drain.clone();
            async move { drain.idle().await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiter.is_finished(), "idle with an event running");
        drop(running);
        tokio::time::timeout(Duration::from_secs(1), waiter)
            .await
            .expect("idle once the event finished")
            .unwrap();
    }
}
