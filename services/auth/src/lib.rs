//! The auth service (`chat.auth.v1.AuthService`). It owns users and their
//! argon2id password hashes, single-use refresh tokens (stored hashed), and
//! the Ed25519 key that signs access tokens; nobody else can mint a token.
//! Storage is a SQLite file by default or MongoDB when `MONGO_URI` is set.

use std::future::Future;

use chat_proto::auth::v1::auth_service_server::AuthServiceServer;
use tokio::net::TcpListener;
use tonic::service::Routes;

pub mod config;
pub mod error;
pub mod grpc;
pub mod password;
pub mod signing_key;
pub mod store;
pub mod tokens;
pub mod validation;

pub use config::Config;
pub use error::Error;

/// The fully qualified gRPC service name, as health checks report it.
pub use chat_proto::auth::v1::auth_service_server::SERVICE_NAME;

/// Opens the configured store, loads (or creates) the signing key and serves
/// gRPC with health and reflection on `listener` until `shutdown` resolves.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let store = store::open(&config).await?;
    let now = chat_common::time::now_millis();
    let key = store
        .signing_key_get_or_init(&signing_key::generate(now)?)
        .await?;
    tracing::info!(key_id = %key.key_id, "token signing key loaded");
    let issuer = tokens::TokenIssuer::new(
        signing_key::KeyMaterial::from_record(&key)?,
        config.jwt_issuer.clone(),
        config.access_token_ttl,
    );
    let probe = {
        let store = store.clone();
        chat_common::grpc::probe(move || {
            let store = store.clone();
            async move { store.ping().await.map_err(|e| e.to_string()) }
        })
    };
    let service = grpc::AuthServiceImpl::new(
        store,
        issuer,
        config.refresh_token_ttl,
        password::dummy_hash().await?,
    );
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "auth gRPC listening");
    }
    chat_common::grpc::serve(
        listener,
        &[SERVICE_NAME],
        Routes::new(AuthServiceServer::new(service)),
        chat_common::grpc::Options {
            probe: Some(probe),
            grace: config.shutdown_grace,
        },
        shutdown,
    )
    .await?;
    Ok(())
}
