//! The message service (`chat.message.v1.MessageService`). It owns messages
//! and per-user read positions: content limits, authorship of edits and
//! deletes, soft deletes, idempotent sends per `(sender, client_id)`, history
//! paging by `(timestamp, id)`, forward-only read positions and unread
//! counts. Room membership and rate limits are the gateway's business.

use std::future::Future;
use std::sync::Arc;

use chat_proto::message::v1::message_service_server::{MessageServiceServer, SERVICE_NAME};
use tokio::net::TcpListener;
use tonic::service::Routes;

pub mod config;
pub mod error;
mod grpc;
pub mod model;
pub mod rules;
pub mod service;
pub mod store;
pub mod text;

pub use config::Config;
pub use error::Error;

use rules::Limits;
use service::Messages;
use store::{EmbeddedStore, MongoStore, Store};

/// Opens the store the configuration selects: MongoDB when `MONGO_URI` is
/// set, otherwise the SQLite file under `DATA_DIR`.
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>, Error> {
    match &config.mongo_uri {
        Some(uri) => {
            tracing::info!(database = %config.mongo_db, "message store: MongoDB");
            Ok(Arc::new(MongoStore::open(uri, &config.mongo_db).await?))
        }
        None => {
            let path = config.sqlite_path();
            tracing::info!(path = %path.display(), "message store: embedded SQLite");
            Ok(Arc::new(EmbeddedStore::open(&path).await?))
        }
    }
}

/// Opens the configured store and serves gRPC (with health and reflection,
/// via `chat_common::grpc::serve`) on `listener` until `shutdown` resolves.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let store = open_store(&config).await?;
    let limits = Limits {
        max_message_chars: config.max_message_chars,
        history_default_limit: config.history_default_limit,
        history_max_limit: config.history_max_limit,
    };
    let service = grpc::MessageGrpc::new(Messages::new(store, limits));
    let routes = Routes::new(MessageServiceServer::new(service));
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "message service listening");
    }
    chat_common::grpc::serve(listener, &[SERVICE_NAME], routes, shutdown).await?;
    Ok(())
}
