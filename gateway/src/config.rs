//! Gateway configuration, read once from the environment at start-up.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use chat_common::env::Vars;

use crate::error::Error;

/// Which Socket.IO parser the gateway speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parser {
    Json,
    Msgpack,
}

#[derive(Debug, Clone)]
pub struct Limits {
    pub max_message_chars: usize,
    pub history_default: u32,
    pub history_max: u32,
    pub max_upload_bytes: u64,
    pub messages_per_sec: u32,
    pub messages_burst: u32,
    pub notifications_per_sec: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_chars: 4000,
            history_default: 50,
            history_max: 200,
            max_upload_bytes: 10 * 1024 * 1024,
            messages_per_sec: 10,
            messages_burst: 20,
            notifications_per_sec: 1,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    /// `HOST`:`PORT`; `PORT` is the tutorial's name.
    pub listen_addr: SocketAddr,
    pub auth_url: String,
    pub message_url: String,
    pub media_url: String,
    /// Static web app served at `/` with an SPA fallback.
    pub web_dir: Option<PathBuf>,
    /// Base for media URLs handed to clients; unset → from the request's Host.
    pub public_url: Option<String>,
    /// CORS origin (the tutorial's `CLIENT_URL`); unset → any origin.
    pub client_url: Option<String>,
    pub grpc_timeout: Duration,
    /// `SHUTDOWN_GRACE_SECS`: the bound on a graceful stop.
    pub shutdown_grace: Duration,
    /// Engine.IO heartbeat (`PING_INTERVAL_MS`, `PING_TIMEOUT_MS`): a peer
    /// that stops answering is noticed within their sum, on both sides.
    pub ping_interval: Duration,
    pub ping_timeout: Duration,
    pub redis_url: Option<String>,
    pub parser: Parser,
    pub limits: Limits,
}

impl Config {
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Testable core of [`Config::from_env`]; blank values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let vars = Vars::new(lookup);
        let host = vars.ip_or("HOST", IpAddr::from([0, 0, 0, 0]))?;
        let port = vars.number_or::<u16>("PORT", 5000)?;
        let d = Limits::default();
        let limits = Limits {
            max_message_chars: vars.positive_or("MAX_MESSAGE_CHARS", d.max_message_chars)?,
            history_default: vars.positive_or("HISTORY_DEFAULT_LIMIT", d.history_default)?,
            history_max: vars.positive_or("HISTORY_MAX_LIMIT", d.history_max)?,
            max_upload_bytes: vars.positive_or("MAX_UPLOAD_BYTES", d.max_upload_bytes)?,
            messages_per_sec: vars.positive_or("RATE_MESSAGES_PER_SEC", d.messages_per_sec)?,
            messages_burst: vars.positive_or("RATE_MESSAGES_BURST", d.messages_burst)?,
            notifications_per_sec: vars
                .positive_or("RATE_NOTIFICATIONS_PER_SEC", d.notifications_per_sec)?,
        };
        let parsers = [("json", Parser::Json), ("msgpack", Parser::Msgpack)];
        Ok(Self {
            listen_addr: SocketAddr::new(host, port),
            auth_url: vars.string_or("AUTH_URL", "http://127.0.0.1:50051"),
            message_url: vars.string_or("MESSAGE_URL", "http://127.0.0.1:50052"),
            media_url: vars.string_or("MEDIA_URL", "http://127.0.0.1:50053"),
            web_dir: vars.string("WEB_DIR").map(PathBuf::from),
            public_url: vars
                .string("PUBLIC_URL")
                .map(|u| u.trim_end_matches('/').to_string()),
            client_url: vars.string("CLIENT_URL"),
            grpc_timeout: vars.duration_ms_or("GRPC_TIMEOUT_MS", Duration::from_millis(5000))?,
            shutdown_grace: vars.shutdown_grace()?,
            ping_interval: vars.duration_ms_or("PING_INTERVAL_MS", Duration::from_millis(5000))?,
            ping_timeout: vars.duration_ms_or("PING_TIMEOUT_MS", Duration::from_millis(4000))?,
            redis_url: vars.string("REDIS_URL"),
            parser: vars.choice_or("CHAT_PARSER", &parsers, Parser::Json)?,
            limits,
        })
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
    fn defaults_follow_the_protocol() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.listen_addr.to_string(), "0.0.0.0:5000");
        assert_eq!(c.limits.max_upload_bytes, 10 * 1024 * 1024);
        assert_eq!(c.grpc_timeout, Duration::from_millis(5000));
        assert_eq!(c.parser, Parser::Json);
        assert_eq!(c.auth_url, "http://127.0.0.1:50051");
        assert!(c.public_url.is_none() && c.redis_url.is_none());
        assert_eq!(c.shutdown_grace, Duration::from_secs(10));
        // A frozen server is noticed by clients within 10 s.
        assert!(c.ping_interval + c.ping_timeout <= Duration::from_secs(10));
    }

    #[test]
    fn reads_overrides_and_blank_means_unset() {
        let c = parse(&[
            ("HOST", "127.0.0.1"),
            ("PORT", "6000"),
            ("CHAT_PARSER", "MsgPack"),
            ("PUBLIC_URL", "https://chat.example/"),
            ("GRPC_TIMEOUT_MS", "250"),
            ("RATE_MESSAGES_BURST", "3"),
            ("REDIS_URL", " "),
        ])
        .unwrap();
        assert_eq!(c.listen_addr.to_string(), "127.0.0.1:6000");
        assert_eq!(c.parser, Parser::Msgpack);
        assert_eq!(c.public_url.as_deref(), Some("https://chat.example"));
        assert_eq!(c.grpc_timeout, Duration::from_millis(250));
        assert_eq!(c.limits.messages_burst, 3);
        assert!(c.redis_url.is_none());
    }

    #[test]
    fn rejects_bad_values_with_the_variable_name() {
        for (name, value) in [
            ("PORT", "abc"),
            ("PORT", "70000"),
            ("HOST", "localhost"),
            ("RATE_MESSAGES_PER_SEC", "0"),
            ("CHAT_PARSER", "xml"),
            ("GRPC_TIMEOUT_MS", "soon"),
            ("SHUTDOWN_GRACE_SECS", "0"),
            ("PING_INTERVAL_MS", "-1"),
        ] {
            let err = parse(&[(name, value)]).unwrap_err().to_string();
            assert!(err.contains(name), "{err}");
        }
    }
}
