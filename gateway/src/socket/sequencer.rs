//! A socket's events in arrival order: each event takes a ticket when it
//! arrives (synchronously, inside socketioxide's extraction, so tickets
//! follow the wire) and runs when every earlier ticket of the socket is
//! done. Safety rule: the queue is bounded, so a client cannot make the
//! server hold more than `max_waiting` of its events; only the server's own
//! work (`Sequencer::last`) may queue past the bound.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

/// Per-socket FIFO of events: each ticket waits for the one before it. At
/// most `max` tickets (the running event's and those waiting) exist at once.
#[derive(Clone)]
pub struct Sequencer {
    last: Arc<Mutex<Option<oneshot::Receiver<()>>>>,
    held: Arc<AtomicUsize>,
    max: usize,
}

impl Sequencer {
    /// `max_waiting` events may wait behind the one running.
    pub fn new(max_waiting: usize) -> Self {
        Self {
            last: Arc::default(),
            held: Arc::default(),
            max: max_waiting.saturating_add(1),
        }
    }

    /// The next place in the queue, or `None` when the queue is full.
    pub fn next(&self) -> Option<Turn> {
        let taken = self
            .held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            });
        if taken.is_err() {
            return None;
        }
        Some(self.ticket())
    }

    /// A place after every event queued so far, full queue or not: the
    /// server's own work (the joins of `rooms: "all"` at connect, a
    /// disconnect's clean-up), never a client's event.
    pub fn last(&self) -> Turn {
        self.held.fetch_add(1, Ordering::AcqRel);
        self.ticket()
    }

    /// A ticket whose place in `held` is already counted.
    fn ticket(&self) -> Turn {
        let (done, rx) = oneshot::channel();
        let prev = self
            .last
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .replace(rx);
        Turn {
            prev,
            _done: Some(done),
            _held: Some(Held(self.held.clone())),
        }
    }
}

/// Gives a queue place back when its turn is dropped.
struct Held(Arc<AtomicUsize>);

impl Drop for Held {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A place in a socket's queue; dropping it lets the next event run.
#[derive(Default)]
pub struct Turn {
    prev: Option<oneshot::Receiver<()>>,
    /// Held, never sent on: dropping it is what wakes the next event.
    _done: Option<oneshot::Sender<()>>,
    /// Counted in the queue until dropped.
    _held: Option<Held>,
}

impl Turn {
    /// Waits until every earlier event of the socket has finished; the
    /// returned guard holds the turn.
    pub async fn wait(mut self) -> Turn {
        if let Some(prev) = self.prev.take() {
            // A dropped sender is the signal too.
            let _ = prev.await;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn turns_run_in_ticket_order_whatever_the_scheduling() {
        let q = Sequencer::new(64);
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        // Later tickets are spawned first and the first one is slowest.
        let turns: Vec<Turn> = (0..5).map(|_| q.next().unwrap()).collect();
        for (i, turn) in turns.into_iter().enumerate().rev() {
            let log = log.clone();
            tasks.push(tokio::spawn(async move {
                let _t = turn.wait().await;
                if i == 0 {
                    tokio::time::sleep(Duration::from_millis(30)).await;
                }
                log.lock().unwrap().push(i);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*log.lock().unwrap(), vec![0, 1, 2, 3, 4]);
    }

    #[tokio::test]
    async fn the_queue_is_bounded_and_places_come_back() {
        let q = Sequencer::new(2);
        let turns: Vec<Turn> = (0..3).map(|_| q.next().unwrap()).collect();
        assert!(q.next().is_none(), "one running and two waiting is full");
        let mut turns = turns.into_iter();
        let first = turns.next().unwrap().wait().await;
        drop(first);
        let again = q.next().expect("a finished event frees its place");
        assert!(q.next().is_none());
        drop(turns);
        drop(again);
        assert!((0..3).all(|_| q.next().is_some()));
    }
}
