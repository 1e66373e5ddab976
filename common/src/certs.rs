//! Making the platform's certificates: a private CA, one server
//! certificate for the gRPC ports and one platform client certificate
//! (rcgen). The one-process `chat` makes them in memory at every start;
//! `chat-certs <dir>` writes them for compose and split runs.

use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

use crate::credentials::{Credentials, Pem};

/// Names the server certificate answers to: loopback (the one-process run,
/// split runs on one host) and the compose service names.
pub const DEFAULT_SERVER_NAMES: &[&str] = &[
    "localhost",
    "127.0.0.1",
    "::1",
    "auth",
    "message",
    "media",
    "chat-auth",
    "chat-message",
    "chat-media",
];

/// [`DEFAULT_SERVER_NAMES`], owned.
pub fn default_names() -> Vec<String> {
    DEFAULT_SERVER_NAMES.iter().map(|n| n.to_string()).collect()
}

/// The CA (its certificate only: the key is dropped once the two
/// certificates are signed, so no further one can be made from it) and the
/// certificates it signed.
#[derive(Debug, Clone)]
pub struct Set {
    pub ca: String,
    pub server: Pem,
    pub client: Pem,
}

impl Set {
    /// What every process of one deployment is configured with: the server
    /// certificate for its port, the client certificate for its calls.
    pub fn credentials(&self) -> Credentials {
        Credentials {
            ca: Some(self.ca.clone()),
            server: Some(self.server.clone()),
            client: Some(self.client.clone()),
            require_tls: false,
        }
    }
}

fn leaf(
    name: &str,
    sans: Vec<String>,
    usage: ExtendedKeyUsagePurpose,
    ca: &CertifiedIssuer<'_, KeyPair>,
) -> Result<Pem, rcgen::Error> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(sans)?;
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![usage];
    let cert = params.signed_by(&key, ca)?;
    Ok(Pem {
        cert: cert.pem(),
        key: key.serialize_pem(),
    })
}

/// A fresh CA and the certificates it signs; `server_names` are the DNS
/// names and IP addresses the server certificate is valid for.
pub fn generate(server_names: &[String]) -> Result<Set, rcgen::Error> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params
        .distinguished_name
        .push(DnType::CommonName, "chat private CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate()?)?;
    let server = leaf(
        "chat services",
        server_names.to_vec(),
        ExtendedKeyUsagePurpose::ServerAuth,
        &ca,
    )?;
    // Client-auth only: a server certificate taken from a service's disk is
    // refused as a platform credential, and this one cannot serve a port.
    let client = leaf(
        "chat platform",
        Vec::new(),
        ExtendedKeyUsagePurpose::ClientAuth,
        &ca,
    )?;
    Ok(Set {
        ca: ca.pem(),
        server,
        client,
    })
}

/// The files `chat-certs` writes, by the variable that names each.
pub const FILES: &[(&str, &str)] = &[
    ("GRPC_CA_CERT", "ca.pem"),
    ("GRPC_SERVER_CERT", "server.pem"),
    ("GRPC_SERVER_KEY", "server.key"),
    ("GRPC_CLIENT_CERT", "client.pem"),
    ("GRPC_CLIENT_KEY", "client.key"),
];

/// Writes `set` into `dir` under [`FILES`]' names (keys readable by the
/// owner only).
pub fn write(set: &Set, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let contents = [
        &set.ca,
        &set.server.cert,
        &set.server.key,
        &set.client.cert,
        &set.client.key,
    ];
    for ((_, name), text) in FILES.iter().zip(contents) {
        let path = dir.join(name);
        std::fs::write(&path, text)?;
        if name.ends_with(".key") {
            restrict(&path)?;
        }
    }
    Ok(())
}

#[cfg(unix)]
fn restrict(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn restrict(_path: &Path) -> std::io::Result<()> {
    Ok(())
}
