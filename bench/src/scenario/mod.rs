//! The scenarios, each run against one started system.

pub mod idle;
pub mod rooms;
pub mod soak;
pub mod storm;
