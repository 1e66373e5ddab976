//! The message service (`chat.message.v1.MessageService`). It owns messages
//! and per-user read positions: content limits, authorship of edits and
//! deletes, soft deletes, idempotent sends per `(sender, client_id)`, history
//! paging by `(timestamp, id)`, forward-only read positions and unread
//! counts; and, as `chat.message.v1.RoomService`, rooms and memberships
//! (see `rooms`). Rate limits are the gateway's business.

use std::future::Future;
use std::sync::Arc;

use chat_common::tokens::Verifier;
use chat_proto::message::v1::message_service_server::{MessageServiceServer, SERVICE_NAME};
use chat_proto::message::v1::room_service_server::{
    RoomServiceServer, SERVICE_NAME as ROOM_SERVICE_NAME,
};
use tokio::net::TcpListener;
use tonic::service::Routes;

pub mod config;
pub mod error;
#[cfg(test)]
mod fuzz;
mod grpc;
pub mod model;
pub mod rooms;
pub mod rules;
pub mod service;
pub mod store;
pub mod text;

pub use config::Config;
pub use error::Error;

use rules::Limits;
use service::Messages;
use store::{EmbeddedStore, MongoStore, RoomStore, Store};

/// Opens the store the configuration selects: MongoDB when `MONGO_URI` is
/// set, otherwise the SQLite file under `DATA_DIR`.
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>, Error> {
    Ok(open_stores(config).await?.0)
}

/// The message store and the room store, which are one database (one
/// SQLite file and opener, or one MongoDB database): a first direct message
/// and its memberships are written together.
pub async fn open_stores(config: &Config) -> Result<(Arc<dyn Store>, Arc<dyn RoomStore>), Error> {
    match &config.mongo_uri {
        Some(uri) => {
            tracing::info!(database = %config.mongo_db, "message store: MongoDB");
            let store = Arc::new(MongoStore::open(uri, &config.mongo_db).await?);
            Ok((store.clone(), store))
        }
        None => {
            let path = config.sqlite_path();
            tracing::info!(path = %path.display(), "message store: embedded SQLite");
            let store = Arc::new(EmbeddedStore::open(&path).await?);
            Ok((store.clone(), store))
        }
    }
}

/// Health follows the store.
fn store_probe(store: Arc<dyn Store>) -> chat_common::grpc::Probe {
    chat_common::grpc::probe(move || {
        let store = store.clone();
        async move { store.ping().await.map_err(|e| e.to_string()) }
    })
}

/// Opens the configured store and serves gRPC (with health and reflection,
/// via `chat_common::grpc::serve`) on `listener` until `shutdown` resolves.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "message service listening");
    }
    server(&config).await?.serve(listener, shutdown).await?;
    Ok(())
}

/// Opens the configured store and builds the service's routes (with health
/// and reflection), ready to serve; callers' tokens are checked against the
/// auth service at `AUTH_URL`.
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
    let (store, room_store) = open_stores(config).await?;
    let limits = Limits {
        max_message_chars: config.max_message_chars,
        history_default_limit: config.history_default_limit,
        history_max_limit: config.history_max_limit,
    };
    let options = chat_common::grpc::Options {
        probe: Some(store_probe(store.clone())),
        grace: config.shutdown_grace,
        verifier,
        credentials: config.grpc.clone(),
        stopping: Default::default(),
    };
    let rooms = rooms::grpc::RoomGrpc::new(rooms::Rooms::new(room_store.clone(), store.clone()));
    let service = grpc::MessageGrpc::new(
        Messages::new(store.clone(), limits),
        rooms::Rooms::new(room_store, store),
        options.stopping.clone(),
    );
    let routes =
        Routes::new(MessageServiceServer::new(service)).add_service(RoomServiceServer::new(rooms));
    Ok(
        chat_common::grpc::GrpcServer::new(&[SERVICE_NAME, ROOM_SERVICE_NAME], routes, options)
            .await,
    )
}
