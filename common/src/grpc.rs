//! Serving a service's gRPC routes together with `grpc.health.v1.Health` and
//! server reflection (v1 and v1alpha, so every `grpcurl` finds it), every
//! route but those two behind the caller check ([`crate::caller`]), on one
//! port that speaks plaintext and TLS ([`crate::tls`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;
use tonic::transport::Server;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::caller::CallerLayer;
use crate::channel::GrpcChannel;
use crate::credentials::Credentials;
use crate::tokens::Verifier;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("gRPC TLS settings: {0}")]
    Tls(String),
    #[error(transparent)]
    Transport(#[from] tonic::transport::Error),
}

/// A cheap check of what the service cannot work without (its store, its
/// bucket): `Err` says what is wrong.
pub type Probe =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync>;

/// Wraps an async closure as a [`Probe`].
pub fn probe<F, Fut>(check: F) -> Probe
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    Arc::new(move || Box::pin(check()))
}

/// How the health status follows the probe, and how long a stop may take.
#[derive(Clone, Default)]
pub struct Options {
    /// Run every [`PROBE_EVERY`]; while it fails, health is `NOT_SERVING`.
    pub probe: Option<Probe>,
    /// Once `shutdown` resolves: the bound on finishing the calls in flight.
    pub grace: Duration,
    /// Checks the users' access tokens.
    pub verifier: Verifier,
    /// The port's TLS identity and the CA that makes a caller the platform.
    pub credentials: Credentials,
    /// Cancelled once `shutdown` resolves, so that streams which would
    /// otherwise never end (the message service's `PostMessages`) finish
    /// what they read and close, rather than hold the stop for the grace.
    pub stopping: CancellationToken,
}

/// How often the probe runs, and how long one run may take before it
/// counts as a failure (a store that hangs is as down as one that refuses).
pub const PROBE_EVERY: Duration = Duration::from_secs(2);
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Reflection over every compiled-in descriptor (so `grpcurl describe`
/// resolves any type), advertising only what this port serves: its own
/// services, health and reflection itself. The descriptor set holds all three
/// chat services; listing them all would show `grpcurl list` users services
/// that answer `UNIMPLEMENTED` here.
fn reflection<'b>(
    service_names: &[&str],
    reflection_name: &str,
) -> tonic_reflection::server::Builder<'b> {
    let builder = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(chat_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .with_service_name("grpc.health.v1.Health")
        .with_service_name(reflection_name);
    service_names
        .iter()
        .fold(builder, |b, name| b.with_service_name(*name))
}

/// A service's gRPC routes with health and reflection added, ready to be
/// served on a port ([`GrpcServer::serve`]) and, in the one-process
/// `chat`, called in-process too ([`GrpcServer::in_process`]): both see the
/// same state and the same health.
pub struct GrpcServer {
    names: Vec<String>,
    routes: Routes,
    reporter: HealthReporter,
    options: Options,
    /// What must live as long as the routes serve (see [`GrpcServer::hold`]).
    held: Vec<Box<dyn std::any::Any + Send + Sync>>,
}

impl GrpcServer {
    /// `service_names` are the fully qualified names whose health is
    /// reported (the empty name, "whole server", is too): `SERVING` from
    /// now, then following the probe once served.
    pub async fn new(service_names: &[&str], routes: Routes, options: Options) -> GrpcServer {
        let names: Vec<String> = service_names
            .iter()
            .map(|n| n.to_string())
            .chain([String::new()])
            .collect();
        let (reporter, health) = tonic_health::server::health_reporter();
        set_all(&reporter, &names, ServingStatus::Serving).await;
        let reflection_v1 = reflection(service_names, "grpc.reflection.v1.ServerReflection")
            .build_v1()
            .expect("the compiled-in descriptor sets are valid");
        let reflection_v1alpha =
            reflection(service_names, "grpc.reflection.v1alpha.ServerReflection")
                .build_v1alpha()
                .expect("the compiled-in descriptor sets are valid");
        let routes = routes
            .add_service(health)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha);
        GrpcServer {
            names,
            routes,
            reporter,
            options,
            held: Vec::new(),
        }
    }

    /// Keeps `thing` (say, an in-process S3 server the routes use) alive
    /// until serving ends.
    pub fn hold(mut self, thing: impl std::any::Any + Send + Sync) -> GrpcServer {
        self.held.push(Box::new(thing));
        self
    }

    /// The verifier that checks the callers' tokens. In the one-process
    /// `chat` the auth service's own (which reads its store, no network)
    /// serves the other services too.
    pub fn verifier(&self) -> crate::tokens::Verifier {
        self.options.verifier.clone()
    }

    /// A client transport onto these routes within the process, as the
    /// platform (see [`crate::channel::in_process`]).
    pub fn in_process(&self) -> GrpcChannel {
        crate::channel::in_process(
            self.routes.clone(),
            CallerLayer::new(self.options.verifier.clone()),
        )
    }

    /// Serves on `listener` until `shutdown` completes: health follows the
    /// probe, and turns `NOT_SERVING` from the moment `shutdown` resolves.
    /// Then no new connection is accepted and the calls in flight get
    /// `options.grace` to finish before they are cut off.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), ServeError> {
        let GrpcServer {
            names,
            routes,
            reporter,
            options,
            held: _held,
        } = self;
        let tls = crate::tls::acceptor(&options.credentials).map_err(ServeError::Tls)?;
        if tls.is_none() && options.credentials.require_tls {
            return Err(ServeError::Tls(
                "GRPC_REQUIRE_TLS is set but the port has no certificate (GRPC_CA_CERT, GRPC_SERVER_CERT, GRPC_SERVER_KEY)".into(),
            ));
        }
        let prober = options
            .probe
            .clone()
            .map(|probe| tokio::spawn(follow(probe, reporter.clone(), names.clone())));
        let (signalled, on_signal) = tokio::sync::oneshot::channel::<()>();
        let streams_stop = options.stopping.clone();
        let stopping = async move {
            shutdown.await;
            if let Some(prober) = prober {
                prober.abort();
            }
            // First, so load balancers and the gateway's health checks stop
            // counting on this process while it finishes what it has.
            set_all(&reporter, &names, ServingStatus::NotServing).await;
            tracing::info!("stopping: NOT_SERVING; finishing the calls in flight");
            streams_stop.cancel();
            let _ = signalled.send(());
        };
        let incoming = crate::tls::incoming(listener, tls, options.credentials.require_tls);
        let server = Server::builder()
            .layer(CallerLayer::new(options.verifier.clone()))
            .add_routes(routes)
            .serve_with_incoming_shutdown(incoming, stopping);
        tokio::pin!(server);
        tokio::select! {
            res = &mut server => return res.map_err(ServeError::Transport),
            Ok(()) = on_signal => {}
        }
        match tokio::time::timeout(options.grace, server).await {
            Ok(res) => res.map_err(ServeError::Transport),
            Err(_) => {
                tracing::warn!(grace = ?options.grace, "calls still running after the grace period; cutting them off");
                Ok(())
            }
        }
    }
}

/// [`GrpcServer::new`] then [`GrpcServer::serve`]: what a service run on
/// its own does.
pub async fn serve(
    listener: TcpListener,
    service_names: &[&str],
    routes: Routes,
    options: Options,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    GrpcServer::new(service_names, routes, options)
        .await
        .serve(listener, shutdown)
        .await
}

async fn set_all(reporter: &HealthReporter, names: &[String], status: ServingStatus) {
    for name in names {
        reporter.set_service_status(name, status).await;
    }
}

/// Runs the probe every [`PROBE_EVERY`] and reports its outcome, logging
/// each change.
async fn follow(probe: Probe, reporter: HealthReporter, names: Vec<String>) {
    let mut serving = true;
    let mut tick = tokio::time::interval(PROBE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let outcome = tokio::time::timeout(PROBE_TIMEOUT, probe())
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {PROBE_TIMEOUT:?}")));
        match (&outcome, serving) {
            (Ok(()), false) => tracing::warn!("dependency back: SERVING"),
            (Err(e), true) => tracing::error!(error = %e, "dependency down: NOT_SERVING"),
            _ => {}
        }
        if outcome.is_ok() != serving {
            serving = outcome.is_ok();
            let status = if serving {
                ServingStatus::Serving
            } else {
                ServingStatus::NotServing
            };
            set_all(&reporter, &names, status).await;
        }
    }
}
