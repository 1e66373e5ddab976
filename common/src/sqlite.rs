//! The one way an embedded store opens its SQLite file, so every service's
//! data gets the same durability and locking rules.
//!
//! - WAL: readers never block the writer, and a commit is one append.
//! - `synchronous = NORMAL`: in WAL mode this survives any crash of the
//!   process (a commit is in the WAL before the call returns, so before an
//!   ack); only a power loss can drop the last commits. FULL would fsync
//!   every message, which the benchmark showed dominating send latency.
//! - A busy timeout: another process (a backup, a second service started by
//!   mistake) may hold the lock briefly; wait rather than fail.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens the read-write connection (creating the directory and the file),
/// with the pragmas above, and applies `schema` (idempotent DDL). Blocking.
pub fn open_writer<E>(path: &Path, schema: &str) -> Result<Connection, E>
where
    E: From<std::io::Error> + From<rusqlite::Error>,
{
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        // A file system without shared memory (some network mounts): still
        // correct, only slower and with readers blocking the writer.
        tracing::warn!(%mode, path = %path.display(), "SQLite refused WAL mode");
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // Every write path keeps its statements prepared (`prepare_cached`);
    // rusqlite's default cache of 16 is fewer than the writer's distinct
    // statements, and an evicted statement is parsed again when next used.
    conn.set_prepared_statement_cache_capacity(64);
    conn.execute_batch(schema)?;
    Ok(conn)
}

/// A read-only connection to a file [`open_writer`] created: read-only at
/// the SQLite level, so a read path can never write by mistake. Blocking.
pub fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_store_file_gets_wal_and_normal_sync() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/dir/store.db");
        let conn =
            open_writer::<Box<dyn std::error::Error>>(&path, "CREATE TABLE IF NOT EXISTS t (x)")
                .unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        let sync: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(sync, 1, "NORMAL");
        conn.execute("INSERT INTO t VALUES (1)", []).unwrap();
        let reader = open_reader(&path).unwrap();
        let n: i64 = reader
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
        assert!(
            reader.execute("INSERT INTO t VALUES (2)", []).is_err(),
            "a reader must not write"
        );
    }
}
