//! The auth service (`chat.auth.v1.AuthService`). It owns users and their
//! argon2id password hashes, sessions with their rotating refresh tokens
//! (stored hashed), failed-login counts, and the Ed25519 keys that sign
//! access tokens; nobody else can mint a token.
//! Storage is a SQLite file by default or MongoDB when `MONGO_URI` is set.

use std::future::Future;
use std::sync::Arc;

use chat_proto::auth::v1::auth_service_server::AuthServiceServer;
use tokio::net::TcpListener;
use tonic::service::Routes;

pub mod config;
pub mod error;
pub mod grpc;
pub mod keys;
pub mod password;
pub mod sessions;
pub mod signing_key;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;
pub mod throttle;
pub mod tokens;
pub mod validation;

pub use config::Config;
pub use error::Error;

/// The fully qualified gRPC service name, as health checks report it.
pub use chat_proto::auth::v1::auth_service_server::SERVICE_NAME;

/// `chat-auth rotate-signing-key`: makes a fresh key current in the store;
/// running services pick it up within [`keys::RELOAD_EVERY`]. Returns its `kid`.
pub async fn rotate_signing_key(config: &Config) -> Result<String, Error> {
    let store = store::open(config).await?;
    let records = store
        .rotate_signing_key(&signing_key::generate(chat_common::time::now_millis())?)
        .await?;
    records
        .first()
        .map(|k| k.key_id.clone())
        .ok_or_else(|| Error::Key("rotation stored no key".into()))
}

/// Opens the configured store, loads (or creates) the signing keys and serves
/// gRPC with health and reflection on `listener` until `shutdown` resolves.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "auth gRPC listening");
    }
    server(&config).await?.serve(listener, shutdown).await?;
    Ok(())
}

/// Opens the store and the signing keys, and builds the service's routes
/// (with health and reflection), ready to serve.
pub async fn server(config: &Config) -> Result<chat_common::grpc::GrpcServer, Error> {
    let store = store::open(config).await?;
    let keys = keys::load(store.as_ref()).await?;
    if let Some(current) = keys.first() {
        tracing::info!(key_id = %current.key_id, live_keys = keys.len(), "token signing keys loaded");
    }
    let issuer = Arc::new(tokens::TokenIssuer::new(
        keys,
        config.jwt_issuer.clone(),
        config.jwt_audience.clone(),
        config.access_token_ttl,
    )?);
    keys::spawn_reload(store.clone(), issuer.clone());
    let probe = {
        let store = store.clone();
        chat_common::grpc::probe(move || {
            let store = store.clone();
            async move { store.ping().await.map_err(|e| e.to_string()) }
        })
    };
    let sessions = Arc::new(sessions::Sessions {
        store,
        issuer,
        refresh_ttl: config.refresh_token_ttl,
    });
    sessions.spawn_sweeper();
    let throttle =
        throttle::LoginThrottle::new(config.login_max_failures, config.login_failure_window);
    throttle.spawn_sweeper();
    // The auth service checks tokens against its own key set and store:
    // the same verifier as everywhere, with no network in between.
    let verifier = chat_common::tokens::follow(Arc::new(grpc::LocalAuthority(sessions.clone())));
    let service = grpc::AuthServiceImpl::new(
        sessions,
        verifier.clone(),
        password::Hasher::new(config.hash_concurrency, config.hash_queue),
        throttle,
        password::dummy_hash().await?,
    );
    Ok(chat_common::grpc::GrpcServer::new(
        &[SERVICE_NAME],
        Routes::new(AuthServiceServer::new(service)),
        chat_common::grpc::Options {
            probe: Some(probe),
            grace: config.shutdown_grace,
            verifier,
            credentials: config.grpc.clone(),
            ..Default::default()
        },
    )
    .await)
}
