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
    /// One WebSocket message or long-polling request body (Engine.IO).
    pub max_packet_bytes: u64,
    /// One HTTP JSON request body.
    pub max_json_body_bytes: usize,
    /// Every client event of one socket counts against this budget.
    pub events_per_sec: u32,
    pub events_burst: u32,
    /// A socket refused for this long without a pause is disconnected.
    pub events_flood_disconnect: Duration,
    /// Events of one socket waiting for their turn.
    pub max_queued_events: usize,
    /// Distinct users one message may notify.
    pub max_mentions: usize,
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
            max_packet_bytes: 1024 * 1024,
            max_json_body_bytes: 64 * 1024,
            events_per_sec: 50,
            events_burst: 100,
            events_flood_disconnect: Duration::from_secs(10),
            max_queued_events: 64,
            max_mentions: 20,
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
    /// `GRPC_CA_CERT` + `GRPC_CLIENT_CERT`/`_KEY`: the platform credential
    /// the gateway presents to the services (mutual TLS); without it the
    /// services refuse every call the gateway makes as the platform.
    pub grpc: chat_common::credentials::Credentials,
    /// Static web app served at `/` with an SPA fallback.
    pub web_dir: Option<PathBuf>,
    /// Base for media URLs handed to clients; unset → relative links.
    pub public_url: Option<String>,
    /// The browser origins allowed to call the gateway (the tutorial's
    /// `CLIENT_URL`, comma-separated); `None` → every origin.
    pub client_origins: Option<Vec<String>>,
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
            max_packet_bytes: vars.positive_or("MAX_PACKET_BYTES", d.max_packet_bytes)?,
            max_json_body_bytes: vars.positive_or("MAX_JSON_BODY_BYTES", d.max_json_body_bytes)?,
            events_per_sec: vars.positive_or("RATE_EVENTS_PER_SEC", d.events_per_sec)?,
            events_burst: vars.positive_or("RATE_EVENTS_BURST", d.events_burst)?,
            events_flood_disconnect: vars
                .duration_ms_or("RATE_EVENTS_DISCONNECT_MS", d.events_flood_disconnect)?,
            max_queued_events: vars.positive_or("MAX_QUEUED_EVENTS", d.max_queued_events)?,
            max_mentions: vars.positive_or("MAX_MENTIONS", d.max_mentions)?,
        };
        let parsers = [("json", Parser::Json), ("msgpack", Parser::Msgpack)];
        Ok(Self {
            listen_addr: SocketAddr::new(host, port),
            auth_url: vars.string_or("AUTH_URL", "http://127.0.0.1:50051"),
            message_url: vars.string_or("MESSAGE_URL", "http://127.0.0.1:50052"),
            media_url: vars.string_or("MEDIA_URL", "http://127.0.0.1:50053"),
            grpc: chat_common::credentials::Credentials::from_vars(&vars)?,
            web_dir: vars.string("WEB_DIR").map(PathBuf::from),
            public_url: vars
                .string("PUBLIC_URL")
                .map(|u| u.trim_end_matches('/').to_string()),
            client_origins: origins(vars.string("CLIENT_URL").as_deref())?,
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

/// `CLIENT_URL` as a list of origins (`scheme://host[:port]`, lower-case,
/// no trailing slash); blank or `*` → every origin.
fn origins(client_url: Option<&str>) -> Result<Option<Vec<String>>, Error> {
    let Some(raw) = client_url else {
        return Ok(None);
    };
    let list: Vec<String> = raw
        .split(',')
        .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
        .filter(|o| !o.is_empty())
        .collect();
    if list.is_empty() || list.iter().any(|o| o == "*") {
        return Ok(None);
    }
    for o in &list {
        let valid = o.split_once("://").is_some_and(|(scheme, rest)| {
            matches!(scheme, "http" | "https")
                && !rest.is_empty()
                && !rest.contains(['/', '?', '#', '@'])
                && rest.bytes().all(|b| b.is_ascii_graphic())
        });
        if !valid {
            return Err(Error::Config(format!(
                "CLIENT_URL: {o:?} is not an origin (scheme://host[:port])"
            )));
        }
    }
    Ok(Some(list))
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
        assert!(c.client_origins.is_none());
        assert_eq!(c.limits.max_packet_bytes, 1 << 20);
        assert_eq!(c.limits.max_json_body_bytes, 64 << 10);
        assert_eq!((c.limits.events_per_sec, c.limits.events_burst), (50, 100));
        assert_eq!(c.limits.events_flood_disconnect, Duration::from_secs(10));
        assert_eq!(c.limits.max_queued_events, 64);
        assert_eq!(c.limits.max_mentions, 20);
    }

    #[test]
    fn client_url_is_a_list_of_origins() {
        let c = parse(&[("CLIENT_URL", "https://App.test/, http://localhost:3000")]).unwrap();
        assert_eq!(
            c.client_origins.unwrap(),
            ["https://app.test", "http://localhost:3000"]
        );
        assert!(
            parse(&[("CLIENT_URL", "*")])
                .unwrap()
                .client_origins
                .is_none()
        );
        for bad in ["app.test", "http://app.test/x", "ftp://a", "bad\norigin"] {
            let err = parse(&[("CLIENT_URL", bad)]).unwrap_err().to_string();
            assert!(err.contains("CLIENT_URL"), "{err}");
        }
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
