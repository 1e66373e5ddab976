//! Plumbing every chat service shares, so each service crate holds only its
//! own business: serving gRPC with the standard health and reflection
//! services and the caller check (user tokens, the platform's certificate),
//! typed environment variables, tracing set-up, allocator settings,
//! timestamp conversions, the naming and text rules and the SQLite opener.
//! With the `testing` feature it also carries the store conformance harness.

pub mod caller;
pub mod certs;
pub mod channel;
pub mod credentials;
pub mod emoji;
pub mod env;
pub mod grpc;
pub mod memory;
#[cfg(feature = "mongo")]
pub mod mongo;
pub mod names;
pub mod revocations;
pub mod session_sync;
mod signal;
pub use signal::shutdown_signal;
#[cfg(feature = "sqlite")]
pub mod sqlite;
pub mod telemetry;
pub mod text;
pub mod time;
pub mod tls;
pub mod tokens;

#[cfg(feature = "testing")]
pub mod conformance;
