//! Who may call the auth service (docs/ARCHITECTURE.md § gRPC callers):
//! a real server on a real socket, called without credentials, with users'
//! access tokens over plaintext, and as the platform over mutual TLS with
//! the right and with a forged client certificate.

use chat_auth::testing::{Auth, User};
use chat_common::caller::bearer;
use chat_common::certs::{default_names, generate};
use chat_common::credentials::Credentials;
use chat_proto::auth::v1::auth_service_client::AuthServiceClient;
use chat_proto::auth::v1::{
    ChangePasswordRequest, GetPublicKeysRequest, GetUserRequest, ListEndedSessionsRequest,
    ListSessionsRequest, LoginRequest, RotateSigningKeyRequest, SetAvatarRequest, get_user_request,
};
use tonic::Code;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

async fn plaintext(auth: &Auth) -> AuthServiceClient<Channel> {
    let channel = Endpoint::from_shared(auth.url.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    AuthServiceClient::new(channel)
}

fn sessions_of(user: &User, user_id: &str) -> tonic::Request<ListSessionsRequest> {
    bearer(
        ListSessionsRequest {
            user_id: user_id.into(),
        },
        &user.access_token,
    )
    .unwrap()
}

#[tokio::test]
async fn no_credential_is_unauthenticated_and_says_what_to_send() {
    let dir = tempfile::tempdir().unwrap();
    let grpc = generate(&default_names()).unwrap().credentials();
    let auth = Auth::start(dir.path(), grpc).await;
    let alice = auth.register("alice").await;
    let mut c = plaintext(&auth).await;
    let err = c
        .list_sessions(ListSessionsRequest {
            user_id: alice.id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    assert!(err.message().contains("authorization: Bearer"), "{err:?}");
    let err = c
        .list_sessions(sessions_of(
            &User {
                access_token: "not-a-token".into(),
                ..alice.clone()
            },
            "",
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    // Health stays open, as compose health checks and load balancers need.
    let channel = Endpoint::from_shared(auth.url.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    HealthClient::new(channel)
        .check(HealthCheckRequest::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_user_token_acts_as_its_user_only() {
    let dir = tempfile::tempdir().unwrap();
    let grpc = generate(&default_names()).unwrap().credentials();
    let auth = Auth::start(dir.path(), grpc).await;
    let (alice, bob) = (auth.register("alice").await, auth.register("bob").await);
    let mut c = plaintext(&auth).await;

    let own = c
        .list_sessions(sessions_of(&alice, &alice.id))
        .await
        .unwrap();
    assert_eq!(own.into_inner().sessions.len(), 1);
    // Naming nobody means oneself.
    assert!(c.list_sessions(sessions_of(&alice, "")).await.is_ok());
    let err = c
        .list_sessions(sessions_of(&alice, &bob.id))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = c
        .set_avatar(
            bearer(
                SetAvatarRequest {
                    user_id: bob.id.clone(),
                    avatar_media_id: "m1".into(),
                },
                &alice.access_token,
            )
            .unwrap(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = c
        .change_password(
            bearer(
                ChangePasswordRequest {
                    user_id: bob.id.clone(),
                    current_password: "correct horse battery".into(),
                    new_password: "another good one".into(),
                    ..Default::default()
                },
                &alice.access_token,
            )
            .unwrap(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    // Reading another user's public profile is fine.
    let found = c
        .get_user(
            bearer(
                GetUserRequest {
                    key: Some(get_user_request::Key::Username("bob".into())),
                },
                &alice.access_token,
            )
            .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(found.into_inner().id, bob.id);
}

#[tokio::test]
async fn platform_only_rpcs_refuse_user_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let grpc = generate(&default_names()).unwrap().credentials();
    let auth = Auth::start(dir.path(), grpc).await;
    let alice = auth.register("alice").await;
    let mut c = plaintext(&auth).await;
    let t = &alice.access_token;
    let codes = [
        c.rotate_signing_key(bearer(RotateSigningKeyRequest {}, t).unwrap())
            .await
            .map(|_| ())
            .unwrap_err()
            .code(),
        c.list_ended_sessions(bearer(ListEndedSessionsRequest { since: None }, t).unwrap())
            .await
            .map(|_| ())
            .unwrap_err()
            .code(),
        c.login(
            bearer(
                LoginRequest {
                    username: "alice".into(),
                    password: "correct horse battery".into(),
                    user_agent: String::new(),
                },
                t,
            )
            .unwrap(),
        )
        .await
        .map(|_| ())
        .unwrap_err()
        .code(),
    ];
    assert_eq!(codes, [Code::PermissionDenied; 3]);
    // Public halves are public.
    assert!(
        c.get_public_keys(bearer(GetPublicKeysRequest {}, t).unwrap())
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn an_ended_sessions_token_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let grpc = generate(&default_names()).unwrap().credentials();
    let auth = Auth::start(dir.path(), grpc).await;
    let alice = auth.register("alice").await;
    let mut c = plaintext(&auth).await;
    assert!(c.list_sessions(sessions_of(&alice, "")).await.is_ok());
    auth.logout(&alice).await;
    let err = c.list_sessions(sessions_of(&alice, "")).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn the_platform_acts_for_a_user_and_a_forged_certificate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let set = generate(&default_names()).unwrap();
    let auth = Auth::start(dir.path(), set.credentials()).await;
    let (alice, bob) = (auth.register("alice").await, auth.register("bob").await);

    // The gateway's credential: any user's sessions, or only the one it
    // names in `x-chat-user`.
    let mut platform = auth.platform().await;
    let listed = platform
        .list_sessions(ListSessionsRequest {
            user_id: bob.id.clone(),
        })
        .await
        .unwrap();
    assert_eq!(listed.into_inner().sessions.len(), 1);
    let mut acting = tonic::Request::new(ListSessionsRequest {
        user_id: bob.id.clone(),
    });
    acting
        .metadata_mut()
        .insert("x-chat-user", alice.id.parse().unwrap());
    let err = platform.list_sessions(acting).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    assert!(
        platform
            .rotate_signing_key(RotateSigningKeyRequest {})
            .await
            .is_ok()
    );

    // A client certificate from another CA: the handshake fails.
    let forged = Credentials {
        client: generate(&default_names()).unwrap().credentials().client,
        ..set.credentials()
    };
    let refused = match forged.endpoint(&auth.url).unwrap().connect().await {
        Err(_) => true,
        Ok(channel) => AuthServiceClient::new(channel)
            .rotate_signing_key(RotateSigningKeyRequest {})
            .await
            .is_err(),
    };
    assert!(refused, "a forged client certificate was accepted");

    // A service's server certificate is no platform credential (serverAuth
    // only), though the CA signed it.
    let lifted = Credentials {
        client: set.credentials().server,
        ..set.credentials()
    };
    let refused = match lifted.endpoint(&auth.url).unwrap().connect().await {
        Err(_) => true,
        Ok(channel) => AuthServiceClient::new(channel)
            .rotate_signing_key(RotateSigningKeyRequest {})
            .await
            .is_err(),
    };
    assert!(
        refused,
        "a server certificate was accepted as the platform's"
    );

    // TLS without a client certificate is no platform either.
    let tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(set.ca.clone()));
    let https = auth.url.replacen("http://", "https://", 1);
    let channel = Endpoint::from_shared(https)
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let err = AuthServiceClient::new(channel)
        .rotate_signing_key(RotateSigningKeyRequest {})
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn require_tls_refuses_plaintext() {
    let dir = tempfile::tempdir().unwrap();
    let set = generate(&default_names()).unwrap();
    let grpc = Credentials {
        require_tls: true,
        ..set.credentials()
    };
    let auth = Auth::start(dir.path(), grpc).await;
    let alice = auth.register("alice").await;
    // Over TLS (a user's: the CA, no client certificate) the token works.
    let tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(set.ca.clone()));
    let channel = Endpoint::from_shared(auth.url.replacen("http://", "https://", 1))
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .unwrap();
    AuthServiceClient::new(channel)
        .list_sessions(sessions_of(&alice, ""))
        .await
        .unwrap();
    let plain = match Endpoint::from_shared(auth.url.clone())
        .unwrap()
        .connect()
        .await
    {
        Err(_) => true,
        Ok(channel) => AuthServiceClient::new(channel)
            .list_sessions(sessions_of(&alice, ""))
            .await
            .is_err_and(|e| e.code() == Code::Unavailable || e.code() == Code::Unknown),
    };
    assert!(plain, "a plaintext call got through GRPC_REQUIRE_TLS");
}
