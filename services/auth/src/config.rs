//! Settings read once from the environment into a typed struct.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use chat_common::env::Vars;

use crate::error::Error;

#[derive(Debug, Clone)]
pub struct Config {
    /// `AUTH_GRPC_ADDR`: where `main` binds the gRPC server.
    pub listen_addr: SocketAddr,
    /// `DATA_DIR`: the embedded store lives at `DATA_DIR/auth.sqlite3`.
    pub data_dir: PathBuf,
    /// `SHUTDOWN_GRACE_SECS`: once stopping, the bound on the calls in flight.
    pub shutdown_grace: Duration,
    /// `MONGO_URI`: when set, MongoDB replaces the embedded store.
    pub mongo_uri: Option<String>,
    /// `AUTH_MONGO_DB`: the database this service owns in MongoDB.
    pub mongo_db: String,
    /// `ACCESS_TOKEN_TTL_SECS`: lifetime of an access token.
    pub access_token_ttl: Duration,
    /// `REFRESH_TOKEN_TTL_SECS`: lifetime of a refresh token.
    pub refresh_token_ttl: Duration,
    /// `JWT_ISSUER`: the `iss` claim tokens carry.
    pub jwt_issuer: String,
    /// `JWT_AUDIENCE`: the `aud` claim tokens carry.
    pub jwt_audience: String,
    /// `HASH_CONCURRENCY`: password hashes computed at once (default: CPUs).
    pub hash_concurrency: usize,
    /// `HASH_QUEUE`: hashes that may wait for a slot; past it, UNAVAILABLE.
    pub hash_queue: usize,
    /// `LOGIN_MAX_FAILURES`: failed logins per username in the window.
    pub login_max_failures: usize,
    /// `LOGIN_FAILURE_WINDOW_SECS`: the window failed logins are counted in.
    pub login_failure_window: Duration,
    /// `GRPC_CA_CERT`, `GRPC_SERVER_CERT`/`_KEY`, `GRPC_REQUIRE_TLS`: the
    /// port's TLS identity and the CA whose client certificates make a
    /// caller the platform.
    pub grpc: chat_common::credentials::Credentials,
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen_addr: SocketAddr::from(([127, 0, 0, 1], 50051)),
            data_dir: PathBuf::from("./data"),
            shutdown_grace: chat_common::env::SHUTDOWN_GRACE_DEFAULT,
            mongo_uri: None,
            mongo_db: "chat_auth".into(),
            access_token_ttl: Duration::from_secs(900),
            refresh_token_ttl: Duration::from_secs(2_592_000),
            jwt_issuer: "chat".into(),
            jwt_audience: "chat".into(),
            hash_concurrency: cpus(),
            hash_queue: 16,
            login_max_failures: 10,
            login_failure_window: Duration::from_secs(900),
            grpc: Default::default(),
        }
    }
}

impl Config {
    pub fn from_env() -> Result<Config, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Parses settings from any name → value source; blank values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, Error> {
        let vars = Vars::new(lookup);
        let d = Config::default();
        Ok(Config {
            listen_addr: vars.socket_addr_or("AUTH_GRPC_ADDR", d.listen_addr)?,
            data_dir: vars.string("DATA_DIR").map_or(d.data_dir, PathBuf::from),
            shutdown_grace: vars.shutdown_grace()?,
            mongo_uri: vars.string("MONGO_URI"),
            mongo_db: vars.string_or("AUTH_MONGO_DB", &d.mongo_db),
            access_token_ttl: vars.duration_secs_or("ACCESS_TOKEN_TTL_SECS", d.access_token_ttl)?,
            refresh_token_ttl: vars
                .duration_secs_or("REFRESH_TOKEN_TTL_SECS", d.refresh_token_ttl)?,
            jwt_issuer: vars.string_or("JWT_ISSUER", &d.jwt_issuer),
            jwt_audience: vars.string_or("JWT_AUDIENCE", &d.jwt_audience),
            hash_concurrency: vars.positive_or("HASH_CONCURRENCY", d.hash_concurrency)?,
            hash_queue: vars.number_or("HASH_QUEUE", d.hash_queue)?,
            login_max_failures: vars.positive_or("LOGIN_MAX_FAILURES", d.login_max_failures)?,
            login_failure_window: vars
                .duration_secs_or("LOGIN_FAILURE_WINDOW_SECS", d.login_failure_window)?,
            grpc: chat_common::credentials::Credentials::from_vars(&vars)?,
        })
    }

    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join("auth.sqlite3")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_common::env::from_pairs;

    fn parse(pairs: &[(&str, &str)]) -> Result<Config, Error> {
        Config::from_lookup(from_pairs(pairs))
    }

    #[test]
    fn defaults_when_unset() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.listen_addr.to_string(), "127.0.0.1:50051");
        assert_eq!(c.sqlite_path(), PathBuf::from("./data/auth.sqlite3"));
        assert!(c.mongo_uri.is_none());
        assert_eq!(c.mongo_db, "chat_auth");
        assert_eq!(c.access_token_ttl, Duration::from_secs(900));
        assert_eq!(c.refresh_token_ttl, Duration::from_secs(2_592_000));
        assert_eq!(c.jwt_issuer, "chat");
        assert_eq!(c.jwt_audience, "chat");
        assert!(c.hash_concurrency >= 1);
        assert_eq!(c.login_max_failures, 10);
        assert_eq!(c.login_failure_window, Duration::from_secs(900));
    }

    #[test]
    fn reads_overrides_and_rejects_garbage() {
        let c = parse(&[
            ("AUTH_GRPC_ADDR", "0.0.0.0:6000"),
            ("MONGO_URI", "mongodb://db"),
            ("ACCESS_TOKEN_TTL_SECS", "60"),
            ("DATA_DIR", "/srv"),
            ("JWT_AUDIENCE", "chat-eu"),
            ("HASH_CONCURRENCY", "2"),
            ("HASH_QUEUE", "0"),
        ])
        .unwrap();
        assert_eq!(c.listen_addr.port(), 6000);
        assert_eq!(c.mongo_uri.as_deref(), Some("mongodb://db"));
        assert_eq!(c.access_token_ttl, Duration::from_secs(60));
        assert_eq!(c.sqlite_path(), PathBuf::from("/srv/auth.sqlite3"));
        assert_eq!(c.jwt_audience, "chat-eu");
        assert_eq!((c.hash_concurrency, c.hash_queue), (2, 0));
        assert!(parse(&[("HASH_CONCURRENCY", "0")]).is_err());
        assert!(parse(&[("ACCESS_TOKEN_TTL_SECS", "soon")]).is_err());
        assert!(parse(&[("REFRESH_TOKEN_TTL_SECS", "0")]).is_err());
        assert!(parse(&[("AUTH_GRPC_ADDR", "nowhere")]).is_err());
    }
}
