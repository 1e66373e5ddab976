//! Group commit for sends: one thread takes every insert waiting for the
//! writer and stores them in one transaction, each inside a savepoint of
//! its own when there are several, then answers each caller only after that
//! transaction commits.
//!
//! Why: every commit makes FTS5 flush its pending terms into a new index
//! segment, which later merges must fold back in. Committed one by one,
//! that flush and the merges were about 30 % of a send's instructions (callgrind, see
//! bench/README.md); under load, a batch pays it once for many sends. A
//! lone send waits for no one: the thread takes what is queued the moment
//! it is free, one message or many. Only when sends keep coming faster
//! than one per [`LINGER`] on average ([`Pace`]) does a batch wait up to
//! [`LINGER`] for company, so one commit's WAL pages carry several sends.
//!
//! Between batches the same thread does the store's deferred work (the
//! search index catch-up, `fts`), so that work never races a send for the
//! writer and never delays a send that is already waiting.
//!
//! Safety rules:
//! - An insert is acknowledged only after the commit that holds it (a
//!   caller never hears "stored" for a row a crash could lose).
//! - One insert's failure rolls back its own savepoint only; the others of
//!   the batch commit. A failed commit fails every insert of the batch, and
//!   none of them is stored.

use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::connections::Connections;
use crate::error::{Error, Result};
use crate::model::Message;

/// The most inserts one transaction holds: bounds how long a batch keeps
/// the writer from the other writes (edits, reactions, read positions).
const MAX_BATCH: usize = 128;

/// Under load, how long a batch waits for more sends before it commits.
/// Each commit writes every page it touched to the WAL (4 KiB frames, and
/// the message table and its indexes are several pages even for one row):
/// at 2,000 sends/s, committed one by one, that was 40 MB of WAL a second,
/// so frequent checkpoints whose fsyncs stalled the writer and set the
/// ramp's p99 (bench/README.md). A few sends a commit share those pages.
const LINGER: Duration = Duration::from_millis(1);

type Reply = oneshot::Sender<Result<(Message, bool)>>;

/// A send waiting for the thread, with when it was queued.
type Queued = (Message, Reply, Instant);

/// Work the insert thread owes once enough rows were stored, run between
/// batches.
pub(super) trait Deferred: Send + 'static {
    /// After each committed batch: how many rows it stored.
    fn stored(&mut self, rows: usize);
    /// How long the thread may wait for the next send before `run` is
    /// due; `None` when nothing is owed.
    fn due_in(&self) -> Option<Duration>;
    fn run(&mut self, conns: &Connections);
}

/// The queue into the batching thread; the thread ends when this is
/// dropped, after the inserts already queued.
pub(super) struct Inserter {
    queue: mpsc::Sender<Queued>,
}

impl Inserter {
    /// Starts the thread. `insert` stores one message on the connection it
    /// is given (a savepoint) and says whether it was new; `deferred` is
    /// the work owed for the rows stored.
    pub(super) fn start(
        conns: Arc<Connections>,
        insert: fn(&Connection, Message) -> Result<(Message, bool)>,
        mut deferred: impl Deferred,
    ) -> Result<Inserter> {
        let (queue, queued) = mpsc::channel::<Queued>();
        std::thread::Builder::new()
            .name("sqlite-inserts".into())
            .spawn(move || {
                let mut pace = Pace::default();
                loop {
                    let next = match deferred.due_in() {
                        None => queued.recv().map_err(|_| RecvTimeoutError::Disconnected),
                        Some(wait) => queued.recv_timeout(wait),
                    };
                    let (message, reply, at) = match next {
                        Ok(first) => first,
                        Err(RecvTimeoutError::Timeout) => {
                            deferred.run(&conns);
                            continue;
                        }
                        Err(RecvTimeoutError::Disconnected) => break,
                    };
                    pace.arrived(at);
                    let mut batch = vec![(message, reply)];
                    let until = Instant::now() + pace.linger();
                    while batch.len() < MAX_BATCH {
                        let wait = until.saturating_duration_since(Instant::now());
                        match queued.recv_timeout(wait) {
                            Ok((message, reply, at)) => {
                                pace.arrived(at);
                                batch.push((message, reply));
                            }
                            Err(_) => break,
                        }
                    }
                    deferred.stored(store(&conns, insert, batch));
                    if deferred.due_in() == Some(Duration::ZERO) {
                        deferred.run(&conns);
                    }
                }
            })?;
        Ok(Inserter { queue })
    }

    /// Stores `message` with the next batch; resolves once it is committed.
    pub(super) async fn insert(&self, message: Message) -> Result<(Message, bool)> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((message, reply, Instant::now()))
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn stopped() -> Error {
    Error::Unavailable("the message store is shutting down".into())
}

/// One transaction for the whole batch, a savepoint for each insert (a
/// batch of one needs none: its transaction is its savepoint). Returns how
/// many rows it stored.
fn store(
    conns: &Connections,
    insert: fn(&Connection, Message) -> Result<(Message, bool)>,
    batch: Vec<(Message, Reply)>,
) -> usize {
    let mut replies = Vec::with_capacity(batch.len());
    let committed = conns.write(|conn| {
        control(conn, "BEGIN")?;
        let _open = RollbackUnlessDone(conn);
        let alone = batch.len() == 1;
        for (message, reply) in batch {
            let outcome = if alone {
                insert(conn, message)
            } else {
                in_savepoint(conn, insert, message)?
            };
            replies.push((reply, outcome));
        }
        if replies.iter().all(|(_, outcome)| outcome.is_err()) {
            // Nothing to keep; `_open` rolls back.
            return Ok(());
        }
        control(conn, "COMMIT")?;
        Ok(())
    });
    let stored = match &committed {
        Ok(()) => replies
            .iter()
            .filter(|(_, outcome)| matches!(outcome, Ok((_, true))))
            .count(),
        Err(_) => 0,
    };
    for (reply, outcome) in replies {
        let answer = match &committed {
            Ok(()) => outcome,
            Err(e) => Err(Error::Unavailable(format!(
                "the message was not stored: {e}"
            ))),
        };
        // The caller may have given up (its deadline passed); the message
        // is stored all the same, and a resend finds it.
        let _ = reply.send(answer);
    }
    if let Err(e) = committed {
        tracing::error!(error = %e, "a batch of sends failed to commit");
    }
    stored
}

/// How fast sends arrive: the gap between one queued send and the next,
/// averaged over roughly the last eight. Lingering pays only when a wait of
/// [`LINGER`] can expect company; otherwise it is pure latency. The first
/// rule (linger when the batch opened within 2 ms of the last commit) also
/// lingered at 200 sends/s, whenever two sends happened to come close, and
/// that added up to 1 ms to the fan-out's p95 and p99 (bench/README.md).
#[derive(Default)]
struct Pace {
    last: Option<Instant>,
    gap: Option<Duration>,
}

impl Pace {
    /// A send queued at `at`. Sends are queued by several threads, so one
    /// may carry an instant a little before the last: a gap of zero.
    fn arrived(&mut self, at: Instant) {
        let Some(last) = self.last else {
            self.last = Some(at);
            return;
        };
        self.last = Some(last.max(at));
        let gap = at.saturating_duration_since(last);
        self.gap = Some(match self.gap {
            Some(average) => (average * 7 + gap) / 8,
            None => gap,
        });
    }

    /// How long a batch opened now waits for more sends.
    fn linger(&self) -> Duration {
        match self.gap {
            Some(average) if average < LINGER => LINGER,
            _ => Duration::ZERO,
        }
    }
}

/// Transaction control from the connection's statement cache: rusqlite's
/// `transaction()` and `savepoint()` parse `BEGIN`, `COMMIT` and the
/// savepoint statements anew on every call, a few thousand instructions
/// each, several times a send (callgrind, bench/README.md).
fn control(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

/// Rolls back whatever transaction is still open when dropped: after an
/// error, a failed `COMMIT`, or a panic in `insert`, so the writer is never
/// left inside a transaction.
struct RollbackUnlessDone<'c>(&'c Connection);

impl Drop for RollbackUnlessDone<'_> {
    fn drop(&mut self) {
        if !self.0.is_autocommit()
            && let Err(e) = self.0.execute_batch("ROLLBACK")
        {
            tracing::error!(error = %e, "could not roll back a batch of sends");
        }
    }
}

/// `insert` inside a savepoint of its own: its failure undoes its own
/// writes only. The outer error means the savepoint could not be undone,
/// which fails the whole batch.
fn in_savepoint(
    conn: &Connection,
    insert: fn(&Connection, Message) -> Result<(Message, bool)>,
    message: Message,
) -> Result<Result<(Message, bool)>> {
    control(conn, "SAVEPOINT one_send")?;
    let outcome = insert(conn, message).and_then(|stored| {
        control(conn, "RELEASE one_send")?;
        Ok(stored)
    });
    if outcome.is_err() {
        control(conn, "ROLLBACK TO one_send")?;
        control(conn, "RELEASE one_send")?;
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: &str) -> Message {
        Message {
            id: id.into(),
            room: "general".into(),
            sender: "ann".into(),
            content: id.into(),
            avatar_media_id: None,
            ts: 1,
            client_id: None,
            attachments: Vec::new(),
            edited_at: None,
            deleted: false,
            reply_to: None,
            reply: None,
            reactions: Vec::new(),
        }
    }

    /// Writes its row, then fails for `boom`: only a rollback of its own
    /// savepoint can take that row back out.
    fn insert_or_fail(conn: &Connection, m: Message) -> Result<(Message, bool)> {
        conn.execute("INSERT INTO t (id) VALUES (?1)", [&m.id])?;
        if m.id == "boom" {
            return Err(Error::InvalidArgument("boom".into()));
        }
        Ok((m, true))
    }

    fn open() -> (tempfile::TempDir, Arc<Connections>, Inserter) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.sqlite3");
        let schema = "CREATE TABLE t (id TEXT PRIMARY KEY); CREATE TABLE runs (rows INTEGER);";
        let conns = Arc::new(Connections::open(&path, schema).unwrap());
        let inserter = Inserter::start(conns.clone(), insert_or_fail, Owed::default()).unwrap();
        (dir, conns, inserter)
    }

    /// Owes a run after every 10 rows, or 500 ms after the first row owed;
    /// counts its runs and the rows it was told of, as the table `runs`
    /// sees them (so a test reads them through the store).
    #[derive(Default)]
    struct Owed {
        rows: usize,
        since: Option<std::time::Instant>,
    }

    impl Deferred for Owed {
        fn stored(&mut self, rows: usize) {
            self.rows += rows;
            if rows > 0 {
                self.since.get_or_insert_with(std::time::Instant::now);
            }
        }
        fn due_in(&self) -> Option<Duration> {
            let since = self.since?;
            if self.rows >= 10 {
                return Some(Duration::ZERO);
            }
            Some(Duration::from_millis(500).saturating_sub(since.elapsed()))
        }
        fn run(&mut self, conns: &Connections) {
            let rows = i64::try_from(std::mem::take(&mut self.rows)).unwrap();
            self.since = None;
            conns
                .write(|c| Ok(c.execute("INSERT INTO runs (rows) VALUES (?1)", [rows])?))
                .unwrap();
        }
    }

    /// The first column of every row `sql` selects, read through the store.
    fn column<T: rusqlite::types::FromSql>(conns: &Connections, sql: &str) -> Vec<T> {
        conns
            .read(|c| {
                let mut stmt = c.prepare(sql)?;
                let rows = stmt.query_map([], |r| r.get(0))?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            })
            .unwrap()
    }

    fn stored(conns: &Connections) -> Vec<String> {
        column(conns, "SELECT id FROM t ORDER BY id")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_insert_rolls_back_alone_and_the_rest_of_its_batch_is_stored() {
        let (_dir, conns, inserter) = open();
        let mut ids: Vec<String> = (0..300).map(|i| format!("m{i:03}")).collect();
        ids.insert(150, "boom".into());
        let outcomes =
            futures::future::join_all(ids.iter().map(|id| inserter.insert(message(id)))).await;
        for (id, outcome) in ids.iter().zip(&outcomes) {
            match outcome {
                Ok((m, true)) => assert_eq!(&m.id, id),
                Err(Error::InvalidArgument(_)) => assert_eq!(id, "boom"),
                other => panic!("{id}: {other:?}"),
            }
        }
        let expected: Vec<String> = ids.into_iter().filter(|id| id != "boom").collect();
        assert_eq!(stored(&conns), expected);
    }

    #[test]
    fn only_a_steady_stream_of_sends_faster_than_the_linger_lingers() {
        let (ms, us) = (Duration::from_millis, Duration::from_micros);
        let mut pace = Pace::default();
        let t0 = Instant::now();
        pace.arrived(t0);
        assert_eq!(pace.linger(), Duration::ZERO, "the first send");
        for i in 1..100 {
            pace.arrived(t0 + ms(5 * i));
        }
        assert_eq!(pace.linger(), Duration::ZERO, "200 a second");
        pace.arrived(t0 + ms(495) + us(100));
        pace.arrived(t0 + ms(495) + us(200));
        assert_eq!(
            pace.linger(),
            Duration::ZERO,
            "two that happen to come close at 200 a second"
        );
        let t1 = t0 + ms(1000);
        for i in 0..50 {
            pace.arrived(t1 + us(200 * i));
        }
        assert_eq!(pace.linger(), LINGER, "5,000 a second");
        pace.arrived(t1 + ms(9));
        pace.arrived(t1 + ms(8));
        assert_eq!(pace.linger(), LINGER, "queued out of order: no harm");
        pace.arrived(t1 + ms(1000));
        assert_eq!(pace.linger(), Duration::ZERO, "after a pause");
    }

    #[tokio::test]
    async fn a_lone_failed_insert_leaves_nothing_and_the_writer_goes_on() {
        let (_dir, conns, inserter) = open();
        // Alone in its batch: no savepoint, its transaction is rolled back.
        let err = inserter.insert(message("boom")).await.unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
        assert!(stored(&conns).is_empty(), "the row it wrote is gone");
        inserter.insert(message("after")).await.unwrap();
        assert_eq!(stored(&conns), vec!["after".to_string()]);
        assert!(conns.write(|c| Ok(c.is_autocommit())).unwrap());
    }

    #[tokio::test]
    async fn an_acknowledged_insert_is_committed_and_visible_to_readers() {
        let (_dir, conns, inserter) = open();
        for id in ["a", "b", "c"] {
            inserter.insert(message(id)).await.unwrap();
            assert!(stored(&conns).contains(&id.to_string()));
        }
    }

    fn runs(conns: &Connections) -> Vec<i64> {
        column(conns, "SELECT rows FROM runs ORDER BY rowid")
    }

    #[tokio::test]
    async fn owed_work_runs_once_enough_rows_are_stored_and_after_a_quiet_wait() {
        let (_dir, conns, inserter) = open();
        for i in 0..23 {
            inserter.insert(message(&format!("m{i:02}"))).await.unwrap();
        }
        // One at a time, each its own batch: runs at 10 and 20 rows.
        assert_eq!(runs(&conns), [10, 10]);
        // The last 3 are owed until the 500 ms wait passes with no send.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while runs(&conns).len() < 3 {
            assert!(
                std::time::Instant::now() < deadline,
                "never ran: {:?}",
                runs(&conns)
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(runs(&conns), [10, 10, 3]);
    }

    #[tokio::test]
    async fn a_send_refused_by_its_insert_is_not_counted_as_stored() {
        let (_dir, conns, inserter) = open();
        for id in ["a", "boom", "b"] {
            let _ = inserter.insert(message(id)).await;
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while runs(&conns).is_empty() {
            assert!(std::time::Instant::now() < deadline, "never ran");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(runs(&conns), [2]);
    }
}
