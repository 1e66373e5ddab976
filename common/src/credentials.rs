//! The gRPC transport credentials of one process, read from configuration:
//! the private CA that signs every platform certificate, this process's
//! server certificate (what its gRPC port presents) and its platform client
//! certificate (what it presents when calling another service). PEM text,
//! read from the files the variables name, once at start.

use std::fmt;

use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

use crate::env::{InvalidVar, Vars};

/// A certificate chain and its private key, PEM.
#[derive(Clone)]
pub struct Pem {
    pub cert: String,
    pub key: String,
}

impl fmt::Debug for Pem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pem { cert, key: <redacted> }")
    }
}

#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// `GRPC_CA_CERT`: the private CA; client certificates it signed make
    /// their caller the platform, and servers are checked against it.
    pub ca: Option<String>,
    /// `GRPC_SERVER_CERT` + `GRPC_SERVER_KEY`: this port's TLS identity.
    pub server: Option<Pem>,
    /// `GRPC_CLIENT_CERT` + `GRPC_CLIENT_KEY`: the platform credential this
    /// process presents to the services it calls.
    pub client: Option<Pem>,
    /// `GRPC_REQUIRE_TLS`: refuse plaintext connections (default: accept
    /// them, for users with a bearer token and for health checks).
    pub require_tls: bool,
}

fn read(
    vars: &Vars<impl Fn(&str) -> Option<String>>,
    name: &str,
) -> Result<Option<String>, InvalidVar> {
    let Some(path) = vars.string(name) else {
        return Ok(None);
    };
    std::fs::read_to_string(&path)
        .map(Some)
        .map_err(|e| InvalidVar {
            name: name.into(),
            expected: format!("the path of a readable PEM file ({e})"),
            value: path,
        })
}

fn pair(
    vars: &Vars<impl Fn(&str) -> Option<String>>,
    cert: &str,
    key: &str,
) -> Result<Option<Pem>, InvalidVar> {
    match (read(vars, cert)?, read(vars, key)?) {
        (Some(cert), Some(key)) => Ok(Some(Pem { cert, key })),
        (None, None) => Ok(None),
        (Some(_), None) => Err(InvalidVar {
            name: key.into(),
            expected: format!("set together with {cert}"),
            value: String::new(),
        }),
        (None, Some(_)) => Err(InvalidVar {
            name: cert.into(),
            expected: format!("set together with {key}"),
            value: String::new(),
        }),
    }
}

impl Credentials {
    pub fn from_vars(
        vars: &Vars<impl Fn(&str) -> Option<String>>,
    ) -> Result<Credentials, InvalidVar> {
        let creds = Credentials {
            ca: read(vars, "GRPC_CA_CERT")?,
            server: pair(vars, "GRPC_SERVER_CERT", "GRPC_SERVER_KEY")?,
            client: pair(vars, "GRPC_CLIENT_CERT", "GRPC_CLIENT_KEY")?,
            require_tls: vars.bool_or("GRPC_REQUIRE_TLS", false)?,
        };
        if creds.ca.is_none() && (creds.server.is_some() || creds.client.is_some()) {
            return Err(InvalidVar {
                name: "GRPC_CA_CERT".into(),
                expected: "set whenever a server or client certificate is".into(),
                value: String::new(),
            });
        }
        Ok(creds)
    }

    /// The TLS client settings for calling a service as the platform, when
    /// this process has a client certificate.
    pub fn client_tls(&self) -> Option<ClientTlsConfig> {
        let (ca, client) = (self.ca.as_ref()?, self.client.as_ref()?);
        Some(
            ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(ca))
                .identity(Identity::from_pem(&client.cert, &client.key)),
        )
    }

    /// An endpoint for `url` (`http://host:port`): over TLS with the platform
    /// certificate when this process has one, else plaintext.
    pub fn endpoint(&self, url: &str) -> Result<Endpoint, String> {
        let tls = self.client_tls();
        let url = match (&tls, url.strip_prefix("http://")) {
            (Some(_), Some(rest)) => format!("https://{rest}"),
            _ => url.to_owned(),
        };
        let endpoint = Endpoint::from_shared(url.clone())
            .map_err(|e| format!("invalid service URL {url:?}: {e}"))?;
        match tls {
            Some(tls) => endpoint
                .tls_config(tls)
                .map_err(|e| format!("TLS settings for {url}: {e}")),
            None => Ok(endpoint),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::from_pairs;

    fn from(pairs: &[(&str, &str)]) -> Result<Credentials, InvalidVar> {
        Credentials::from_vars(&Vars::new(from_pairs(pairs)))
    }

    #[test]
    fn nothing_set_is_plaintext_only_and_pairs_go_together() {
        let none = from(&[]).unwrap();
        assert!(none.ca.is_none() && none.server.is_none() && none.client.is_none());
        assert!(none.client_tls().is_none());
        assert!(!none.require_tls);

        let dir = std::env::temp_dir().join(format!("chat-creds-{}", std::process::id()));
        let set = crate::certs::generate(&crate::certs::default_names()).unwrap();
        crate::certs::write(&set, &dir).unwrap();
        let path = |f: &str| dir.join(f).display().to_string();
        let (ca, cert, key) = (path("ca.pem"), path("client.pem"), path("client.key"));
        let full = from(&[
            ("GRPC_CA_CERT", &ca),
            ("GRPC_CLIENT_CERT", &cert),
            ("GRPC_CLIENT_KEY", &key),
            ("GRPC_REQUIRE_TLS", "true"),
        ])
        .unwrap();
        assert!(full.client_tls().is_some() && full.require_tls);
        assert!(
            full.endpoint("http://auth:50051")
                .unwrap()
                .uri()
                .to_string()
                .starts_with("https://")
        );
        let half = from(&[("GRPC_CA_CERT", &ca), ("GRPC_CLIENT_CERT", &cert)]).unwrap_err();
        assert_eq!(half.name, "GRPC_CLIENT_KEY");
        let no_ca = from(&[("GRPC_CLIENT_CERT", &cert), ("GRPC_CLIENT_KEY", &key)]).unwrap_err();
        assert_eq!(no_ca.name, "GRPC_CA_CERT");
        let missing = from(&[("GRPC_CA_CERT", "/nonexistent/ca.pem")]).unwrap_err();
        assert_eq!(missing.name, "GRPC_CA_CERT");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
