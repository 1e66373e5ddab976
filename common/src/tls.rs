//! One gRPC port, two transports: a connection whose first byte is a TLS
//! ClientHello (0x16) is served over TLS, anything else as plaintext
//! HTTP/2 (unless `GRPC_REQUIRE_TLS`). Only a TLS connection that presented
//! a client certificate signed by the private CA is the platform ([`Peer`]);
//! plaintext callers can be users (bearer token) or health and reflection
//! clients. One port keeps `grpcurl -plaintext …` and every health check
//! working unchanged.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::Connected;

use crate::credentials::Credentials;

/// How long a new connection may take to send its first byte and finish
/// the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

/// What the transport tells the caller check about a connection.
#[derive(Debug, Clone)]
pub struct Peer {
    pub remote: Option<SocketAddr>,
    /// Over TLS with a client certificate the private CA signed.
    pub platform: bool,
}

pub enum Conn {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Connected for Conn {
    type ConnectInfo = Peer;

    fn connect_info(&self) -> Peer {
        match self {
            Conn::Plain(tcp) => Peer {
                remote: tcp.peer_addr().ok(),
                platform: false,
            },
            Conn::Tls(tls) => {
                let (tcp, session) = tls.get_ref();
                Peer {
                    remote: tcp.peer_addr().ok(),
                    // The verifier refuses a certificate the CA did not
                    // sign during the handshake, so one that is here is good.
                    platform: session.peer_certificates().is_some_and(|c| !c.is_empty()),
                }
            }
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Conn::Plain(s) => s.is_write_vectored(),
            Conn::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// The TLS side of a port: its certificate, and client certificates
/// checked against the private CA but not required (users come without).
pub fn acceptor(creds: &Credentials) -> Result<Option<TlsAcceptor>, String> {
    let (Some(ca), Some(server)) = (&creds.ca, &creds.server) else {
        return Ok(None);
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca.as_bytes()) {
        let cert = cert.map_err(|e| format!("GRPC_CA_CERT: {e}"))?;
        roots.add(cert).map_err(|e| format!("GRPC_CA_CERT: {e}"))?;
    }
    let clients = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()
        .map_err(|e| format!("GRPC_CA_CERT: {e}"))?;
    let chain = CertificateDer::pem_slice_iter(server.cert.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("GRPC_SERVER_CERT: {e}"))?;
    let key = PrivateKeyDer::from_pem_slice(server.key.as_bytes())
        .map_err(|e| format!("GRPC_SERVER_KEY: {e}"))?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_client_cert_verifier(clients)
        .with_single_cert(chain, key)
        .map_err(|e| format!("GRPC_SERVER_CERT/GRPC_SERVER_KEY: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Some(TlsAcceptor::from(Arc::new(config))))
}

/// Accepts connections on `listener`, each sorted into plaintext or TLS
/// by its first byte, off the accept loop so one slow handshake delays no
/// other connection. Ends when the server drops the stream.
pub fn incoming(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    require_tls: bool,
) -> ReceiverStream<io::Result<Conn>> {
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(async move {
        loop {
            let (tcp, remote) = tokio::select! {
                () = tx.closed() => return,
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of descriptors and the like: pause, not spin.
                        tracing::warn!(error = %e, "gRPC accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let (tx, tls) = (tx.clone(), tls.clone());
            tokio::spawn(async move {
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, sort(tcp, tls, require_tls)).await {
                    Ok(Ok(Some(conn))) => {
                        let _ = tx.send(Ok(conn)).await;
                    }
                    Ok(Ok(None)) => {}
                    Ok(Err(e)) => tracing::debug!(%remote, error = %e, "gRPC connection refused"),
                    Err(_) => tracing::debug!(%remote, "gRPC connection: no handshake in time"),
                }
            });
        }
    });
    ReceiverStream::new(rx)
}

async fn sort(
    tcp: TcpStream,
    tls: Option<TlsAcceptor>,
    require_tls: bool,
) -> io::Result<Option<Conn>> {
    // Small unary calls: without TCP_NODELAY a reply can wait on a delayed ACK.
    tcp.set_nodelay(true)?;
    let mut first = [0u8; 1];
    if tcp.peek(&mut first).await? == 0 {
        return Ok(None);
    }
    match (first[0] == TLS_HANDSHAKE_RECORD, tls) {
        (true, Some(tls)) => Ok(Some(Conn::Tls(Box::new(tls.accept(tcp).await?)))),
        (true, None) => Err(io::Error::other(
            "a TLS client, but this port has no certificate (GRPC_SERVER_CERT)",
        )),
        (false, _) if require_tls => Err(io::Error::other(
            "a plaintext client, but GRPC_REQUIRE_TLS is set",
        )),
        (false, _) => Ok(Some(Conn::Plain(tcp))),
    }
}
