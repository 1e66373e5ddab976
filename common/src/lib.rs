//! Plumbing every chat service shares, so each service crate holds only its
//! own business: serving gRPC with the standard health and reflection
//! services, tracing set-up, and timestamp conversions. With the `testing`
//! feature it also carries the store conformance harness.

pub mod grpc;
mod signal;
pub use signal::shutdown_signal;
pub mod telemetry;
pub mod time;

#[cfg(feature = "testing")]
pub mod conformance;
