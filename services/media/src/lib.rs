//! The media service (`chat.media.v1.MediaService`).
pub mod config;
pub mod error;
pub mod names;
pub mod sniff;
pub mod store;
