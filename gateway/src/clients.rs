//! gRPC clients for the services, over lazily connected channels with
//! timeouts so a service that does not answer yields `UNAVAILABLE`, never a
//! hang.

use std::time::Duration;

use chat_proto::auth::v1::auth_service_client::AuthServiceClient;
use chat_proto::media::v1::media_service_client::MediaServiceClient;
use chat_proto::message::v1::message_service_client::MessageServiceClient;
use chat_proto::message::v1::room_service_client::RoomServiceClient;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::health_client::HealthClient;

use crate::config::Config;
use crate::error::Error;
use crate::health::HealthChecks;

/// Cheap to clone: tonic channels are handles onto one connection pool.
#[derive(Clone)]
pub struct Clients {
    pub auth: AuthServiceClient<Channel>,
    pub message: MessageServiceClient<Channel>,
    /// Rooms and memberships, served by the message service process.
    pub rooms: RoomServiceClient<Channel>,
    /// Unary media calls (metadata, delete), bounded by the gRPC timeout.
    pub media: MediaServiceClient<Channel>,
    /// Upload/download streams: bounded per chunk by the caller, not as a
    /// whole, since a large file may legitimately take long.
    pub media_stream: MediaServiceClient<Channel>,
    /// Health clients, by service name, for `/healthz`.
    pub health: Vec<(&'static str, HealthClient<Channel>)>,
    /// Further readiness checks for `/healthz` (e.g. Redis): register one
    /// with `state.clients.checks.register("redis", || async { … })`.
    pub checks: HealthChecks,
}

/// HTTP/2 pings on every channel, idle or not: a service that froze (or a
/// host that vanished without closing the connection) is noticed within
/// their sum, well under 10 s; the connection is then dropped, the calls on
/// it fail with `UNAVAILABLE`, and the next call dials again — which is also
/// how a restarted service is picked up without restarting the gateway.
const KEEP_ALIVE_EVERY: Duration = Duration::from_secs(3);
const KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(3);

/// An endpoint for a service, over mutual TLS with the platform
/// certificate when one is configured (`chat_common::credentials`).
fn endpoint(
    config: &Config,
    url: &str,
    timeout: Option<Duration>,
    connect_timeout: Duration,
) -> Result<Endpoint, Error> {
    let ep = config
        .grpc
        .endpoint(url)
        .map_err(Error::Config)?
        .connect_timeout(connect_timeout)
        .tcp_nodelay(true)
        .http2_keep_alive_interval(KEEP_ALIVE_EVERY)
        .keep_alive_timeout(KEEP_ALIVE_TIMEOUT)
        .keep_alive_while_idle(true);
    Ok(match timeout {
        Some(t) => ep.timeout(t),
        None => ep,
    })
}

impl Clients {
    pub fn new(config: &Config) -> Result<Self, Error> {
        let t = config.grpc_timeout;
        let auth = endpoint(config, &config.auth_url, Some(t), t)?.connect_lazy();
        let message = endpoint(config, &config.message_url, Some(t), t)?.connect_lazy();
        let media = endpoint(config, &config.media_url, Some(t), t)?.connect_lazy();
        let media_stream = endpoint(config, &config.media_url, None, t)?.connect_lazy();
        Ok(Self {
            auth: AuthServiceClient::new(auth.clone()),
            message: MessageServiceClient::new(message.clone()),
            rooms: RoomServiceClient::new(message.clone()),
            media: MediaServiceClient::new(media.clone()),
            media_stream: MediaServiceClient::new(media_stream)
                .max_decoding_message_size(16 * 1024 * 1024),
            health: vec![
                ("auth", HealthClient::new(auth)),
                ("message", HealthClient::new(message)),
                ("media", HealthClient::new(media)),
            ],
            checks: HealthChecks::default(),
        })
    }
}
