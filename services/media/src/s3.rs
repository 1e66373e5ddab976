//! The one S3 code path: `aws-sdk-s3` against whatever endpoint is configured,
//! MinIO or the in-process server alike.

use std::path::Path;
use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use backon::{ExponentialBuilder, Retryable};

use crate::error::Error;

/// How long start-up waits for the bucket: MinIO may still be booting when
/// this service starts (compose starts both together).
const BUCKET_WAIT: Duration = Duration::from_secs(60);

/// Where and how to reach the bucket.
#[derive(Clone)]
pub struct Endpoint {
    pub url: String,
    pub region: String,
    pub bucket: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub force_path_style: bool,
}

/// A bucket reached through `aws-sdk-s3`.
#[derive(Clone)]
pub struct ObjectStore {
    client: Client,
    bucket: String,
    region: String,
}

fn storage_error(e: impl std::error::Error) -> Error {
    Error::ObjectStorage(DisplayErrorContext(e).to_string())
}

impl ObjectStore {
    pub fn new(endpoint: &Endpoint) -> ObjectStore {
        let credentials = Credentials::new(
            &endpoint.access_key_id,
            &endpoint.secret_access_key,
            None,
            None,
            "chat-media-config",
        );
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(&endpoint.url)
            .region(Region::new(endpoint.region.clone()))
            .credentials_provider(credentials)
            .force_path_style(endpoint.force_path_style)
            .build();
        ObjectStore {
            client: Client::from_conf(config),
            bucket: endpoint.bucket.clone(),
            region: endpoint.region.clone(),
        }
    }

    /// The SDK client, for tooling and tests that inspect the bucket.
    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Creates the bucket unless it exists, retrying with backoff for
    /// [`BUCKET_WAIT`] while the endpoint is unreachable or not ready.
    pub async fn ensure_bucket(&self) -> Result<(), Error> {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(200))
            .with_max_delay(Duration::from_secs(5))
            .with_total_delay(Some(BUCKET_WAIT))
            .without_max_times();
        (|| self.ensure_bucket_once())
            .retry(backoff)
            .notify(|err, wait| {
                tracing::warn!(bucket = %self.bucket, error = %err, ?wait, "S3 bucket not ready; retrying");
            })
            .await
    }

    /// One HEAD of the bucket, for health: `Ok` when it exists and answers.
    pub async fn ping(&self) -> Result<(), Error> {
        self.client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map(drop)
            .map_err(storage_error)
    }

    async fn ensure_bucket_once(&self) -> Result<(), Error> {
        if self
            .client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .is_ok()
        {
            return Ok(());
        }
        let mut create = self.client.create_bucket().bucket(&self.bucket);
        // us-east-1 is the one region S3 refuses an explicit constraint for.
        if self.region != "us-east-1" {
            create = create.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(self.region.as_str()))
                    .build(),
            );
        }
        match create.send().await {
            Ok(_) => {
                tracing::info!(bucket = %self.bucket, "created S3 bucket");
                Ok(())
            }
            Err(e)
                if e.as_service_error().is_some_and(|s| {
                    s.is_bucket_already_owned_by_you() || s.is_bucket_already_exists()
                }) =>
            {
                Ok(())
            }
            Err(e) => Err(storage_error(e)),
        }
    }

    /// Uploads the file at `path` as `key`, streaming it from disk.
    pub async fn put_file(
        &self,
        key: &str,
        path: &Path,
        size: u64,
        content_type: &str,
    ) -> Result<(), Error> {
        let body = ByteStream::from_path(path).await.map_err(storage_error)?;
        let length = i64::try_from(size)
            .map_err(|_| Error::InvalidArgument("File size is out of range".into()))?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(length)
            .body(body)
            .send()
            .await
            .map_err(storage_error)?;
        Ok(())
    }

    /// The object's bytes as a stream, or `None` when no such key exists.
    pub async fn get(&self, key: &str) -> Result<Option<ByteStream>, Error> {
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => Ok(Some(out.body)),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(storage_error(e)),
        }
    }

    /// Removes `key`; removing a missing key succeeds.
    pub async fn delete(&self, key: &str) -> Result<(), Error> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(storage_error)?;
        Ok(())
    }
}
