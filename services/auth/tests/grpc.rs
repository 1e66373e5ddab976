//! The auth service over real gRPC: `serve` on an ephemeral port with a
//! fresh data directory, driven by the generated client.

use std::net::SocketAddr;
use std::path::Path;

use chat_auth::Config;
use chat_auth::tokens::Claims;
use chat_proto::auth::v1::auth_service_client::AuthServiceClient;
use chat_proto::auth::v1::{
    AuthResponse, GetPublicKeyRequest, GetUserRequest, LoginRequest, LogoutRequest, PublicKey,
    RefreshRequest, RegisterRequest, SetAvatarRequest, get_user_request,
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::Code;
use tonic::transport::Channel;

struct Running {
    addr: SocketAddr,
    /// The tests call as the platform (what the gateway is), over mutual TLS.
    grpc: chat_common::credentials::Credentials,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), chat_auth::Error>>,
}

impl Running {
    async fn start(data_dir: &Path) -> Running {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let grpc = chat_common::certs::generate(&chat_common::certs::default_names())
            .unwrap()
            .credentials();
        let config = Config {
            grpc: grpc.clone(),
            listen_addr: addr,
            data_dir: data_dir.to_path_buf(),
            ..Config::default()
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(chat_auth::serve(config, listener, async {
            let _ = stopped.await;
        }));
        Running {
            addr,
            grpc,
            stop,
            task,
        }
    }

    async fn client(&self) -> AuthServiceClient<Channel> {
        AuthServiceClient::new(self.channel().await)
    }

    async fn channel(&self) -> Channel {
        self.grpc
            .endpoint(&format!("http://{}", self.addr))
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap();
    }
}

fn creds(username: &str, password: &str) -> (String, String) {
    (username.to_owned(), password.to_owned())
}

async fn register(
    c: &mut AuthServiceClient<Channel>,
    u: &str,
    p: &str,
) -> Result<AuthResponse, tonic::Status> {
    let (username, password) = creds(u, p);
    c.register(RegisterRequest {
        username,
        password,
        ..Default::default()
    })
    .await
    .map(|r| r.into_inner())
}

async fn login(
    c: &mut AuthServiceClient<Channel>,
    u: &str,
    p: &str,
) -> Result<AuthResponse, tonic::Status> {
    let (username, password) = creds(u, p);
    c.login(LoginRequest {
        username,
        password,
        ..Default::default()
    })
    .await
    .map(|r| r.into_inner())
}

/// What the gateway does: verify with nothing but GetPublicKey's answer.
fn verify(token: &str, key: &PublicKey) -> Result<Claims, jsonwebtoken::errors::Error> {
    assert_eq!(key.algorithm, "EdDSA");
    let header = jsonwebtoken::decode_header(token)?;
    assert_eq!(header.alg, Algorithm::EdDSA);
    assert_eq!(header.kid.as_deref(), Some(key.key_id.as_str()));
    let decoding = DecodingKey::from_ed_pem(key.public_key_pem.as_bytes())?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[&key.issuer]);
    validation.set_audience(&["chat"]);
    Ok(jsonwebtoken::decode::<Claims>(token, &decoding, &validation)?.claims)
}

async fn public_key(c: &mut AuthServiceClient<Channel>) -> PublicKey {
    c.get_public_key(GetPublicKeyRequest {})
        .await
        .unwrap()
        .into_inner()
}

#[tokio::test]
async fn register_login_and_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(dir.path()).await;
    let mut c = server.client().await;

    let reg = register(&mut c, "Alice", "correct horse").await.unwrap();
    let user = reg.user.unwrap();
    assert_eq!(user.username, "Alice");
    assert_eq!(
        uuid::Uuid::parse_str(&user.id).unwrap().get_version_num(),
        7
    );
    assert!(user.created_at.is_some());
    assert_eq!(user.avatar_media_id, None);

    let key = public_key(&mut c).await;
    assert_eq!(key.issuer, "chat");
    assert!(key.public_key_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    let tokens = reg.tokens.unwrap();
    let claims = verify(&tokens.access_token, &key).unwrap();
    assert_eq!(claims.sub, user.id);
    assert_eq!(claims.username, "Alice");
    assert_eq!(claims.iss, "chat");
    assert_eq!(claims.exp - claims.iat, 900);
    assert_eq!(tokens.access_expires_at.unwrap().seconds, claims.exp);

    // Taken ignoring case.
    let err = register(&mut c, "aLICE", "another password")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);
    assert_eq!(err.message(), "Username is already taken");

    for (u, p) in [
        ("al", "long enough"),
        ("bad name", "long enough"),
        ("bob", "short"),
    ] {
        let err = register(&mut c, u, p).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{u}/{p}");
        assert!(err.message().ends_with("characters long") || err.message().contains("Username"));
    }

    // Login ignores the case of the name and answers with the stored one.
    let logged = login(&mut c, "alice", "correct horse").await.unwrap();
    assert_eq!(logged.user.unwrap().username, "Alice");
    let claims = verify(&logged.tokens.unwrap().access_token, &key).unwrap();
    assert_eq!(claims.sub, user.id);

    for (u, p) in [
        ("Alice", "wrong horse!"),
        ("nobody", "correct horse"),
        ("", ""),
    ] {
        let err = login(&mut c, u, p).await.unwrap_err();
        assert_eq!(err.code(), Code::Unauthenticated, "{u}");
        assert_eq!(err.message(), "Invalid credentials");
    }

    server.stop().await;
}

#[tokio::test]
async fn refresh_rotates_and_logout_revokes() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(dir.path()).await;
    let mut c = server.client().await;
    let key = public_key(&mut c).await;
    let reg = register(&mut c, "bob", "hunter2hunter2").await.unwrap();
    let r1 = reg.tokens.unwrap().refresh_token;

    let refresh = |t: &str| RefreshRequest {
        refresh_token: t.to_owned(),
    };
    let pair2 = c.refresh(refresh(&r1)).await.unwrap().into_inner();
    assert_ne!(pair2.refresh_token, r1);
    assert_eq!(verify(&pair2.access_token, &key).unwrap().username, "bob");
    assert!(pair2.access_expires_at.is_some());

    for bogus in ["", "not-a-token"] {
        assert_eq!(
            c.refresh(refresh(bogus)).await.unwrap_err().code(),
            Code::Unauthenticated
        );
    }
    // r1 again is a replay: the whole session ends, the newer token too,
    // and the answer names the ended session for the gateways.
    let err = c.refresh(refresh(&r1)).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let sid = verify(&pair2.access_token, &key).unwrap().sid;
    assert_eq!(
        err.metadata()
            .get("ended-session-id")
            .unwrap()
            .to_str()
            .unwrap(),
        sid
    );
    assert_eq!(
        c.refresh(refresh(&pair2.refresh_token))
            .await
            .unwrap_err()
            .code(),
        Code::Unauthenticated
    );

    // Two racing refreshes with one token: at most one wins (the loser's
    // attempt looks like a replay and ends the session).
    let r2 = login(&mut c, "bob", "hunter2hunter2")
        .await
        .unwrap()
        .tokens
        .unwrap()
        .refresh_token;
    let (mut a, mut b) = (c.clone(), c.clone());
    let (ra, rb) = tokio::join!(a.refresh(refresh(&r2)), b.refresh(refresh(&r2)));
    let winners: Vec<_> = [ra, rb].into_iter().filter_map(Result::ok).collect();
    assert_eq!(winners.len(), 1);

    let r3 = login(&mut c, "bob", "hunter2hunter2")
        .await
        .unwrap()
        .tokens
        .unwrap()
        .refresh_token;
    let logout = |t: &str| LogoutRequest {
        refresh_token: t.to_owned(),
        everywhere: false,
    };
    let ended = c.logout(logout(&r3)).await.unwrap().into_inner();
    assert_eq!(ended.sessions.len(), 1);
    assert_eq!(ended.sessions[0].reason, "logout");
    assert_eq!(
        c.refresh(refresh(&r3)).await.unwrap_err().code(),
        Code::Unauthenticated
    );
    // Logout always succeeds.
    c.logout(logout(&r3)).await.unwrap();
    c.logout(logout("never-issued")).await.unwrap();
    c.logout(logout("")).await.unwrap();

    server.stop().await;
}

#[tokio::test]
async fn get_user_and_avatar() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(dir.path()).await;
    let mut c = server.client().await;
    let carol = register(&mut c, "Carol.W", "password123")
        .await
        .unwrap()
        .user
        .unwrap();

    let by = |key| GetUserRequest { key: Some(key) };
    let found = c
        .get_user(by(get_user_request::Key::Id(carol.id.clone())))
        .await
        .unwrap();
    assert_eq!(found.into_inner(), carol);
    let found = c
        .get_user(by(get_user_request::Key::Username("carol.w".into())))
        .await
        .unwrap();
    assert_eq!(found.into_inner(), carol);
    for key in [
        get_user_request::Key::Username("nobody".into()),
        get_user_request::Key::Id("0190b7c0-0000-7000-8000-000000000000".into()),
    ] {
        assert_eq!(
            c.get_user(by(key)).await.unwrap_err().code(),
            Code::NotFound
        );
    }
    let err = c.get_user(GetUserRequest { key: None }).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);

    let set = |media: &str| SetAvatarRequest {
        user_id: carol.id.clone(),
        avatar_media_id: media.to_owned(),
    };
    let with = c.set_avatar(set("media-42")).await.unwrap().into_inner();
    assert_eq!(with.avatar_media_id.as_deref(), Some("media-42"));
    let found = c
        .get_user(by(get_user_request::Key::Username("CAROL.W".into())))
        .await;
    assert_eq!(
        found.unwrap().into_inner().avatar_media_id.as_deref(),
        Some("media-42")
    );
    let cleared = c.set_avatar(set("")).await.unwrap().into_inner();
    assert_eq!(cleared.avatar_media_id, None);
    let missing = SetAvatarRequest {
        user_id: "no-such-user".into(),
        avatar_media_id: "m".into(),
    };
    assert_eq!(
        c.set_avatar(missing).await.unwrap_err().code(),
        Code::NotFound
    );

    server.stop().await;
}

#[tokio::test]
async fn health_and_reflection() {
    use tokio_stream::StreamExt;
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(dir.path()).await;
    let channel = server.channel().await;

    let mut health = HealthClient::new(channel.clone());
    for service in ["", chat_auth::SERVICE_NAME] {
        let status = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status();
        assert_eq!(status, ServingStatus::Serving, "{service:?}");
    }

    let mut reflection = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = reflection
        .server_reflection_info(tokio_stream::once(request))
        .await
        .unwrap()
        .into_inner();
    let response = responses.next().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected reflection answer: {response:?}");
    };
    let mut names: Vec<_> = list.service.into_iter().map(|s| s.name).collect();
    names.sort();
    // Only what this port serves: not the message or media services.
    assert_eq!(
        names,
        [
            "chat.auth.v1.AuthService",
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
        ],
    );

    server.stop().await;
}

#[tokio::test]
async fn restart_keeps_users_and_signing_key() {
    let dir = tempfile::tempdir().unwrap();
    let first = Running::start(dir.path()).await;
    let mut c = first.client().await;
    let reg = register(&mut c, "dora", "explorer99").await.unwrap();
    let old_key = public_key(&mut c).await;
    let old_tokens = reg.tokens.unwrap();
    first.stop().await;

    let second = Running::start(dir.path()).await;
    let mut c = second.client().await;
    let new_key = public_key(&mut c).await;
    assert_eq!(new_key, old_key);
    let claims = verify(&old_tokens.access_token, &new_key).unwrap();
    assert_eq!(claims.username, "dora");

    let logged = login(&mut c, "DORA", "explorer99").await.unwrap();
    assert_eq!(logged.user.unwrap().id, reg.user.unwrap().id);
    // Sessions survive too: the refresh token issued before the restart works.
    c.refresh(RefreshRequest {
        refresh_token: old_tokens.refresh_token,
    })
    .await
    .unwrap();
    assert!(dir.path().join("auth.sqlite3").exists());
    second.stop().await;
}
