//! The catch-up on ended sessions (`chat_common::session_sync`), run on the
//! gateway's verifier.

use crate::state::AppState;

pub use chat_common::session_sync::{SYNC_EVERY, endings};

/// Runs for the life of the process; call once the public keys are in.
pub fn spawn(state: AppState) {
    chat_common::session_sync::spawn(state.verifier.shared());
}
