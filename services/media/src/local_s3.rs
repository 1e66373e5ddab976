//! An S3 server inside this process (`s3s-fs`, files under one directory), so
//! a single binary runs with no MinIO. It is reached over HTTP on loopback
//! through the same `aws-sdk-s3` path as any other endpoint.

use std::path::Path;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use s3s_fs::FileSystem;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

use crate::error::Error;

/// A running in-process S3 server; dropping it stops the server and every
/// open connection.
pub struct LocalS3 {
    endpoint: String,
    task: JoinHandle<()>,
}

impl LocalS3 {
    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

impl Drop for LocalS3 {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves the objects under `root` on `127.0.0.1:<free port>`, accepting
/// only requests signed with the given key pair.
pub async fn start(
    root: &Path,
    access_key_id: &str,
    secret_access_key: &str,
) -> Result<LocalS3, Error> {
    tokio::fs::create_dir_all(root).await?;
    let fs = FileSystem::new(root)
        .map_err(|e| Error::ObjectStorage(format!("cannot open {}: {e:?}", root.display())))?;
    let mut builder = S3ServiceBuilder::new(fs);
    builder.set_auth(SimpleAuth::from_single(access_key_id, secret_access_key));
    let service = builder.build();

    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let endpoint = format!("http://{}", listener.local_addr()?);
    let task = tokio::spawn(async move {
        let http = ConnBuilder::new(TokioExecutor::new());
        // Owned by this task, so aborting it also ends every connection.
        let mut connections = JoinSet::new();
        loop {
            while connections.try_join_next().is_some() {}
            let socket = match listener.accept().await {
                Ok((socket, _)) => socket,
                Err(e) => {
                    // Typically EMFILE; pausing lets connections finish.
                    tracing::warn!(error = %e, "in-process S3 server cannot accept");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            };
            let conn = http
                .serve_connection(TokioIo::new(socket), service.clone())
                .into_owned();
            connections.spawn(async move {
                if let Err(e) = conn.await {
                    tracing::debug!(error = %e, "in-process S3 connection ended with an error");
                }
            });
        }
    });
    tracing::info!(%endpoint, root = %root.display(), "in-process S3 server started");
    Ok(LocalS3 { endpoint, task })
}
