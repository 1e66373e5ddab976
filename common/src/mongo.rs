//! How every service reads a MongoDB error, decided once: which failures a
//! retry may fix (`UNAVAILABLE` to the caller) and which mean a unique index
//! refused a write, however the driver reports it.

use mongodb::error::{Error, ErrorKind, WriteFailure};

/// MongoDB's duplicate key error code.
pub const DUPLICATE_KEY: i32 = 11000;

/// A unique index refused the write: as a write error (insert, update), a
/// command error (`findAndModify`, upserts through `runCommand`) or inside
/// an `insertMany`.
pub fn is_duplicate_key(e: &Error) -> bool {
    match &*e.kind {
        ErrorKind::Write(WriteFailure::WriteError(w)) => w.code == DUPLICATE_KEY,
        ErrorKind::Command(c) => c.code == DUPLICATE_KEY,
        ErrorKind::InsertMany(m) => m
            .write_errors
            .iter()
            .flatten()
            .any(|w| w.code == DUPLICATE_KEY),
        _ => false,
    }
}

/// The server cannot be reached right now, or is between primaries: the
/// same call may succeed shortly. Everything else (a bad document, a
/// refused command, corrupt data) is a bug or a data problem, not an outage.
pub fn is_transient(e: &Error) -> bool {
    matches!(
        &*e.kind,
        ErrorKind::ServerSelection { .. }
            | ErrorKind::Io(_)
            | ErrorKind::ConnectionPoolCleared { .. }
            | ErrorKind::DnsResolve { .. }
            | ErrorKind::Shutdown
    ) || e.contains_label(mongodb::error::RETRYABLE_WRITE_ERROR)
        || e.contains_label("TransientTransactionError")
        || matches!(
            &*e.kind,
            ErrorKind::Write(WriteFailure::WriteConcernError(_))
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_failures_are_transient_and_not_duplicates() {
        let e = Error::from(std::io::Error::other("connection reset"));
        assert!(is_transient(&e));
        assert!(!is_duplicate_key(&e));
    }

    #[test]
    fn other_failures_are_not_transient() {
        let e = Error::custom("a document the code cannot read");
        assert!(!is_transient(&e));
        assert!(!is_duplicate_key(&e));
    }
}
