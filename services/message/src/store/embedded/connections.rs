//! The SQLite connections behind the embedded store: the one writer, and a
//! small pool of read-only connections that WAL lets run beside it, so
//! history pages, lookups and unread counts never queue behind a send.
//!
//! Reads see every write that has returned: each write commits before its
//! call returns, a WAL reader's snapshot starts with its statement, and no
//! statement or transaction is left open between calls (finished statements
//! are reset when their rows are dropped).

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::Duration;

use chat_common::sqlite;
use rusqlite::Connection;

use crate::error::{Error, Result};

/// Two readers: the machines this runs on are small, and reads are short.
const READERS: usize = 2;

/// How often the background checkpointer copies the WAL into the database.
/// Often, so each checkpoint has little to copy and its fsyncs are short:
/// while they run, the writer's `pwrite`s wait on the ext4 journal. On the
/// ramp (one run each, bench/README.md § Disk stalls) the highest rate held
/// at p99 ≤ 50 ms was 6,776 sends/s at 1 s, 10,588 at 250 ms, and at 5 s
/// p99 passed 50 ms from 2,776 sends/s.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// The writer's own checkpoint threshold (pages, 4 KiB each: at most
/// ~400 MB of WAL). The background checkpointer copies the WAL into the
/// database but cannot rewind it while sends keep arriving (a rewind needs
/// a moment when every frame is copied); under sustained load only this
/// checkpoint, run by the writer between two batches, rewinds it, and its
/// two fsyncs stop every send for 15–30 ms (`perf trace` on the ramp). At
/// 20,000 pages that came every 2–3 s at 2,000 sends/s and set the ramp's
/// p99; at 100,000 every 10–15 s. When sends pause, the background
/// checkpoint catches up and the WAL rewinds without it. The file keeps its
/// size once grown (rewritten in place, which needs no block allocation)
/// and is removed when the store closes.
const WRITER_AUTOCHECKPOINT_PAGES: u32 = 100_000;

pub(super) struct Connections {
    // Fields drop in order: the checkpointer stops and the readers close
    // first, so the writer is the last connection and checkpoints the WAL
    // back into the file on close.
    _stop_checkpointer: mpsc::Sender<()>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    writer: Mutex<Connection>,
}

impl Connections {
    /// Opens the writer (creating the file, WAL mode and `schema`), then the
    /// readers. Blocking.
    pub(super) fn open(path: &Path, schema: &str) -> Result<Connections> {
        let writer: Connection = chat_common::sqlite::open_writer::<Error>(path, schema)?;
        // A checkpoint fsyncs the WAL and the database. Run by the writer
        // (every 1000 pages by default) it stalled the send that crossed the
        // threshold for milliseconds: the benchmark's p99. A background
        // thread checkpoints instead; PASSIVE never blocks the writer.
        writer.pragma_update(None, "wal_autocheckpoint", WRITER_AUTOCHECKPOINT_PAGES)?;
        let readers = (0..READERS)
            .map(|_| Ok(Mutex::new(sqlite::open_reader(path)?)))
            .collect::<Result<_>>()?;
        Ok(Connections {
            _stop_checkpointer: spawn_checkpointer(path)?,
            readers,
            next_reader: AtomicUsize::new(0),
            writer: Mutex::new(writer),
        })
    }

    /// Runs `f` on the writer, the only connection that changes anything.
    /// Blocking.
    pub(super) fn write<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        f(&mut relock(self.writer.lock()))
    }

    /// Runs `f` on a free reader, or waits for one when all are busy.
    /// Blocking.
    pub(super) fn read<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        let n = self.readers.len();
        for i in 0..n {
            match self.readers[(start + i) % n].try_lock() {
                Ok(mut guard) => return f(&mut guard),
                Err(TryLockError::Poisoned(p)) => return f(&mut p.into_inner()),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        f(&mut relock(self.readers[start % n].lock()))
    }
}

/// A panic mid-call cannot leave a half-applied change behind (statements
/// are atomic, transactions roll back on drop), so a poisoned lock is still
/// usable.
fn relock<'a>(
    locked: Result<MutexGuard<'a, Connection>, PoisonError<MutexGuard<'a, Connection>>>,
) -> MutexGuard<'a, Connection> {
    locked.unwrap_or_else(PoisonError::into_inner)
}

/// Checkpoints the WAL every [`CHECKPOINT_EVERY`] on a thread and a
/// connection of its own, until the returned sender is dropped.
fn spawn_checkpointer(path: &Path) -> Result<mpsc::Sender<()>> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(sqlite::BUSY_TIMEOUT)?;
    let (stop, stopped) = mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY) {
                let done = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                if let Err(e) = done {
                    tracing::warn!(error = %e, "WAL checkpoint failed; retrying");
                }
            }
        })?;
    Ok(stop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open() -> (tempfile::TempDir, Connections) {
        let dir = tempfile::tempdir().unwrap();
        let conns = Connections::open(&dir.path().join("c.sqlite3"), "CREATE TABLE t (v INTEGER);")
            .unwrap();
        (dir, conns)
    }

    #[test]
    fn readers_cannot_write() {
        let (_dir, conns) = open();
        let err = conns
            .read(|c| Ok(c.execute("INSERT INTO t (v) VALUES (1)", [])?))
            .unwrap_err();
        assert!(err.to_string().contains("readonly"), "{err}");
    }

    #[test]
    fn a_read_sees_the_write_before_it_and_does_not_wait_for_the_writer() {
        let (_dir, conns) = open();
        conns
            .write(|c| Ok(c.execute("INSERT INTO t (v) VALUES (7)", [])?))
            .unwrap();
        // Hold the writer mid-transaction: a read must neither block on it
        // nor see its uncommitted row.
        conns
            .write(|w| {
                let tx = w.transaction()?;
                tx.execute("INSERT INTO t (v) VALUES (8)", [])?;
                let seen: Vec<i64> = conns.read(|r| {
                    let mut stmt = r.prepare_cached("SELECT v FROM t ORDER BY v")?;
                    let rows = stmt.query_map([], |row| row.get(0))?;
                    Ok(rows.collect::<rusqlite::Result<_>>()?)
                })?;
                assert_eq!(seen, [7]);
                tx.commit()?;
                Ok(())
            })
            .unwrap();
        let sum: i64 = conns
            .read(|r| Ok(r.query_row("SELECT SUM(v) FROM t", [], |row| row.get(0))?))
            .unwrap();
        assert_eq!(sum, 15);
    }

    #[test]
    fn the_wal_is_checkpointed_in_the_background() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sqlite3");
        let conns = Connections::open(&path, "CREATE TABLE t (v BLOB);").unwrap();
        let size = || std::fs::metadata(&path).unwrap().len();
        let before = size();
        conns
            .write(|c| {
                for _ in 0..50 {
                    c.execute("INSERT INTO t VALUES (zeroblob(4096))", [])?;
                }
                Ok(())
            })
            .unwrap();
        // Far below the writer's own threshold: only the checkpointer moves
        // these pages into the database file.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while size() < before + 50 * 4096 {
            assert!(std::time::Instant::now() < deadline, "never checkpointed");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    #[test]
    fn uses_write_ahead_logging_with_normal_sync() {
        let (_dir, conns) = open();
        let (mode, sync): (String, i64) = conns
            .write(|c| {
                let mode = c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
                let sync = c.query_row("PRAGMA synchronous", [], |r| r.get(0))?;
                Ok((mode, sync))
            })
            .unwrap();
        // 1 is NORMAL.
        assert_eq!((mode.as_str(), sync), ("wal", 1));
    }
}
