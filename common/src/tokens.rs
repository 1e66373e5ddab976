//! Access-token verification, shared by the gateway and the three services
//! (one rule, one place). A verifier holds only the auth service's public
//! keys, so it can check tokens but never mint one. A token names its key;
//! an unknown `kid` makes the verifier fetch the keys again (at most once per
//! [`REFETCH_EVERY`]), which is how a rotated signing key reaches every
//! process without a restart. The audience must be the auth service's, and
//! a token of an ended session is refused ([`Revocations`]).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use chat_proto::auth::v1::auth_service_client::AuthServiceClient;
use chat_proto::auth::v1::{
    EndedSessions, GetPublicKeysRequest, ListEndedSessionsRequest, PublicKeys,
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

mod ed_keys;
mod verified;

use crate::channel::{GrpcChannel, over_network};
use crate::revocations::Revocations;
use crate::time::millis_to_timestamp;

/// Bounds how often a token with an unknown `kid` can make this process ask
/// the auth service for its keys (forged `kid`s cost nothing more).
const REFETCH_EVERY: Duration = Duration::from_secs(1);
/// Clock skew tolerated between the auth service and this process.
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

/// Where the public keys and the ended sessions come from: the auth
/// service over gRPC (gateway, message, media), or the auth service's own
/// key set and store (the auth service itself).
#[async_trait::async_trait]
pub trait Authority: Send + Sync + 'static {
    async fn public_keys(&self) -> Result<PublicKeys, tonic::Status>;
    /// Sessions ended at or after `since_ms`, oldest first.
    async fn ended_since(&self, since_ms: i64) -> Result<EndedSessions, tonic::Status>;
}

#[async_trait::async_trait]
impl Authority for AuthServiceClient<GrpcChannel> {
    async fn public_keys(&self) -> Result<PublicKeys, tonic::Status> {
        let mut auth = self.clone();
        Ok(auth
            .get_public_keys(GetPublicKeysRequest {})
            .await?
            .into_inner())
    }

    async fn ended_since(&self, since_ms: i64) -> Result<EndedSessions, tonic::Status> {
        let mut auth = self.clone();
        let req = ListEndedSessionsRequest {
            since: Some(millis_to_timestamp(since_ms)),
        };
        Ok(auth.list_ended_sessions(req).await?.into_inner())
    }
}

/// Why a token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Bad signature, unknown key, wrong audience or issuer, expired, or
    /// its session ended.
    #[error("invalid or expired access token")]
    Invalid,
    /// No public key is known yet (the auth service has not answered).
    #[error("the auth service's public keys are not known yet")]
    NotReady,
}

struct Keys {
    by_kid: HashMap<String, DecodingKey>,
    validation: Validation,
    /// Tokens that passed under these keys.
    verified: verified::Verified,
}

#[derive(Default)]
struct Inner {
    keys: RwLock<Option<Arc<Keys>>>,
    authority: OnceLock<Arc<dyn Authority>>,
    /// When the keys were last fetched; held across a refetch so that
    /// tokens naming the same new `kid` wait for one fetch.
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
    access_ttl: RwLock<Duration>,
}

/// Verifies access tokens once the public keys are known. Cheap to clone.
#[derive(Clone, Default)]
pub struct Verifier {
    inner: Arc<Inner>,
    pub revocations: Revocations,
}

impl Verifier {
    /// The authority asked on an unknown `kid` and by [`crate::session_sync`].
    pub fn authority(&self) -> Option<Arc<dyn Authority>> {
        self.inner.authority.get().cloned()
    }

    /// Fetches the public keys, retrying with backoff until the authority
    /// answers (the auth service may start after its callers).
    pub async fn load(&self, authority: Arc<dyn Authority>) -> Result<(), String> {
        let _ = self.inner.authority.set(authority.clone());
        let fetch = || async { authority.public_keys().await };
        let keys = fetch
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(Duration::from_millis(50))
                    .with_max_delay(Duration::from_secs(2))
                    .with_max_times(usize::MAX),
            )
            .notify(|e, d| tracing::warn!(error = %e, retry_in = ?d, "auth public keys not available yet"))
            .await
            .map_err(|e| e.to_string())?;
        *self.inner.last_fetch.lock().await = Some(Instant::now());
        self.set_keys(&keys)
    }

    pub fn set_keys(&self, keys: &PublicKeys) -> Result<(), String> {
        ed_keys::install();
        let mut by_kid = HashMap::new();
        let mut issuer = None;
        for k in &keys.keys {
            let decoding = DecodingKey::from_ed_pem(k.public_key_pem.as_bytes())
                .map_err(|e| format!("auth service sent an unusable public key: {e}"))?;
            by_kid.insert(k.key_id.clone(), decoding);
            issuer.get_or_insert_with(|| k.issuer.clone());
        }
        let issuer = issuer.ok_or("auth service sent no public key")?;
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
        *self.inner.keys.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(Keys {
            by_kid,
            validation,
            verified: verified::Verified::default(),
        }));
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

    /// Asks the authority for its keys again, for a token naming `kid`.
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
        let Some(authority) = self.authority() else {
            return false;
        };
        match authority.public_keys().await {
            Ok(keys) => {
                tracing::info!(keys = keys.keys.len(), "auth public keys refetched");
                self.set_keys(&keys).is_ok() && knows(self)
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not refetch the auth public keys");
                false
            }
        }
    }

    /// The claims of a valid token of a live session.
    pub async fn verify(&self, token: &str) -> Result<Claims, Refused> {
        let now = jsonwebtoken::get_current_timestamp();
        let seen = self.keys().and_then(|k| k.verified.get(token, now));
        let claims = match seen {
            Some(claims) => claims,
            None => self.check_signed(token).await?,
        };
        if self.revocations.is_ended(&claims.sid) {
            return Err(Refused::Invalid);
        }
        Ok(claims)
    }

    /// The claims of a token signed by a known key, for this audience and
    /// issuer, not expired; remembered for the next time it is presented.
    async fn check_signed(&self, token: &str) -> Result<Claims, Refused> {
        let kid = jsonwebtoken::decode_header(token)
            .map_err(|_| Refused::Invalid)?
            .kid
            .ok_or(Refused::Invalid)?;
        let known = self.keys().is_some_and(|k| k.by_kid.contains_key(&kid));
        if !known {
            self.refetch(&kid).await;
        }
        let keys = self.keys().ok_or(Refused::NotReady)?;
        let key = keys.by_kid.get(&kid).ok_or(Refused::Invalid)?;
        let claims = jsonwebtoken::decode::<Claims>(token, key, &keys.validation)
            .map(|d| d.claims)
            .map_err(|_| Refused::Invalid)?;
        keys.verified.put(token, &claims);
        Ok(claims)
    }
}

/// A verifier fed by `authority`: the keys are fetched in the background
/// (retrying until the auth service answers, which may start later), then
/// the ended-session catch-up runs for the life of the process. Until the
/// keys are in, tokens are answered `UNAVAILABLE`, never accepted.
pub fn follow(authority: Arc<dyn Authority>) -> Verifier {
    ed_keys::install();
    let verifier = Verifier::default();
    let v = verifier.clone();
    tokio::spawn(async move {
        match v.load(authority).await {
            Ok(()) => crate::session_sync::spawn(v),
            Err(e) => tracing::error!(error = %e, "could not load the auth public keys"),
        }
    });
    verifier
}

/// [`follow`] over the auth service at `url`, called as the platform with
/// `credentials`' client certificate when there is one.
pub fn follow_auth_service(
    url: &str,
    credentials: &crate::credentials::Credentials,
) -> Result<Verifier, String> {
    let timeout = Duration::from_secs(5);
    let channel = credentials
        .endpoint(url)?
        .connect_timeout(timeout)
        .timeout(timeout)
        .connect_lazy();
    Ok(follow(Arc::new(AuthServiceClient::new(over_network(
        channel,
    )))))
}
