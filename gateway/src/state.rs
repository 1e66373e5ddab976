//! What every HTTP handler and socket handler shares.

use std::sync::Arc;

use crate::clients::Clients;
use crate::config::Config;
use crate::token::Verifier;

/// Cheap to clone; handed to axum as router state and to socketioxide as
/// its state.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub clients: Clients,
    pub verifier: Verifier,
}

impl AppState {
    /// Base URL for links handed to clients (media, avatars): `PUBLIC_URL`
    /// when set, else derived from the request's `Host` header.
    pub fn public_base(&self, host: Option<&str>, forwarded_proto: Option<&str>) -> String {
        if let Some(u) = &self.config.public_url {
            return u.clone();
        }
        let host = host.unwrap_or("localhost");
        let proto = forwarded_proto.unwrap_or("http");
        format!("{proto}://{host}")
    }

    /// `{base}/media/{id}`.
    pub fn media_url(&self, base: &str, id: &str) -> String {
        format!("{base}/media/{id}")
    }
}
