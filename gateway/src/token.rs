//! Access-token verification. The gateway holds only the auth service's
//! public keys (fetched over gRPC, by `kid`), so it can check tokens but
//! never mint one. A token names its key; an unknown `kid` makes the
//! verifier fetch the keys again (at most once per [`REFETCH_EVERY`]), which
//! is how a rotated signing key reaches every node without a restart. The
//! audience must be the auth service's, and a token of an ended session is
//! refused ([`Revocations`]).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use chat_proto::auth::v1::{GetPublicKeysRequest, PublicKeys};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::clients::Clients;
use crate::error::Error;
use crate::revocations::Revocations;

/// Bounds how often a token with an unknown `kid` can make this node ask
/// the auth service for its keys (forged `kid`s cost nothing more).
const REFETCH_EVERY: Duration = Duration::from_secs(1);
/// Clock skew tolerated between the auth service and this node.
pub const LEEWAY_SECS: u64 = 5;

/// The claims the auth service puts in an access token.
#[derive(Debug, Clone, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    pub username: String,
    /// Session id.
    pub sid: String,
    pub exp: u64,
}

struct Keys {
    by_kid: HashMap<String, DecodingKey>,
    validation: Validation,
}

#[derive(Default)]
struct Inner {
    keys: RwLock<Option<Arc<Keys>>>,
    clients: OnceLock<Clients>,
    /// When the keys were last fetched; held across a refetch so that
    /// tokens naming the same new `kid` wait for one fetch.
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
    access_ttl: RwLock<Duration>,
}

/// Verifies access tokens once the public keys are known.
#[derive(Clone, Default)]
pub struct Verifier {
    inner: Arc<Inner>,
    pub revocations: Revocations,
}

fn unauthorized() -> Error {
    Error::Unauthorized("Authentication error".into())
}

impl Verifier {
    /// Fetches the public keys, retrying with backoff until the auth
    /// service answers (it may start after the gateway).
    pub async fn load(&self, clients: &Clients) -> Result<(), Error> {
        let _ = self.inner.clients.set(clients.clone());
        let fetch = || async {
            let mut auth = clients.auth.clone();
            auth.get_public_keys(GetPublicKeysRequest {})
                .await
                .map(tonic::Response::into_inner)
        };
        let keys = fetch
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(Duration::from_millis(50))
                    .with_max_delay(Duration::from_secs(2))
                    .with_max_times(usize::MAX),
            )
            .notify(|e, d| tracing::warn!(error = %e, retry_in = ?d, "auth public keys not available yet"))
            .await
            .map_err(Error::from)?;
        *self.inner.last_fetch.lock().await = Some(Instant::now());
        self.set_keys(&keys)
    }

    pub fn set_keys(&self, keys: &PublicKeys) -> Result<(), Error> {
        let mut by_kid = HashMap::new();
        let mut issuer = None;
        for k in &keys.keys {
            let decoding = DecodingKey::from_ed_pem(k.public_key_pem.as_bytes()).map_err(|e| {
                Error::Internal(format!("auth service sent an unusable public key: {e}"))
            })?;
            by_kid.insert(k.key_id.clone(), decoding);
            issuer.get_or_insert_with(|| k.issuer.clone());
        }
        let issuer =
            issuer.ok_or_else(|| Error::Internal("auth service sent no public key".into()))?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[&keys.audience]);
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        validation.leeway = LEEWAY_SECS;
        let ttl = Duration::from_secs(keys.access_token_ttl_secs.saturating_add(LEEWAY_SECS));
        *self
            .inner
            .access_ttl
            .write()
            .unwrap_or_else(|p| p.into_inner()) = ttl;
        self.revocations.set_keep(ttl);
        *self.inner.keys.write().unwrap_or_else(|p| p.into_inner()) =
            Some(Arc::new(Keys { by_kid, validation }));
        Ok(())
    }

    /// The access-token lifetime (plus leeway) announced by the auth service.
    pub fn access_ttl(&self) -> Duration {
        *self
            .inner
            .access_ttl
            .read()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the public keys have been fetched, i.e. tokens can be checked.
    pub fn is_ready(&self) -> bool {
        self.keys().is_some()
    }

    fn keys(&self) -> Option<Arc<Keys>> {
        self.inner
            .keys
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Asks the auth service for its keys again, for a token naming `kid`.
    /// Fetches are at least [`REFETCH_EVERY`] apart and single-flight: a
    /// flood of tokens naming made-up kids costs the auth service at most
    /// one call per interval, while a real new key (a rotation) is learnt
    /// within that interval instead of being refused. Whether `kid` is known
    /// afterwards.
    async fn refetch(&self, kid: &str) -> bool {
        let knows = |v: &Self| v.keys().is_some_and(|k| k.by_kid.contains_key(kid));
        let arrived = Instant::now();
        let mut last = self.inner.last_fetch.lock().await;
        // A fetch made while this one waited for the lock answers it too.
        if knows(self) || last.is_some_and(|t| t >= arrived) {
            return knows(self);
        }
        if let Some(t) = *last {
            let wait = REFETCH_EVERY.saturating_sub(t.elapsed());
            tokio::time::sleep(wait).await;
        }
        *last = Some(Instant::now());
        let Some(clients) = self.inner.clients.get() else {
            return false;
        };
        match clients
            .auth
            .clone()
            .get_public_keys(GetPublicKeysRequest {})
            .await
        {
            Ok(res) => {
                let keys = res.into_inner();
                tracing::info!(keys = keys.keys.len(), "auth public keys refetched");
                self.set_keys(&keys).is_ok() && knows(self)
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not refetch the auth public keys");
                false
            }
        }
    }

    /// The claims of a valid token of a live session. `Unauthorized` for a
    /// bad, expired or ended one; `Unavailable` while no key is known yet.
    pub async fn verify(&self, token: &str) -> Result<Claims, Error> {
        let kid = jsonwebtoken::decode_header(token)
            .map_err(|_| unauthorized())?
            .kid
            .ok_or_else(unauthorized)?;
        let known = self.keys().is_some_and(|k| k.by_kid.contains_key(&kid));
        if !known {
            self.refetch(&kid).await;
        }
        let keys = self.keys().ok_or_else(|| {
            Error::Unavailable("The gateway is still starting; please try again shortly".into())
        })?;
        let key = keys.by_kid.get(&kid).ok_or_else(unauthorized)?;
        let claims = jsonwebtoken::decode::<Claims>(token, key, &keys.validation)
            .map(|d| d.claims)
            .map_err(|_| unauthorized())?;
        if self.revocations.is_ended(&claims.sid) {
            return Err(unauthorized());
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::revocations::Ending;
    use chat_auth::signing_key::{KeyMaterial, generate};
    use chat_auth::tokens::TokenIssuer;
    use chat_proto::auth::v1::PublicKey;

    fn issuer(audience: &str) -> TokenIssuer {
        let key = KeyMaterial::from_record(&generate(0).unwrap()).unwrap();
        TokenIssuer::new(
            vec![key],
            "chat".into(),
            audience.into(),
            Duration::from_secs(900),
        )
        .unwrap()
    }

    fn public(t: &TokenIssuer) -> PublicKeys {
        PublicKeys {
            keys: t
                .keys()
                .iter()
                .map(|k| PublicKey {
                    algorithm: "EdDSA".into(),
                    public_key_pem: k.public_key_pem.clone(),
                    key_id: k.key_id.clone(),
                    issuer: "chat".into(),
                })
                .collect(),
            access_token_ttl_secs: 900,
            audience: "chat".into(),
        }
    }

    fn token(t: &TokenIssuer, sid: &str) -> String {
        let now = chat_common::time::now_millis() / 1000;
        t.sign(&t.claims_for("u1", "alice", sid, now)).unwrap()
    }

    #[tokio::test]
    async fn an_ended_session_is_refused_and_others_are_not() {
        let t = issuer("chat");
        let v = Verifier::default();
        v.set_keys(&public(&t)).unwrap();
        let (a, b) = (token(&t, "s-a"), token(&t, "s-b"));
        assert_eq!(v.verify(&a).await.unwrap().sid, "s-a");
        v.revocations.record(&[Ending {
            session_id: "s-a".into(),
            user_id: "u1".into(),
            reason: "logout".into(),
            ended_at_ms: 0,
        }]);
        assert!(matches!(v.verify(&a).await, Err(Error::Unauthorized(_))));
        assert_eq!(v.verify(&b).await.unwrap().sid, "s-b");
    }

    #[tokio::test]
    async fn wrong_audience_and_unknown_keys_are_refused() {
        let v = Verifier::default();
        let t = issuer("chat");
        assert!(matches!(
            v.verify(&token(&t, "s")).await,
            Err(Error::Unavailable(_))
        ));
        v.set_keys(&public(&t)).unwrap();
        let other_app = issuer("other-app");
        let mut keys = public(&t);
        keys.keys.extend(public(&other_app).keys);
        v.set_keys(&keys).unwrap();
        // Signed by a known key, but meant for another audience.
        assert!(v.verify(&token(&other_app, "s")).await.is_err());
        // A key this node was never told of.
        let stranger = issuer("chat");
        assert!(v.verify(&token(&stranger, "s")).await.is_err());
        assert!(v.verify("not a jwt").await.is_err());
        assert!(v.verify(&token(&t, "s")).await.is_ok());
    }
}
