//! Settings, read once from the environment into a typed struct.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use chat_common::env::Vars;

use crate::error::Error;

/// 10 MiB: large enough for photos and documents, small enough to keep the
/// gateway's request bodies bounded.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 10 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct Config {
    /// `MEDIA_GRPC_ADDR`, default `127.0.0.1:50053`.
    pub listen_addr: SocketAddr,
    /// `DATA_DIR`, default `./data`: holds `media.sqlite3`, upload temp files
    /// and (for the in-process S3 server) `objects/`.
    pub data_dir: PathBuf,
    /// `SHUTDOWN_GRACE_SECS`: once stopping, the bound on the calls in flight.
    pub shutdown_grace: Duration,
    /// `MONGO_URI`: set → MongoDB, unset → embedded SQLite.
    pub mongo_uri: Option<String>,
    /// `MEDIA_MONGO_DB`, default `chat_media`.
    pub mongo_db: String,
    pub s3: S3Config,
    /// `MAX_UPLOAD_BYTES`, default 10 MiB: no upload may exceed it.
    pub max_upload_bytes: u64,
    /// `AUTH_URL`: the auth service, for its public keys and ended sessions.
    pub auth_url: String,
    /// `GRPC_CA_CERT`, `GRPC_SERVER_CERT`/`_KEY`, `GRPC_CLIENT_CERT`/`_KEY`,
    /// `GRPC_REQUIRE_TLS`: this port's TLS identity, the CA whose client
    /// certificates make a caller the platform, and the platform
    /// certificate this service presents to the auth service.
    pub grpc: chat_common::credentials::Credentials,
}

#[derive(Clone)]
pub struct S3Config {
    /// `S3_ENDPOINT`: unset → an in-process S3 server under `DATA_DIR/objects`.
    pub endpoint: Option<String>,
    /// `S3_REGION`, default `us-east-1`.
    pub region: String,
    /// `S3_BUCKET`, default `chat-media`; created at start-up when missing.
    pub bucket: String,
    /// `S3_ACCESS_KEY_ID` / `S3_SECRET_ACCESS_KEY`: required with an
    /// endpoint; for the in-process server a random pair is generated when
    /// unset, since only this process ever talks to it.
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    /// `S3_FORCE_PATH_STYLE`, default `true` (MinIO and the in-process server
    /// have no per-bucket host names).
    pub force_path_style: bool,
}

// Hand-written so the secret never reaches a log line.
impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "***"),
            )
            .field("force_path_style", &self.force_path_style)
            .finish()
    }
}

impl Config {
    /// Defaults everywhere except the data directory: an embedded store and
    /// the in-process S3 server. Used by tests and the one-process binary.
    pub fn local(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            listen_addr: SocketAddr::from(([127, 0, 0, 1], 50053)),
            data_dir: data_dir.into(),
            shutdown_grace: chat_common::env::SHUTDOWN_GRACE_DEFAULT,
            mongo_uri: None,
            mongo_db: "chat_media".into(),
            s3: S3Config {
                endpoint: None,
                region: "us-east-1".into(),
                bucket: "chat-media".into(),
                access_key_id: None,
                secret_access_key: None,
                force_path_style: true,
            },
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            auth_url: "http://127.0.0.1:50051".into(),
            grpc: Default::default(),
        }
    }

    pub fn from_env() -> Result<Config, Error> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Parses from any variable source, so tests need not touch the process
    /// environment. Blank values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, Error> {
        let vars = Vars::new(lookup);
        let d = Config::local(vars.string_or("DATA_DIR", "./data"));
        let config = Config {
            listen_addr: vars.socket_addr_or("MEDIA_GRPC_ADDR", d.listen_addr)?,
            shutdown_grace: vars.shutdown_grace()?,
            mongo_uri: vars.string("MONGO_URI"),
            mongo_db: vars.string_or("MEDIA_MONGO_DB", &d.mongo_db),
            s3: S3Config {
                endpoint: vars.string("S3_ENDPOINT"),
                region: vars.string_or("S3_REGION", &d.s3.region),
                bucket: vars.string_or("S3_BUCKET", &d.s3.bucket),
                access_key_id: vars.string("S3_ACCESS_KEY_ID"),
                secret_access_key: vars.string("S3_SECRET_ACCESS_KEY"),
                force_path_style: vars.bool_or("S3_FORCE_PATH_STYLE", d.s3.force_path_style)?,
            },
            max_upload_bytes: vars.positive_or("MAX_UPLOAD_BYTES", d.max_upload_bytes)?,
            auth_url: vars.string_or("AUTH_URL", &d.auth_url),
            grpc: chat_common::credentials::Credentials::from_vars(&vars)?,
            data_dir: d.data_dir,
        };
        let s3 = &config.s3;
        if s3.endpoint.is_some() && (s3.access_key_id.is_none() || s3.secret_access_key.is_none()) {
            return Err(Error::Config(
                "S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY are required when S3_ENDPOINT is set"
                    .into(),
            ));
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_common::env::from_pairs;

    fn parse(vars: &[(&str, &str)]) -> Result<Config, Error> {
        Config::from_lookup(from_pairs(vars))
    }

    #[test]
    fn defaults_are_local() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.listen_addr.to_string(), "127.0.0.1:50053");
        assert_eq!(c.data_dir, PathBuf::from("./data"));
        assert!(c.mongo_uri.is_none());
        assert_eq!(c.mongo_db, "chat_media");
        assert!(c.s3.endpoint.is_none());
        assert_eq!(c.s3.bucket, "chat-media");
        assert!(c.s3.force_path_style);
        assert_eq!(c.max_upload_bytes, 10_485_760);
    }

    #[test]
    fn reads_every_variable() {
        let c = parse(&[
            ("MEDIA_GRPC_ADDR", "0.0.0.0:9000"),
            ("DATA_DIR", "/srv/media"),
            ("MONGO_URI", "mongodb://db:27017"),
            ("MEDIA_MONGO_DB", "m"),
            ("S3_ENDPOINT", "http://minio:9000"),
            ("S3_REGION", "eu-west-1"),
            ("S3_BUCKET", "b"),
            ("S3_ACCESS_KEY_ID", "ak"),
            ("S3_SECRET_ACCESS_KEY", "sk"),
            ("S3_FORCE_PATH_STYLE", "false"),
            ("MAX_UPLOAD_BYTES", "42"),
        ])
        .unwrap();
        assert_eq!(c.listen_addr.port(), 9000);
        assert_eq!(c.mongo_uri.as_deref(), Some("mongodb://db:27017"));
        assert_eq!(c.s3.endpoint.as_deref(), Some("http://minio:9000"));
        assert_eq!(c.s3.region, "eu-west-1");
        assert!(!c.s3.force_path_style);
        assert_eq!(c.max_upload_bytes, 42);
        assert!(!format!("{c:?}").contains("sk\""));
    }

    #[test]
    fn rejects_bad_values() {
        assert!(parse(&[("MAX_UPLOAD_BYTES", "0")]).is_err());
        assert!(parse(&[("MAX_UPLOAD_BYTES", "ten")]).is_err());
        assert!(parse(&[("MEDIA_GRPC_ADDR", "nowhere")]).is_err());
        assert!(parse(&[("S3_FORCE_PATH_STYLE", "maybe")]).is_err());
        assert!(parse(&[("S3_ENDPOINT", "http://minio:9000")]).is_err());
    }
}
