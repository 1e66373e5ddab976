//! The whole chat system in one process: the auth, message and media
//! services each on their own loopback gRPC port (picked by the OS unless
//! `*_GRPC_ADDR` is set) for `grpcurl` and other callers, the media
//! service's in-process S3 server, and the gateway on `PORT`, which calls
//! the services' routes in-process (`chat_common::channel`): the same
//! generated clients, messages and caller check, without a socket, TLS or
//! HTTP/2 in between. Every component reads its own
//! configuration from the environment as it would standalone; this crate
//! only overrides where each listens, where the gateway finds them, who
//! checks tokens (the auth service, in-process, for all), and their gRPC
//! credentials: a private CA made in memory at every start
//! (`chat_common::certs`), whose certificate alone is written to
//! `DATA_DIR/grpc-ca.pem` for `grpcurl -cacert`.

use std::fmt::Display;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Once the gateway stopped (within `SHUTDOWN_GRACE_SECS`), how long the
/// services may take at most: the gateway was their only caller, so this is
/// only for the stragglers of calls it gave up on.
const SERVICES_AFTER_GATEWAY: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("configuration error: {0}")]
    Config(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{component} failed: {reason}")]
    Failed {
        component: &'static str,
        reason: String,
    },
    #[error("{0} stopped on its own")]
    Stopped(&'static str),
}

/// Starts everything, then runs until `shutdown` resolves or a component
/// fails (which stops all the others and is returned as the error).
pub async fn run(shutdown: impl Future<Output = ()>) -> Result<(), Error> {
    System::start().await?.run_until(shutdown).await
}

/// The running components.
pub struct System {
    /// Where the gateway listens (HTTP and Socket.IO).
    pub gateway_addr: SocketAddr,
    pub data_dir: PathBuf,
    /// Stops the gateway; the services get their own token, cancelled only
    /// once the gateway is done, so that the events it finishes while
    /// draining still reach them.
    stop_gateway: CancellationToken,
    stop_services: CancellationToken,
    grace: Duration,
    tasks: JoinSet<(&'static str, Result<(), String>)>,
}

impl System {
    /// Binds every listener (so a port clash fails here, before anything
    /// serves) and spawns the components.
    pub async fn start() -> Result<System, Error> {
        let data_dir = std::env::var("DATA_DIR")
            .ok()
            .filter(|d| !d.trim().is_empty())
            .map_or_else(|| PathBuf::from("./data"), PathBuf::from);
        std::fs::create_dir_all(&data_dir).map_err(|source| Error::Io {
            what: format!("cannot create DATA_DIR {}", data_dir.display()),
            source,
        })?;
        let stop_gateway = CancellationToken::new();
        let stop_services = CancellationToken::new();
        let mut tasks = JoinSet::new();

        // Every configuration is read and every port bound before anything
        // serves, so a mistake or a port clash stops start-up cleanly.
        let auth_listener = bind("AUTH_GRPC_ADDR").await?;
        let mut auth = chat_auth::Config::from_env().map_err(config_error("auth"))?;
        auth.listen_addr = local_addr(&auth_listener)?;
        auth.data_dir = data_dir.clone();

        let message_listener = bind("MESSAGE_GRPC_ADDR").await?;
        let mut message = chat_message::Config::from_env().map_err(config_error("message"))?;
        message.listen_addr = local_addr(&message_listener)?;
        message.data_dir = data_dir.clone();

        let media_listener = bind("MEDIA_GRPC_ADDR").await?;
        let mut media = chat_media::Config::from_env().map_err(config_error("media"))?;
        media.listen_addr = local_addr(&media_listener)?;
        media.data_dir = data_dir.clone();

        let mut gateway = chat_gateway::Config::from_env().map_err(config_error("gateway"))?;
        gateway.auth_url = url_of(auth.listen_addr);
        gateway.message_url = url_of(message.listen_addr);
        gateway.media_url = url_of(media.listen_addr);
        let credentials = internal_credentials(&data_dir, &auth.listen_addr)?;
        for grpc in [
            &mut auth.grpc,
            &mut message.grpc,
            &mut media.grpc,
            &mut gateway.grpc,
        ] {
            *grpc = chat_common::credentials::Credentials {
                require_tls: grpc.require_tls,
                ..credentials.clone()
            };
        }
        let gateway_listener =
            chat_gateway::bind(gateway.listen_addr).map_err(|source| Error::Io {
                what: format!("cannot listen on {} (HOST/PORT)", gateway.listen_addr),
                source,
            })?;
        let gateway_addr = local_addr(&gateway_listener)?;
        let grace = gateway.shutdown_grace;

        // Each service is built once: its port serves `grpcurl` and other
        // callers, and the gateway calls the very same routes in-process.
        // The auth service's verifier (its own keys and store) checks the
        // callers of the other two as well: asking it over the network, as
        // separate processes must, would only add a TLS connection and a
        // catch-up call a second from each.
        let auth = chat_auth::server(&auth).await.map_err(failed("auth"))?;
        let (message, media) = tokio::try_join!(
            async {
                chat_message::server_with(&message, auth.verifier())
                    .await
                    .map_err(failed("message"))
            },
            async {
                chat_media::server_with(&media, auth.verifier())
                    .await
                    .map_err(failed("media"))
            },
        )?;
        let clients = chat_gateway::clients::Clients::over(chat_gateway::clients::Channels {
            auth: auth.in_process(),
            message: message.in_process(),
            media: media.in_process(),
            timeout: gateway.grpc_timeout,
        });
        let stop = || stop_services.clone().cancelled_owned();
        spawn(&mut tasks, "auth", auth.serve(auth_listener, stop()));
        spawn(
            &mut tasks,
            "message",
            message.serve(message_listener, stop()),
        );
        spawn(&mut tasks, "media", media.serve(media_listener, stop()));
        spawn(
            &mut tasks,
            "gateway",
            chat_gateway::serve_with(
                gateway,
                clients,
                gateway_listener,
                stop_gateway.clone().cancelled_owned(),
            ),
        );
        tracing::info!(
            url = %format!("http://{gateway_addr}"),
            data_dir = %data_dir.display(),
            "chat is up"
        );
        Ok(System {
            gateway_addr,
            data_dir,
            stop_gateway,
            stop_services,
            grace,
            tasks,
        })
    }

    /// Runs until `shutdown` resolves (then stops everything gracefully and
    /// returns `Ok`) or until any component ends (then stops the rest and
    /// returns why that one ended).
    pub async fn run_until(mut self, shutdown: impl Future<Output = ()>) -> Result<(), Error> {
        let early = tokio::select! {
            () = shutdown => None,
            Some(joined) = self.tasks.join_next() => Some(outcome(joined)),
        };
        // The gateway first (it drains its sockets, finishing their events
        // through the services), then the services.
        let deadline = tokio::time::Instant::now() + self.grace;
        self.stop_gateway.cancel();
        if early.is_some() {
            self.stop_services.cancel();
        }
        let gateway_done = tokio::time::timeout_at(deadline, async {
            while let Some(joined) = self.tasks.join_next().await {
                let (name, res) = outcome(joined);
                if let Err(reason) = res {
                    tracing::error!(component = name, %reason, "failed while stopping");
                }
                if name == "gateway" {
                    return;
                }
            }
        })
        .await;
        if gateway_done.is_err() {
            tracing::warn!(grace = ?self.grace, "the gateway was still stopping at the end of the grace period");
        }
        tracing::info!("stopping the services");
        self.stop_services.cancel();
        let stopped = tokio::time::timeout_at(
            deadline.max(tokio::time::Instant::now()) + SERVICES_AFTER_GATEWAY,
            async {
                while let Some(joined) = self.tasks.join_next().await {
                    if let (name, Err(reason)) = outcome(joined) {
                        tracing::error!(component = name, %reason, "failed while stopping");
                    }
                }
            },
        )
        .await;
        if stopped.is_err() {
            tracing::warn!(grace = ?self.grace, "components still busy after the grace period; cutting them off");
            self.tasks.abort_all();
        }
        tracing::info!("every component stopped");
        match early {
            None => Ok(()),
            Some((name, Ok(()))) => Err(Error::Stopped(name)),
            Some((component, Err(reason))) => Err(Error::Failed { component, reason }),
        }
    }

    /// Asks every component to stop, as a signal would.
    pub fn stop(&self) {
        self.stop_gateway.cancel();
        self.stop_services.cancel();
    }
}

fn spawn<E: Display>(
    tasks: &mut JoinSet<(&'static str, Result<(), String>)>,
    name: &'static str,
    component: impl Future<Output = Result<(), E>> + Send + 'static,
) {
    tasks.spawn(async move { (name, component.await.map_err(|e| e.to_string())) });
}

fn outcome(
    joined: Result<(&'static str, Result<(), String>), tokio::task::JoinError>,
) -> (&'static str, Result<(), String>) {
    joined.unwrap_or_else(|e| ("a component", Err(format!("crashed: {e}"))))
}

fn failed<E: Display>(component: &'static str) -> impl Fn(E) -> Error {
    move |e| Error::Failed {
        component,
        reason: e.to_string(),
    }
}

fn config_error<E: Display>(component: &'static str) -> impl Fn(E) -> Error {
    move |e| Error::Config(format!("{component}: {e}"))
}

/// A fresh CA and certificates for this run (nothing to configure, nothing
/// secret on disk); the CA certificate goes to `DATA_DIR/grpc-ca.pem`.
fn internal_credentials(
    data_dir: &std::path::Path,
    addr: &SocketAddr,
) -> Result<chat_common::credentials::Credentials, Error> {
    let mut names: Vec<String> = chat_common::certs::DEFAULT_SERVER_NAMES
        .iter()
        .map(|n| n.to_string())
        .collect();
    if !addr.ip().is_unspecified() && !addr.ip().is_loopback() {
        names.push(addr.ip().to_string());
    }
    let set = chat_common::certs::generate(&names)
        .map_err(|e| Error::Config(format!("cannot make the gRPC certificates: {e}")))?;
    let ca_path = data_dir.join("grpc-ca.pem");
    std::fs::write(&ca_path, &set.ca).map_err(|source| Error::Io {
        what: format!("cannot write {}", ca_path.display()),
        source,
    })?;
    Ok(set.credentials())
}

/// Binds `var` when it is set, else an OS-picked loopback port.
async fn bind(var: &str) -> Result<TcpListener, Error> {
    let addr = match std::env::var(var).ok().filter(|v| !v.trim().is_empty()) {
        Some(v) => v
            .trim()
            .parse::<SocketAddr>()
            .map_err(|_| Error::Config(format!("{var} must be an IP:port address, got {v:?}")))?,
        None => SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
    };
    TcpListener::bind(addr).await.map_err(|source| Error::Io {
        what: format!("cannot listen on {addr} ({var})"),
        source,
    })
}

fn local_addr(listener: &TcpListener) -> Result<SocketAddr, Error> {
    listener.local_addr().map_err(|source| Error::Io {
        what: "cannot read a listener's address".into(),
        source,
    })
}

/// The URL the gateway dials: a wildcard listen address is reached over
/// loopback.
fn url_of(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_addresses_are_dialled_over_loopback() {
        assert_eq!(
            url_of("0.0.0.0:9000".parse().unwrap()),
            "http://127.0.0.1:9000"
        );
        assert_eq!(url_of("[::]:9000".parse().unwrap()), "http://[::1]:9000");
        assert_eq!(
            url_of("127.0.0.1:41000".parse().unwrap()),
            "http://127.0.0.1:41000"
        );
    }

    #[tokio::test]
    async fn a_bad_address_names_the_variable() {
        // SAFETY: no other test in this crate reads this variable.
        unsafe { std::env::set_var("CHAT_TEST_BAD_ADDR", "nowhere") };
        let err = bind("CHAT_TEST_BAD_ADDR").await.unwrap_err();
        assert!(err.to_string().contains("CHAT_TEST_BAD_ADDR"), "{err}");
    }
}
