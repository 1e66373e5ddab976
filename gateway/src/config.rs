//! Gateway configuration, read once from the environment at start-up.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

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
    pub redis_url: Option<String>,
    pub parser: Parser,
    pub limits: Limits,
}

impl Config {
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Testable core of [`Config::from_env`].
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let var = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        fn num<T: std::str::FromStr>(k: &str, v: Option<String>, default: T) -> Result<T, Error> {
            match v {
                None => Ok(default),
                Some(s) => s
                    .trim()
                    .parse()
                    .map_err(|_| Error::Config(format!("{k} must be a number, got {s:?}"))),
            }
        }
        let host = var("HOST").unwrap_or_else(|| "0.0.0.0".into());
        let port: u16 = num("PORT", var("PORT"), 5000)?;
        let listen_addr = format!("{host}:{port}")
            .parse()
            .map_err(|_| Error::Config(format!("HOST {host:?} is not an IP address")))?;
        let d = Limits::default();
        let limits = Limits {
            max_message_chars: num(
                "MAX_MESSAGE_CHARS",
                var("MAX_MESSAGE_CHARS"),
                d.max_message_chars,
            )?,
            history_default: num(
                "HISTORY_DEFAULT_LIMIT",
                var("HISTORY_DEFAULT_LIMIT"),
                d.history_default,
            )?,
            history_max: num("HISTORY_MAX_LIMIT", var("HISTORY_MAX_LIMIT"), d.history_max)?,
            max_upload_bytes: num(
                "MAX_UPLOAD_BYTES",
                var("MAX_UPLOAD_BYTES"),
                d.max_upload_bytes,
            )?,
            messages_per_sec: num(
                "RATE_MESSAGES_PER_SEC",
                var("RATE_MESSAGES_PER_SEC"),
                d.messages_per_sec,
            )?,
            messages_burst: num(
                "RATE_MESSAGES_BURST",
                var("RATE_MESSAGES_BURST"),
                d.messages_burst,
            )?,
            notifications_per_sec: num(
                "RATE_NOTIFICATIONS_PER_SEC",
                var("RATE_NOTIFICATIONS_PER_SEC"),
                d.notifications_per_sec,
            )?,
        };
        if limits.messages_per_sec == 0
            || limits.messages_burst == 0
            || limits.notifications_per_sec == 0
        {
            return Err(Error::Config("rate limits must be at least 1".into()));
        }
        let parser = match var("CHAT_PARSER")
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("json") => Parser::Json,
            Some("msgpack") => Parser::Msgpack,
            Some(other) => {
                return Err(Error::Config(format!(
                    "CHAT_PARSER must be json or msgpack, got {other:?}"
                )));
            }
        };
        Ok(Self {
            listen_addr,
            auth_url: var("AUTH_URL").unwrap_or_else(|| "http://127.0.0.1:50051".into()),
            message_url: var("MESSAGE_URL").unwrap_or_else(|| "http://127.0.0.1:50052".into()),
            media_url: var("MEDIA_URL").unwrap_or_else(|| "http://127.0.0.1:50053".into()),
            web_dir: var("WEB_DIR").map(PathBuf::from),
            public_url: var("PUBLIC_URL").map(|u| u.trim_end_matches('/').to_string()),
            client_url: var("CLIENT_URL"),
            grpc_timeout: Duration::from_millis(num(
                "GRPC_TIMEOUT_MS",
                var("GRPC_TIMEOUT_MS"),
                5000,
            )?),
            redis_url: var("REDIS_URL"),
            parser,
            limits,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_protocol() {
        let c = Config::from_lookup(|_| None).unwrap();
        assert_eq!(c.listen_addr.port(), 5000);
        assert_eq!(c.limits.max_upload_bytes, 10 * 1024 * 1024);
        assert_eq!(c.parser, Parser::Json);
    }

    #[test]
    fn rejects_bad_numbers_with_the_variable_name() {
        let err = Config::from_lookup(|k| (k == "PORT").then(|| "abc".to_string())).unwrap_err();
        assert!(err.to_string().contains("PORT"));
    }
}
