//! The backing services a distributed run can use instead of its embedded
//! defaults: Redis (a local `redis-server` or `REDIS_URL`), MongoDB
//! (`MONGO_URI`) and, when a Docker engine answers, MongoDB + MinIO + Redis
//! containers through testcontainers.

use std::any::Any;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use aws_sdk_s3::config::{Credentials, Region};
use tempfile::TempDir;
use testcontainers_modules::minio::MinIO;
use testcontainers_modules::mongo::Mongo;
use testcontainers_modules::redis::{REDIS_PORT, Redis};
use testcontainers_modules::testcontainers::ImageExt;
use testcontainers_modules::testcontainers::runners::AsyncRunner;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::bins::on_path;
use crate::process::Proc;
use crate::stack::{Backing, S3};
use crate::{START_TIMEOUT, on_a_free_port};

/// The bucket the media service writes to.
pub const BUCKET: &str = "chat-media";

/// A non-empty environment variable.
pub fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Whether a Docker engine answers, the way testcontainers will look for it.
pub fn docker_answers() -> Result<(), String> {
    if std::env::var_os("DOCKER_HOST").is_some() {
        return Ok(());
    }
    std::os::unix::net::UnixStream::connect("/var/run/docker.sock")
        .map(|_| ())
        .map_err(|e| {
            format!(
                "DOCKER_HOST is not set and no Docker engine answers on /var/run/docker.sock ({e})"
            )
        })
}

/// A throw-away `redis-server` on a free port, without persistence.
pub struct LocalRedis {
    pub url: String,
    _proc: Proc,
    _dir: TempDir,
}

impl LocalRedis {
    pub fn available() -> Result<(), String> {
        on_path("redis-server")
            .map(|_| ())
            .ok_or_else(|| "REDIS_URL is not set and redis-server is not on PATH".into())
    }

    pub async fn start() -> anyhow::Result<LocalRedis> {
        let program = on_path("redis-server").context("redis-server is not on PATH")?;
        let dir = tempfile::Builder::new()
            .prefix("chat-e2e-redis")
            .tempdir()?;
        let (proc, addr) = on_a_free_port(|port| {
            let dir = dir.path().to_path_buf();
            let program = program.clone();
            async move {
                let conf = dir.join("redis.conf");
                std::fs::write(
                    &conf,
                    format!(
                        "port {port}\nbind 127.0.0.1\nsave \"\"\nappendonly no\ndir {}\n",
                        dir.display()
                    ),
                )?;
                let mut proc = Proc::spawn_with_args(
                    "redis-server",
                    &program,
                    &[conf.display().to_string()],
                    vec![],
                    &dir,
                )?;
                let addr = format!("127.0.0.1:{port}");
                let started = Instant::now();
                while !redis_pongs(&addr).await {
                    proc.ensure_running()?;
                    if started.elapsed() > START_TIMEOUT {
                        bail!(
                            "redis-server did not answer PING on {addr}:\n{}",
                            proc.log_tail()
                        );
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Ok((proc, addr))
            }
        })
        .await?;
        Ok(LocalRedis {
            url: format!("redis://{addr}"),
            _proc: proc,
            _dir: dir,
        })
    }
}

async fn redis_pongs(addr: &str) -> bool {
    let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
        return false;
    };
    if stream.write_all(b"PING\r\n").await.is_err() {
        return false;
    }
    let mut buf = [0u8; 16];
    matches!(stream.read(&mut buf).await, Ok(n) if buf[..n].starts_with(b"+PONG"))
}

/// MongoDB, MinIO (with the bucket created through S3) and Redis containers.
pub struct Containers {
    pub backing: Backing,
    _keep: Vec<Box<dyn Any + Send>>,
}

impl Containers {
    pub async fn start() -> anyhow::Result<Containers> {
        let mongo = Mongo::default()
            .with_tag("7") // what compose runs (`mongo:7`), not the module's default
            .start()
            .await
            .context("mongo container")?;
        let mongo_uri = format!(
            "mongodb://{}:{}",
            mongo.get_host().await?,
            mongo.get_host_port_ipv4(27017).await?
        );
        let minio = MinIO::default().start().await.context("minio container")?;
        let s3 = S3 {
            endpoint: format!(
                "http://{}:{}",
                minio.get_host().await?,
                minio.get_host_port_ipv4(9000).await?
            ),
            bucket: BUCKET.into(),
            // The module's documented default credentials.
            access_key_id: "minioadmin".into(),
            secret_access_key: "minioadmin".into(),
        };
        s3_client(&s3)
            .create_bucket()
            .bucket(&s3.bucket)
            .send()
            .await
            .context("cannot create the bucket in MinIO")?;
        let redis = Redis::default().start().await.context("redis container")?;
        let redis_url = format!(
            "redis://{}:{}",
            redis.get_host().await?,
            redis.get_host_port_ipv4(REDIS_PORT).await?
        );
        Ok(Containers {
            backing: Backing {
                mongo_uri: Some(mongo_uri),
                s3: Some(s3),
                redis_url: Some(redis_url),
            },
            _keep: vec![Box::new(mongo), Box::new(minio), Box::new(redis)],
        })
    }
}

pub fn s3_client(s3: &S3) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version_latest()
        .region(Region::new("us-east-1"))
        .endpoint_url(&s3.endpoint)
        .credentials_provider(Credentials::new(
            &s3.access_key_id,
            &s3.secret_access_key,
            None,
            None,
            "chat-e2e",
        ))
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// How many objects the bucket holds.
pub async fn object_count(s3: &S3) -> anyhow::Result<usize> {
    let listing = s3_client(s3)
        .list_objects_v2()
        .bucket(&s3.bucket)
        .send()
        .await
        .context("cannot list the bucket")?;
    Ok(listing.contents().len())
}
