//! For the other services' tests of who may call them: a real auth service
//! on an ephemeral port and users with real access tokens. Test-only
//! (feature `testing`); panics are the test failures.

use std::path::Path;

use chat_common::credentials::Credentials;
use chat_proto::auth::v1::auth_service_client::AuthServiceClient;
use chat_proto::auth::v1::{LogoutRequest, RegisterRequest};
use tokio::sync::oneshot;
use tonic::transport::Channel;

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
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(crate::serve(config, listener, async {
            let _ = stopped.await;
        }));
        Auth {
            url: format!("http://{addr}"),
            grpc,
            _stop: stop,
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
