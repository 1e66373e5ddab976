//! The service's settings, read once from the environment.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use chat_common::env::Vars;

use crate::error::Error;

/// Everything the service needs to start; built by [`Config::from_env`] or
/// by hand (tests, the one-process binary).
#[derive(Debug, Clone)]
pub struct Config {
    /// `MESSAGE_GRPC_ADDR`: where the gRPC server listens.
    pub listen_addr: SocketAddr,
    /// `DATA_DIR`: the embedded store lives in `DATA_DIR/message.sqlite3`.
    pub data_dir: PathBuf,
    /// `SHUTDOWN_GRACE_SECS`: once stopping, the bound on the calls in flight.
    pub shutdown_grace: Duration,
    /// `MONGO_URI`: when set, MongoDB is the store instead of SQLite.
    pub mongo_uri: Option<String>,
    /// `MESSAGE_MONGO_DB`: the MongoDB database this service owns.
    pub mongo_db: String,
    /// `MAX_MESSAGE_CHARS`: the most Unicode code points a message may hold.
    pub max_message_chars: usize,
    /// `HISTORY_DEFAULT_LIMIT`: page size when a request asks for 0.
    pub history_default_limit: u32,
    /// `HISTORY_MAX_LIMIT`: the largest page a request may ask for.
    pub history_max_limit: u32,
    /// `AUTH_URL`: the auth service, for its public keys and ended sessions.
    pub auth_url: String,
    /// `GRPC_CA_CERT`, `GRPC_SERVER_CERT`/`_KEY`, `GRPC_CLIENT_CERT`/`_KEY`,
    /// `GRPC_REQUIRE_TLS`: this port's TLS identity, the CA whose client
    /// certificates make a caller the platform, and the platform
    /// certificate this service presents to the auth service.
    pub grpc: chat_common::credentials::Credentials,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen_addr: SocketAddr::from(([127, 0, 0, 1], 50052)),
            data_dir: PathBuf::from("./data"),
            shutdown_grace: chat_common::env::SHUTDOWN_GRACE_DEFAULT,
            mongo_uri: None,
            mongo_db: "chat_message".into(),
            max_message_chars: 4000,
            history_default_limit: 50,
            history_max_limit: 200,
            auth_url: "http://127.0.0.1:50051".into(),
            grpc: Default::default(),
        }
    }
}

impl Config {
    /// Reads the `MESSAGE_*`, `DATA_DIR`, `MONGO_URI` and limit variables;
    /// unset or empty variables keep their defaults.
    pub fn from_env() -> Result<Config, Error> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, Error> {
        let vars = Vars::new(lookup);
        let d = Config::default();
        let config = Config {
            listen_addr: vars.socket_addr_or("MESSAGE_GRPC_ADDR", d.listen_addr)?,
            data_dir: vars.string("DATA_DIR").map_or(d.data_dir, PathBuf::from),
            shutdown_grace: vars.shutdown_grace()?,
            mongo_uri: vars.string("MONGO_URI"),
            mongo_db: vars.string_or("MESSAGE_MONGO_DB", &d.mongo_db),
            max_message_chars: vars.positive_or("MAX_MESSAGE_CHARS", d.max_message_chars)?,
            history_default_limit: vars
                .positive_or("HISTORY_DEFAULT_LIMIT", d.history_default_limit)?,
            history_max_limit: vars.positive_or("HISTORY_MAX_LIMIT", d.history_max_limit)?,
            auth_url: vars.string_or("AUTH_URL", &d.auth_url),
            grpc: chat_common::credentials::Credentials::from_vars(&vars)?,
        };
        config.check()?;
        Ok(config)
    }

    /// The rule no single variable can check: the default page fits the
    /// largest one.
    fn check(&self) -> Result<(), Error> {
        if self.history_default_limit > self.history_max_limit {
            return Err(Error::Config(format!(
                "HISTORY_DEFAULT_LIMIT ({}) must not exceed HISTORY_MAX_LIMIT ({})",
                self.history_default_limit, self.history_max_limit
            )));
        }
        Ok(())
    }

    /// The embedded store's file.
    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join("message.sqlite3")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_common::env::from_pairs;

    fn from(pairs: &[(&str, &str)]) -> Result<Config, Error> {
        Config::from_lookup(from_pairs(pairs))
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let c = from(&[]).unwrap();
        assert_eq!(c.listen_addr.to_string(), "127.0.0.1:50052");
        assert_eq!(c.sqlite_path(), PathBuf::from("./data/message.sqlite3"));
        assert_eq!(c.mongo_uri, None);
        assert_eq!(c.mongo_db, "chat_message");
        assert_eq!(
            (
                c.max_message_chars,
                c.history_default_limit,
                c.history_max_limit
            ),
            (4000, 50, 200)
        );
    }

    #[test]
    fn values_override_defaults_and_empty_means_unset() {
        let c = from(&[
            ("MESSAGE_GRPC_ADDR", "0.0.0.0:9000"),
            ("MONGO_URI", "mongodb://db:27017"),
            ("MESSAGE_MONGO_DB", ""),
            ("MAX_MESSAGE_CHARS", "10"),
            ("HISTORY_DEFAULT_LIMIT", "5"),
            ("HISTORY_MAX_LIMIT", "20"),
        ])
        .unwrap();
        assert_eq!(c.listen_addr.port(), 9000);
        assert_eq!(c.mongo_uri.as_deref(), Some("mongodb://db:27017"));
        assert_eq!(c.mongo_db, "chat_message");
        assert_eq!(
            (
                c.max_message_chars,
                c.history_default_limit,
                c.history_max_limit
            ),
            (10, 5, 20)
        );
    }

    #[test]
    fn rejects_bad_values() {
        assert!(from(&[("MESSAGE_GRPC_ADDR", "nowhere")]).is_err());
        assert!(from(&[("MAX_MESSAGE_CHARS", "-1")]).is_err());
        assert!(from(&[("MAX_MESSAGE_CHARS", "0")]).is_err());
        assert!(from(&[("HISTORY_DEFAULT_LIMIT", "300")]).is_err());
        assert!(from(&[("HISTORY_DEFAULT_LIMIT", "0")]).is_err());
        assert!(from(&[("HISTORY_MAX_LIMIT", "0")]).is_err());
    }
}
