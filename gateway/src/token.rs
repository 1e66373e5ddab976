//! Access-token verification in the gateway's terms: the one verifier
//! (`chat_common::tokens`, shared with the services) over the auth client,
//! its refusals mapped to the gateway's errors (PROTOCOL.md's
//! `Authentication error`).

use std::sync::Arc;
use std::time::Duration;

use chat_common::tokens::Refused;
use chat_proto::auth::v1::PublicKeys;

pub use chat_common::tokens::{Claims, LEEWAY_SECS};

use crate::clients::Clients;
use crate::error::Error;
use crate::revocations::Revocations;

/// Verifies access tokens once the public keys are known.
#[derive(Clone)]
pub struct Verifier {
    inner: chat_common::tokens::Verifier,
    /// The same set the inner verifier checks (shared, not copied).
    pub revocations: Revocations,
}

impl Default for Verifier {
    fn default() -> Self {
        let inner = chat_common::tokens::Verifier::default();
        Verifier {
            revocations: inner.revocations.clone(),
            inner,
        }
    }
}

impl Verifier {
    /// Fetches the public keys, retrying with backoff until the auth
    /// service answers (it may start after the gateway).
    pub async fn load(&self, clients: &Clients) -> Result<(), Error> {
        self.inner
            .load(Arc::new(clients.auth.clone()))
            .await
            .map_err(Error::Internal)
    }

    pub fn set_keys(&self, keys: &PublicKeys) -> Result<(), Error> {
        self.inner.set_keys(keys).map_err(Error::Internal)
    }

    /// The access-token lifetime (plus leeway) announced by the auth service.
    pub fn access_ttl(&self) -> Duration {
        self.inner.access_ttl()
    }

    /// Whether the public keys have been fetched, i.e. tokens can be checked.
    pub fn is_ready(&self) -> bool {
        self.inner.is_ready()
    }

    /// The verifier the session catch-up runs on.
    pub fn shared(&self) -> chat_common::tokens::Verifier {
        self.inner.clone()
    }

    /// The claims of a valid token of a live session. `Unauthorized` for a
    /// bad, expired or ended one; `Unavailable` while no key is known yet.
    pub async fn verify(&self, token: &str) -> Result<Claims, Error> {
        self.inner.verify(token).await.map_err(|e| match e {
            Refused::Invalid => Error::Unauthorized("Authentication error".into()),
            Refused::NotReady => {
                Error::Unavailable("The gateway is still starting; please try again shortly".into())
            }
        })
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

    #[tokio::test]
    async fn a_token_accepted_before_is_refused_once_its_key_is_gone() {
        let (old, new) = (issuer("chat"), issuer("chat"));
        let v = Verifier::default();
        v.set_keys(&public(&old)).unwrap();
        let a = token(&old, "s-a");
        assert!(v.verify(&a).await.is_ok());
        assert!(v.verify(&a).await.is_ok(), "presented again");
        v.set_keys(&public(&new)).unwrap();
        assert!(matches!(v.verify(&a).await, Err(Error::Unauthorized(_))));
        assert!(v.verify(&token(&new, "s-b")).await.is_ok());
    }

    #[tokio::test]
    async fn a_token_presented_again_is_checked_against_its_whole_text() {
        let t = issuer("chat");
        let v = Verifier::default();
        v.set_keys(&public(&t)).unwrap();
        let a = token(&t, "s-a");
        assert!(v.verify(&a).await.is_ok());
        // The same token with one character of its signature changed (not
        // the last, whose low bits are padding).
        let mut forged = a.clone();
        let at = forged.len() - 10;
        let other = if &forged[at..=at] == "A" { "B" } else { "A" };
        forged.replace_range(at..=at, other);
        assert!(matches!(
            v.verify(&forged).await,
            Err(Error::Unauthorized(_))
        ));
    }
}
