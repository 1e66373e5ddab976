//! Plumbing every chat service shares, so each service crate holds only its
//! own business: serving gRPC with the standard health and reflection
//! services, typed environment variables, tracing set-up, allocator
//! settings, timestamp conversions and the naming rules. With the `testing` feature it also
//! carries the store conformance harness.

pub mod caller;
pub mod certs;
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
pub mod telemetry;
pub mod time;
pub mod tls;
pub mod tokens;

#[cfg(feature = "testing")]
pub mod conformance;
