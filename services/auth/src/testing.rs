//! For the other services' tests of who may call them: a real auth service
//! on an ephemeral port and users with real access tokens. Test-only
//! (feature `testing`); panics are the test failures.

use std::future::Future;
use std::path::Path;

use chat_common::certs::{Set, default_names, generate};
use chat_common::credentials::Credentials;
use chat_proto::auth::v1::auth_service_client::AuthServiceClient;
use chat_proto::auth::v1::{LogoutRequest, RegisterRequest};
use tokio::sync::oneshot;
use tonic::transport::{Channel, Endpoint};

use crate::Config;

/// A user as the tests hold them.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub username: String,
    pub access_token: String,
    pub refresh_token: String,
}

pub struct Auth {
    /// `http://127.0.0.1:port`, for `AUTH_URL`.
    pub url: String,
    grpc: Credentials,
    _stop: oneshot::Sender<()>,
}

impl Auth {
    /// Serves the auth service with `grpc`'s certificates, storing under
    /// `data_dir`, until dropped.
    pub async fn start(data_dir: &Path, grpc: Credentials) -> Auth {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = Config {
            listen_addr: addr,
            data_dir: data_dir.to_path_buf(),
            grpc: grpc.clone(),
            ..Config::default()
        };
        Auth {
            url: format!("http://{addr}"),
            grpc,
            _stop: spawn_until_dropped(|stopped| crate::serve(config, listener, stopped)),
        }
    }

    /// The auth service, called as the platform.
    pub async fn platform(&self) -> AuthServiceClient<Channel> {
        let endpoint = self.grpc.endpoint(&self.url).unwrap();
        AuthServiceClient::new(endpoint.connect().await.unwrap())
    }

    /// Registers `username` (as the gateway would) and returns its tokens.
    pub async fn register(&self, username: &str) -> User {
        let res = self
            .platform()
            .await
            .register(RegisterRequest {
                username: username.into(),
                password: "correct horse battery".into(),
                user_agent: "test".into(),
            })
            .await
            .unwrap()
            .into_inner();
        let (user, tokens) = (res.user.unwrap(), res.tokens.unwrap());
        User {
            id: user.id,
            username: user.username,
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
        }
    }

    /// Ends `user`'s session (a logout through the gateway).
    pub async fn logout(&self, user: &User) {
        self.platform()
            .await
            .logout(LogoutRequest {
                refresh_token: user.refresh_token.clone(),
                everywhere: false,
            })
            .await
            .unwrap();
    }
}

/// Spawns `serve(shutdown)`; the server stops when the returned sender is
/// dropped.
fn spawn_until_dropped<S>(
    serve: impl FnOnce(std::pin::Pin<Box<dyn Future<Output = ()> + Send>>) -> S,
) -> oneshot::Sender<()>
where
    S: Future + Send + 'static,
    S::Output: Send,
{
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(serve(Box::pin(async {
        let _ = stopped.await;
    })));
    stop
}

/// What a service's caller tests stand on: a temporary directory, one
/// certificate set, a running auth service, and the service under test
/// once [`Fixture::serve`] started it.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub set: Set,
    pub auth: Auth,
    /// The service under test, `http://127.0.0.1:port`.
    pub url: String,
    _stop: Option<oneshot::Sender<()>>,
}

impl Fixture {
    pub async fn start() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let set = generate(&default_names()).unwrap();
        let auth = Auth::start(&dir.path().join("auth"), set.credentials()).await;
        Fixture {
            dir,
            set,
            auth,
            url: String::new(),
            _stop: None,
        }
    }

    /// Serves the service under test on an ephemeral port until the
    /// fixture is dropped: `serve(addr, listener, shutdown)`.
    pub async fn serve<S>(
        &mut self,
        serve: impl FnOnce(
            std::net::SocketAddr,
            tokio::net::TcpListener,
            std::pin::Pin<Box<dyn Future<Output = ()> + Send>>,
        ) -> S,
    ) where
        S: Future + Send + 'static,
        S::Output: Send,
    {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        self.url = format!("http://{addr}");
        self._stop = Some(spawn_until_dropped(|stopped| {
            serve(addr, listener, stopped)
        }));
    }

    /// Plaintext, no certificate: what `grpcurl -plaintext` is.
    pub async fn plaintext(&self) -> Channel {
        Endpoint::from_shared(self.url.clone())
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    /// Mutual TLS with the platform's certificate.
    pub async fn platform(&self) -> Channel {
        self.set
            .credentials()
            .endpoint(&self.url)
            .unwrap()
            .connect()
            .await
            .unwrap()
    }
}
