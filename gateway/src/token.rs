//! Access-token verification. The gateway holds only the auth service's
//! public key (fetched over gRPC), so it can check tokens but never mint one.

use std::sync::Arc;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use chat_proto::auth::v1::GetPublicKeyRequest;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use std::sync::RwLock;

use crate::clients::Clients;
use crate::error::Error;

/// The claims the auth service puts in an access token.
#[derive(Debug, Clone, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    pub username: String,
    pub exp: u64,
}

struct Key {
    decoding: DecodingKey,
    validation: Validation,
}

/// Verifies access tokens once the public key is known.
#[derive(Clone, Default)]
pub struct Verifier {
    key: Arc<RwLock<Option<Arc<Key>>>>,
}

impl Verifier {
    /// Fetches the public key, retrying with backoff until the auth service
    /// answers (it may start after the gateway).
    pub async fn load(&self, clients: &Clients) -> Result<(), Error> {
        let fetch = || async {
            let mut auth = clients.auth.clone();
            auth.get_public_key(GetPublicKeyRequest {})
                .await
                .map(tonic::Response::into_inner)
        };
        let pk = fetch
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(Duration::from_millis(50))
                    .with_max_delay(Duration::from_secs(2))
                    .with_max_times(usize::MAX),
            )
            .notify(|e, d| tracing::warn!(error = %e, retry_in = ?d, "auth public key not available yet"))
            .await
            .map_err(Error::from)?;
        self.set_key(&pk.public_key_pem, &pk.issuer)
    }

    pub fn set_key(&self, pem: &str, issuer: &str) -> Result<(), Error> {
        let decoding = DecodingKey::from_ed_pem(pem.as_bytes()).map_err(|e| {
            Error::Internal(format!("auth service sent an unusable public key: {e}"))
        })?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[issuer]);
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        validation.leeway = 5;
        let key = Arc::new(Key {
            decoding,
            validation,
        });
        *self.key.write().unwrap_or_else(|p| p.into_inner()) = Some(key);
        Ok(())
    }

    /// Whether the public key has been fetched, i.e. tokens can be checked.
    pub fn is_ready(&self) -> bool {
        self.key.read().unwrap_or_else(|p| p.into_inner()).is_some()
    }

    /// `Unauthorized` for a bad or expired token; `Unavailable` while the
    /// key has not been fetched yet.
    pub fn verify(&self, token: &str) -> Result<Claims, Error> {
        let key = self.key.read().unwrap_or_else(|p| p.into_inner()).clone();
        let key = key.ok_or_else(|| {
            Error::Unavailable("The gateway is still starting; please try again shortly".into())
        })?;
        jsonwebtoken::decode::<Claims>(token, &key.decoding, &key.validation)
            .map(|d| d.claims)
            .map_err(|_| Error::Unauthorized("Authentication error".into()))
    }
}
