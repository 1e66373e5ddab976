//! What every HTTP handler and socket handler shares.

use std::sync::Arc;

use crate::avatars::Avatars;
use crate::clients::Clients;
use crate::config::Config;
use crate::drain::Drain;
use crate::error::Error;
use crate::token::Verifier;

/// Cheap to clone; handed to axum as router state and to socketioxide as
/// its state.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub clients: Clients,
    pub verifier: Verifier,
    pub avatars: Avatars,
    /// Set once a graceful stop began.
    pub drain: Arc<Drain>,
}

impl AppState {
    /// Builds the clients (lazily connected) and an empty verifier; the
    /// caller loads the public key.
    pub fn new(config: Config) -> Result<Self, Error> {
        let clients = Clients::new(&config)?;
        Ok(Self {
            config: Arc::new(config),
            clients,
            verifier: Verifier::default(),
            avatars: Avatars::default(),
            drain: Arc::default(),
        })
    }

    /// Base URL for links handed to clients (media, avatars): `PUBLIC_URL`
    /// when set, else derived from the request's `Host` header. A Host that
    /// is not a plain `host[:port]` is ignored so a forged header cannot
    /// inject anything into the links.
    pub fn public_base(&self, host: Option<&str>, forwarded_proto: Option<&str>) -> String {
        if let Some(u) = &self.config.public_url {
            return u.clone();
        }
        let host = host.filter(|h| is_host(h)).unwrap_or("localhost");
        let proto = match forwarded_proto.map(|p| p.trim().to_ascii_lowercase()) {
            Some(p) if p == "https" => "https",
            _ => "http",
        };
        format!("{proto}://{host}")
    }

    /// `{base}/media/{id}`.
    pub fn media_url(&self, base: &str, id: &str) -> String {
        format!("{base}/media/{id}")
    }
}

fn is_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 255
        && h.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']' | b'_')
        })
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
    async fn public_base_prefers_the_configured_url() {
        let s = state(Some("https://chat.example.org"));
        assert_eq!(
            s.public_base(Some("evil.test"), None),
            "https://chat.example.org"
        );
    }

    #[tokio::test]
    async fn public_base_follows_host_and_forwarded_proto() {
        let s = state(None);
        assert_eq!(
            s.public_base(Some("localhost:5000"), None),
            "http://localhost:5000"
        );
        assert_eq!(
            s.public_base(Some("chat.test"), Some("https")),
            "https://chat.test"
        );
        assert_eq!(
            s.public_base(Some("chat.test"), Some("gopher")),
            "http://chat.test"
        );
        assert_eq!(s.public_base(None, None), "http://localhost");
        assert_eq!(s.public_base(Some("a.test/x?y"), None), "http://localhost");
        assert_eq!(s.media_url("http://h", "m1"), "http://h/media/m1");
    }
}
