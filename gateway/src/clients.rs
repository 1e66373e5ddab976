//! gRPC clients for the services, with timeouts so a service that does not
//! answer yields `UNAVAILABLE`, never a hang: over lazily connected network
//! channels ([`Clients::new`]), or, in the one-process `chat`, straight into
//! the services' routes ([`Clients::over`]). One connection per service
//! carries both the bounded unary calls and the streams.

use std::time::Duration;

use chat_common::channel::{GrpcChannel, over_network, with_timeout};
use chat_proto::auth::v1::auth_service_client::AuthServiceClient;
use chat_proto::media::v1::media_service_client::MediaServiceClient;
use chat_proto::message::v1::message_service_client::MessageServiceClient;
use chat_proto::message::v1::room_service_client::RoomServiceClient;
use tonic::transport::Endpoint;
use tonic_health::pb::health_client::HealthClient;

use crate::config::Config;
use crate::error::Error;
use crate::health::HealthChecks;
use crate::posts::Posts;

/// Cheap to clone: tonic channels are handles onto one connection pool.
#[derive(Clone)]
pub struct Clients {
    pub auth: AuthServiceClient<GrpcChannel>,
    pub message: MessageServiceClient<GrpcChannel>,
    /// Sends, over one `PostMessages` stream (see [`Posts`]).
    pub posts: Posts,
    /// Rooms and memberships, served by the message service process.
    pub rooms: RoomServiceClient<GrpcChannel>,
    /// Unary media calls (metadata, delete), bounded by the gRPC timeout.
    pub media: MediaServiceClient<GrpcChannel>,
    /// Upload/download streams: bounded per chunk by the caller, not as a
    /// whole, since a large file may legitimately take long.
    pub media_stream: MediaServiceClient<GrpcChannel>,
    /// Health clients, by service name, for `/healthz`.
    pub health: Vec<(&'static str, HealthClient<GrpcChannel>)>,
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
/// certificate when one is configured (`chat_common::credentials`). No
/// per-call timeout here: [`Clients::over`] bounds the unary calls.
fn endpoint(config: &Config, url: &str, connect_timeout: Duration) -> Result<Endpoint, Error> {
    Ok(config
        .grpc
        .endpoint(url)
        .map_err(Error::Config)?
        .connect_timeout(connect_timeout)
        .tcp_nodelay(true)
        .http2_keep_alive_interval(KEEP_ALIVE_EVERY)
        .keep_alive_timeout(KEEP_ALIVE_TIMEOUT)
        .keep_alive_while_idle(true))
}

/// The transports to each service, without timeouts: what
/// [`Clients::over`] builds the clients on.
pub struct Channels {
    pub auth: GrpcChannel,
    pub message: GrpcChannel,
    pub media: GrpcChannel,
    /// The bound on each unary call, and on each send of the sends stream.
    pub timeout: Duration,
}

impl Clients {
    /// Clients over the network, to the services at the configured URLs.
    pub fn new(config: &Config) -> Result<Self, Error> {
        let t = config.grpc_timeout;
        let lazy =
            |url: &str| Ok::<_, Error>(over_network(endpoint(config, url, t)?.connect_lazy()));
        Ok(Self::over(Channels {
            auth: lazy(&config.auth_url)?,
            message: lazy(&config.message_url)?,
            media: lazy(&config.media_url)?,
            timeout: t,
        }))
    }

    /// Clients on the given transports (in-process ones, in the one-process
    /// `chat`).
    pub fn over(channels: Channels) -> Self {
        let Channels {
            auth,
            message,
            media,
            timeout,
        } = channels;
        let media_stream = media.clone();
        let posts = Posts::new(message.clone(), timeout);
        let (auth, message, media) = (
            with_timeout(auth, timeout),
            with_timeout(message, timeout),
            with_timeout(media, timeout),
        );
        Self {
            auth: AuthServiceClient::new(auth.clone()),
            message: MessageServiceClient::new(message.clone()),
            posts,
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
        }
    }
}
