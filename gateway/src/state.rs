//! What every HTTP handler and socket handler shares.

use std::sync::Arc;

use crate::avatars::Avatars;
use crate::clients::Clients;
use crate::config::Config;
use crate::drain::Drain;
use crate::error::Error;
use crate::token::Verifier;

/// One reference count to clone, which matters: axum clones its router
/// state with every route service for every request, and socketioxide's
/// `State` extractor clones it for every event. Cloning the fields one by
/// one (the gRPC clients are boxed service stacks) was 40 % of a connect
/// storm's CPU.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// What [`AppState`] shares; its fields read through `Deref`.
pub struct Shared {
    pub config: Arc<Config>,
    pub clients: Clients,
    pub verifier: Verifier,
    pub avatars: Avatars,
    /// Set once a graceful stop began.
    pub drain: Arc<Drain>,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// Builds the clients (lazily connected) and an empty verifier; the
    /// caller loads the public key.
    pub fn new(config: Config) -> Result<Self, Error> {
        let clients = Clients::new(&config)?;
        Ok(Self::with_clients(config, clients))
    }

    /// As [`AppState::new`], on clients built elsewhere.
    pub fn with_clients(config: Config, clients: Clients) -> Self {
        Self(Arc::new(Shared {
            config: Arc::new(config),
            clients,
            verifier: Verifier::default(),
            avatars: Avatars::default(),
            drain: Arc::default(),
        }))
    }

    /// Base of the links handed to clients (media, avatars): `PUBLIC_URL`
    /// when set, else empty, which makes the links relative (`/media/{id}`).
    /// Never built from request headers: one user's `Host` or
    /// `X-Forwarded-Host` must not decide where the links other users
    /// receive point (PROTOCOL.md § Browsers).
    pub fn public_base(&self) -> &str {
        self.config.public_url.as_deref().unwrap_or_default()
    }

    /// `{base}/media/{id}`.
    pub fn media_url(&self, base: &str, id: &str) -> String {
        format!("{base}/media/{id}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(public_url: Option<&str>) -> AppState {
        let mut config = Config::from_lookup(|_| None).unwrap();
        config.public_url = public_url.map(str::to_string);
        AppState::new(config).unwrap()
    }

    #[tokio::test]
    async fn links_are_absolute_from_public_url_else_relative() {
        let s = state(Some("https://chat.example.org"));
        assert_eq!(s.public_base(), "https://chat.example.org");
        assert_eq!(
            s.media_url(s.public_base(), "m1"),
            "https://chat.example.org/media/m1"
        );
        let s = state(None);
        assert_eq!(s.media_url(s.public_base(), "m1"), "/media/m1");
    }
}
