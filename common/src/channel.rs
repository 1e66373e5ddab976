//! What a gRPC client of a chat service runs on: a [`GrpcChannel`], either a
//! network channel (TLS/HTTP/2 over TCP, as every split deployment uses) or
//! the service itself in the same process ([`in_process`]), which the
//! one-process `chat` uses for the gateway's calls. Both carry the same
//! protobuf messages through the same generated clients, routes and caller
//! check; the in-process one skips the socket, TLS and HTTP/2 framing, which
//! the benchmark found to be the largest cost of a send.

use std::convert::Infallible;
use std::time::Duration;

use tonic::body::Body;
use tonic::service::Routes;
use tonic::transport::Channel;
use tower::util::BoxCloneSyncService;
use tower::{BoxError, Layer, ServiceExt};

use crate::caller::CallerLayer;
use crate::tls::Peer;

/// A client transport: `FooServiceClient<GrpcChannel>`.
pub type GrpcChannel =
    BoxCloneSyncService<http::Request<Body>, http::Response<Body>, TransportError>;

/// Why a call did not reach the service or its answer did not come back.
/// A named type rather than a bare `BoxError`: async-trait futures over a
/// client whose error is a trait object trip a compiler limitation
/// (higher-ranked `From` bounds).
#[derive(Debug)]
pub struct TransportError(BoxError);

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The cause is the source, so tonic finds a timeout, a refused connection
/// or an HTTP/2 error in the chain and maps it to the same status as it
/// would on a bare network channel.
impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

/// A network channel as a [`GrpcChannel`].
pub fn over_network(channel: Channel) -> GrpcChannel {
    BoxCloneSyncService::new(channel.map_err(|e| TransportError(e.into())))
}

/// `routes` (with health and reflection, as `crate::grpc::GrpcServer`
/// serves them) called directly, as the platform: the request never leaves
/// the process, so it is the platform by construction, like a caller with
/// the platform's client certificate on the network. The caller check still
/// runs, so a user's `authorization` metadata is verified the same way.
pub fn in_process(routes: Routes, caller: CallerLayer) -> GrpcChannel {
    let service = caller.layer(routes);
    BoxCloneSyncService::new(tower::service_fn(move |mut req: http::Request<Body>| {
        req.extensions_mut().insert(Peer {
            remote: None,
            platform: true,
        });
        let call = service.clone().oneshot(req);
        async move { call.await.map_err(|never: Infallible| match never {}) }
    }))
}

/// `channel` with each call bounded by `limit` until its response begins,
/// failing as tonic's own channel timeout does (`tonic::TimeoutExpired`,
/// seen as `CANCELLED`). One connection then serves both the bounded unary
/// calls and the streams that may legitimately last (uploads, the sends
/// stream), instead of one connection for each kind.
pub fn with_timeout(channel: GrpcChannel, limit: Duration) -> GrpcChannel {
    BoxCloneSyncService::new(tower::service_fn(move |req: http::Request<Body>| {
        let call = channel.clone().oneshot(req);
        async move {
            tokio::time::timeout(limit, call)
                .await
                .map_err(|_| TransportError(tonic::TimeoutExpired(()).into()))?
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_client::HealthClient;

    #[tokio::test]
    async fn a_client_over_the_in_process_channel_reaches_the_routes() {
        let (reporter, health) = tonic_health::server::health_reporter();
        reporter
            .set_service_status("x", tonic_health::ServingStatus::Serving)
            .await;
        let routes = Routes::new(health);
        let caller = CallerLayer::new(crate::tokens::Verifier::default());
        let mut client = HealthClient::new(in_process(routes, caller));
        let status = client
            .check(HealthCheckRequest {
                service: "x".into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        assert_eq!(status, tonic_health::ServingStatus::Serving as i32);
        let unknown = client
            .check(HealthCheckRequest {
                service: "nope".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(unknown.code(), tonic::Code::NotFound);
    }

    /// Answers after a minute, as a store that hangs would.
    #[derive(Clone)]
    struct Hangs;

    impl tonic::server::NamedService for Hangs {
        const NAME: &'static str = "grpc.health.v1.Health";
    }

    impl tower::Service<http::Request<Body>> for Hangs {
        type Response = http::Response<Body>;
        type Error = Infallible;
        type Future = std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<Self::Response, Infallible>> + Send>,
        >;

        fn poll_ready(
            &mut self,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Result<(), Infallible>> {
            std::task::Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: http::Request<Body>) -> Self::Future {
            Box::pin(async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                Ok(http::Response::new(Body::empty()))
            })
        }
    }

    /// A call on `channel` fails as a timed-out network call does, well
    /// before the service would have answered.
    async fn ends_cancelled_soon(channel: GrpcChannel) {
        let started = std::time::Instant::now();
        let err = HealthClient::new(channel)
            .check(HealthCheckRequest::default())
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::Cancelled, "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn a_call_that_outlives_the_timeout_ends_as_on_a_network_channel() {
        let caller = CallerLayer::new(crate::tokens::Verifier::default());
        let channel = with_timeout(
            in_process(Routes::new(Hangs), caller),
            Duration::from_millis(100),
        );
        ends_cancelled_soon(channel).await;
    }

    #[tokio::test]
    async fn a_network_call_to_a_peer_that_never_answers_ends_at_the_timeout() {
        // Accepts the connection, then says nothing, as a frozen service.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _held = tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                open.push(socket);
            }
        });
        let network = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect_lazy();
        let channel = with_timeout(over_network(network), Duration::from_millis(200));
        ends_cancelled_soon(channel).await;
    }
}
