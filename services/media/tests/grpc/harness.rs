//! Running the service for tests: a real gRPC server, the real in-process
//! S3 server, and helpers to upload, download and inspect what is stored.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use chat_media::Config;
use chat_media::local_s3::{self, LocalS3};
use chat_media::s3::{Endpoint, ObjectStore};
use chat_proto::media::v1::media_service_client::MediaServiceClient;
use chat_proto::media::v1::{
    DownloadRequest, MediaInfo, Purpose, UploadMetadata, UploadRequest, download_response,
    upload_request,
};
use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::Status;
use tonic::transport::Channel;

/// An 8×8 red PNG.
const PNG_HEX: &str = "89504e470d0a1a0a0000000d4948445200000008000000080806000000c40fbe8b0000001249444154789c63f8cfc0f01f1f6618190a00c2d77f812f71e0010000000049454e44ae426082";
const ACCESS_KEY: &str = "test-access-key";
const SECRET_KEY: &str = "test-secret-key";

pub struct Service {
    addr: SocketAddr,
    /// The tests call as the platform (what the gateway is), over mutual TLS.
    grpc: chat_common::credentials::Credentials,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), chat_media::Error>>,
}

impl Service {
    pub async fn start(mut config: Config) -> Service {
        if config.grpc.ca.is_none() {
            config.grpc = chat_common::certs::generate(&chat_common::certs::default_names())
                .unwrap()
                .credentials();
        }
        let grpc = config.grpc.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(chat_media::serve(config, listener, async {
            let _ = stopped.await;
        }));
        let service = Service {
            addr,
            grpc,
            stop: Some(stop),
            task,
        };
        // The listener accepts at once, but requests are answered only once
        // the store and bucket are ready; wait for that so tests can touch
        // the data directory safely.
        tonic_health::pb::health_client::HealthClient::new(service.channel().await)
            .check(tonic_health::pb::HealthCheckRequest::default())
            .await
            .unwrap();
        service
    }

    pub async fn channel(&self) -> Channel {
        self.grpc
            .endpoint(&format!("http://{}", self.addr))
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    pub async fn client(&self) -> MediaServiceClient<Channel> {
        MediaServiceClient::new(self.channel().await)
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.unwrap().unwrap();
    }
}

/// A service whose bucket lives in an S3 server the test started itself and
/// can inspect through its own SDK client, as it would inspect MinIO.
pub struct Harness {
    dir: tempfile::TempDir,
    _s3: LocalS3,
    objects: ObjectStore,
    pub service: Service,
}

impl Harness {
    pub async fn start(max_upload_bytes: u64) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let s3 = local_s3::start(&dir.path().join("s3"), ACCESS_KEY, SECRET_KEY)
            .await
            .unwrap();
        let mut config = Config::local(dir.path().join("data"));
        config.max_upload_bytes = max_upload_bytes;
        config.s3.endpoint = Some(s3.endpoint().to_owned());
        config.s3.access_key_id = Some(ACCESS_KEY.into());
        config.s3.secret_access_key = Some(SECRET_KEY.into());
        let objects = ObjectStore::new(&Endpoint {
            url: s3.endpoint().to_owned(),
            region: config.s3.region.clone(),
            bucket: config.s3.bucket.clone(),
            access_key_id: ACCESS_KEY.into(),
            secret_access_key: SECRET_KEY.into(),
            force_path_style: true,
        });
        let service = Service::start(config).await;
        Harness {
            dir,
            _s3: s3,
            objects,
            service,
        }
    }

    pub async fn client(&self) -> MediaServiceClient<Channel> {
        self.service.client().await
    }

    pub async fn object_keys(&self) -> Vec<String> {
        let out = self
            .objects
            .client()
            .list_objects_v2()
            .bucket(self.objects.bucket())
            .send()
            .await
            .unwrap();
        out.contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_owned))
            .collect()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Nothing of a refused upload may remain: no object, no metadata row,
    /// no temp file.
    pub async fn assert_nothing_stored(&self) {
        assert_eq!(self.object_keys().await, Vec::<String>::new());
        assert_eq!(metadata_rows(&self.data_dir()), 0);
        assert_eq!(
            std::fs::read_dir(self.data_dir().join("tmp"))
                .unwrap()
                .count(),
            0
        );
    }
}

pub fn metadata_rows(data_dir: &Path) -> i64 {
    let conn = rusqlite::Connection::open(data_dir.join("media.sqlite3")).unwrap();
    conn.query_row("SELECT COUNT(*) FROM media", [], |r| r.get(0))
        .unwrap()
}

pub fn png() -> Vec<u8> {
    hex::decode(PNG_HEX).unwrap()
}

pub fn random_bytes(len: usize) -> Vec<u8> {
    let mut data = vec![0u8; len];
    rand::rng().fill_bytes(&mut data);
    data
}

pub fn meta(owner: &str, name: &str, purpose: Purpose, max_size: u64) -> UploadRequest {
    UploadRequest {
        part: Some(upload_request::Part::Metadata(UploadMetadata {
            owner: owner.into(),
            name: name.into(),
            purpose: purpose as i32,
            max_size,
        })),
    }
}

pub fn chunk(bytes: &[u8]) -> UploadRequest {
    UploadRequest {
        part: Some(upload_request::Part::Chunk(bytes.to_vec())),
    }
}

pub async fn upload_messages(
    client: &mut MediaServiceClient<Channel>,
    messages: Vec<UploadRequest>,
) -> Result<MediaInfo, Status> {
    client
        .upload(tokio_stream::iter(messages))
        .await
        .map(tonic::Response::into_inner)
}

pub async fn upload(
    client: &mut MediaServiceClient<Channel>,
    owner: &str,
    name: &str,
    purpose: Purpose,
    data: &[u8],
    chunk_size: usize,
) -> Result<MediaInfo, Status> {
    let mut messages = vec![meta(owner, name, purpose, 0)];
    messages.extend(data.chunks(chunk_size).map(chunk));
    upload_messages(client, messages).await
}

/// Returns the info message, the bytes, and the largest chunk seen.
pub async fn download(
    client: &mut MediaServiceClient<Channel>,
    id: &str,
) -> Result<(MediaInfo, Vec<u8>, usize), Status> {
    let mut stream = client
        .download(DownloadRequest { id: id.into() })
        .await?
        .into_inner();
    let info = match stream.message().await?.and_then(|m| m.part) {
        Some(download_response::Part::Info(info)) => info,
        other => panic!("the first download message must be the info, got {other:?}"),
    };
    let mut data = Vec::new();
    let mut largest = 0;
    while let Some(msg) = stream.message().await? {
        match msg.part {
            Some(download_response::Part::Chunk(c)) => {
                largest = largest.max(c.len());
                data.extend_from_slice(&c);
            }
            other => panic!("expected only chunks after the info, got {other:?}"),
        }
    }
    Ok((info, data, largest))
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}
