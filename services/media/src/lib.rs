//! The media service (`chat.media.v1.MediaService`) owns uploaded files: the
//! bytes live in an S3 bucket (MinIO, or an S3 server started in-process when
//! no endpoint is configured), the metadata in the service's own store
//! (SQLite under `DATA_DIR`, or MongoDB when `MONGO_URI` is set). Content
//! types are judged from the bytes, never from names.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use chat_common::tokens::Verifier;
use chat_proto::media::v1::media_service_server::{MediaServiceServer, SERVICE_NAME};
use tokio::net::TcpListener;
use tonic::service::Routes;

pub mod config;
pub mod error;
pub mod grpc;
pub mod local_s3;
pub mod names;
pub mod s3;
pub mod sniff;
pub mod store;
pub mod upload;

pub use config::Config;
pub use error::Error;

use crate::local_s3::LocalS3;
use crate::s3::{Endpoint, ObjectStore};
use crate::store::{EmbeddedStore, MongoStore, Store};

/// Opens the configured store and bucket (starting the in-process S3 server
/// when `S3_ENDPOINT` is unset) and serves gRPC, with health and reflection,
/// on `listener` until `shutdown` resolves.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    tracing::info!(addr = %listener.local_addr()?, "media service listening");
    server(&config).await?.serve(listener, shutdown).await?;
    Ok(())
}

/// Opens the store and the bucket (starting the in-process S3 server when
/// none is configured) and builds the service's routes (with health and
/// reflection), ready to serve; callers' tokens are checked against the auth
/// service at `AUTH_URL`.
pub async fn server(config: &Config) -> Result<chat_common::grpc::GrpcServer, Error> {
    let verifier = chat_common::tokens::follow_auth_service(&config.auth_url, &config.grpc)
        .map_err(Error::Config)?;
    server_with(config, verifier).await
}

/// [`server`], checking callers' tokens with `verifier` (the one-process
/// `chat` hands the auth service's own).
pub async fn server_with(
    config: &Config,
    verifier: Verifier,
) -> Result<chat_common::grpc::GrpcServer, Error> {
    let store = open_store(config).await?;
    // Held until serving ends: dropping it stops the in-process S3 server.
    let (endpoint, local_s3) = s3_endpoint(config).await?;
    let objects = ObjectStore::new(&endpoint);
    objects.ensure_bucket().await?;
    let tmp_dir = prepare_tmp_dir(&config.data_dir).await?;

    let probe = {
        let (store, objects) = (store.clone(), objects.clone());
        chat_common::grpc::probe(move || {
            let (store, objects) = (store.clone(), objects.clone());
            async move {
                store.ping().await.map_err(|e| format!("store: {e}"))?;
                objects.ping().await.map_err(|e| format!("S3: {e}"))
            }
        })
    };
    let service = grpc::MediaGrpc::new(store, objects, tmp_dir, config.max_upload_bytes);
    let routes = Routes::new(MediaServiceServer::new(service));
    let options = chat_common::grpc::Options {
        probe: Some(probe),
        grace: config.shutdown_grace,
        verifier,
        credentials: config.grpc.clone(),
        ..Default::default()
    };
    Ok(
        chat_common::grpc::GrpcServer::new(&[SERVICE_NAME], routes, options)
            .await
            .hold(local_s3),
    )
}

/// MongoDB when `MONGO_URI` is set, else `DATA_DIR/media.sqlite3`.
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>, Error> {
    match &config.mongo_uri {
        Some(uri) => {
            tracing::info!(database = %config.mongo_db, "media metadata store: MongoDB");
            Ok(Arc::new(MongoStore::connect(uri, &config.mongo_db).await?))
        }
        None => {
            let path = config.data_dir.join("media.sqlite3");
            tracing::info!(path = %path.display(), "media metadata store: embedded SQLite");
            Ok(Arc::new(EmbeddedStore::open(path).await?))
        }
    }
}

/// The configured endpoint, or a freshly started in-process server under
/// `DATA_DIR/objects` (returned too, since it lives only as long as it is held).
async fn s3_endpoint(config: &Config) -> Result<(Endpoint, Option<LocalS3>), Error> {
    let s3 = &config.s3;
    let mut endpoint = Endpoint {
        url: String::new(),
        region: s3.region.clone(),
        bucket: s3.bucket.clone(),
        access_key_id: s3.access_key_id.clone().unwrap_or_default(),
        secret_access_key: s3.secret_access_key.clone().unwrap_or_default(),
        force_path_style: s3.force_path_style,
    };
    let local = match &s3.endpoint {
        Some(url) => {
            endpoint.url = url.clone();
            tracing::info!(endpoint = %url, bucket = %s3.bucket, "media bytes: S3 endpoint");
            None
        }
        None => {
            // Only this process talks to the in-process server, so a fresh
            // random key pair each start is enough unless one is configured.
            if endpoint.access_key_id.is_empty() || endpoint.secret_access_key.is_empty() {
                endpoint.access_key_id = format!("local{}", uuid::Uuid::new_v4().simple());
                endpoint.secret_access_key = uuid::Uuid::new_v4().simple().to_string();
            }
            let root = config.data_dir.join("objects");
            let local =
                local_s3::start(&root, &endpoint.access_key_id, &endpoint.secret_access_key)
                    .await?;
            endpoint.url = local.endpoint().to_owned();
            tracing::info!(endpoint = %endpoint.url, bucket = %s3.bucket, root = %root.display(), "media bytes: in-process S3 server");
            Some(local)
        }
    };
    Ok((endpoint, local))
}

/// `DATA_DIR/tmp`, emptied of uploads a crash left behind.
async fn prepare_tmp_dir(data_dir: &Path) -> Result<std::path::PathBuf, Error> {
    let dir = data_dir.join("tmp");
    tokio::fs::create_dir_all(&dir).await?;
    let mut entries = tokio::fs::read_dir(&dir).await?;
    while let Some(entry) = entries.next_entry().await? {
        if entry.file_name().to_string_lossy().starts_with("upload-")
            && let Err(e) = tokio::fs::remove_file(entry.path()).await
        {
            tracing::warn!(path = %entry.path().display(), error = %e, "cannot remove stale upload");
        }
    }
    Ok(dir)
}
