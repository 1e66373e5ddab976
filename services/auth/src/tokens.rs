//! Access tokens (EdDSA JWTs) and refresh tokens (opaque random strings
//! stored only as their SHA-256, so a leaked database cannot mint sessions).

use std::sync::{Arc, RwLock};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::signing_key::KeyMaterial;

pub const ALGORITHM_NAME: &str = "EdDSA";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    pub username: String,
    /// The session id.
    pub sid: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
}

/// The live keys, current (the one that signs) first.
pub type KeyRing = Arc<Vec<KeyMaterial>>;

pub struct TokenIssuer {
    keys: RwLock<KeyRing>,
    issuer: String,
    audience: String,
    access_ttl: Duration,
}

impl TokenIssuer {
    /// `keys` must hold at least the current key.
    pub fn new(
        keys: Vec<KeyMaterial>,
        issuer: String,
        audience: String,
        access_ttl: Duration,
    ) -> Result<TokenIssuer, Error> {
        if keys.is_empty() {
            return Err(Error::Key("no signing key".into()));
        }
        Ok(TokenIssuer {
            keys: RwLock::new(Arc::new(keys)),
            issuer,
            audience,
            access_ttl,
        })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn audience(&self) -> &str {
        &self.audience
    }

    pub fn access_ttl(&self) -> Duration {
        self.access_ttl
    }

    /// The live keys, current first.
    pub fn keys(&self) -> KeyRing {
        self.keys.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Swaps in a new key ring (after a rotation, here or by another replica).
    pub fn set_keys(&self, keys: Vec<KeyMaterial>) -> Result<(), Error> {
        if keys.is_empty() {
            return Err(Error::Key("no signing key".into()));
        }
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(keys);
        Ok(())
    }

    /// Claims for a token of session `sid` issued at `now_secs` (Unix seconds).
    pub fn claims_for(&self, user_id: &str, username: &str, sid: &str, now_secs: i64) -> Claims {
        let ttl = i64::try_from(self.access_ttl.as_secs()).unwrap_or(i64::MAX);
        Claims {
            sub: user_id.to_owned(),
            username: username.to_owned(),
            sid: sid.to_owned(),
            aud: self.audience.clone(),
            iat: now_secs,
            exp: now_secs.saturating_add(ttl),
            iss: self.issuer.clone(),
        }
    }

    /// Signs with the current key, naming it in the `kid` header.
    pub fn sign(&self, claims: &Claims) -> Result<String, Error> {
        let keys = self.keys();
        let key = keys
            .first()
            .ok_or_else(|| Error::Key("no signing key".into()))?;
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(key.key_id.clone());
        Ok(jsonwebtoken::encode(&header, claims, &key.encoding)?)
    }

    /// Checks the key named by `kid`, signature, issuer, audience and expiry
    /// (no leeway).
    pub fn verify(&self, token: &str) -> Result<Claims, Error> {
        let kid = jsonwebtoken::decode_header(token)?.kid;
        let keys = self.keys();
        let key = keys
            .iter()
            .find(|k| Some(&k.key_id) == kid.as_ref())
            .ok_or_else(|| Error::Key("token names no live key".into()))?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        validation.leeway = 0;
        Ok(jsonwebtoken::decode::<Claims>(token, &key.decoding, &validation)?.claims)
    }
}

/// A new refresh token and the hash under which it is stored.
pub fn new_refresh_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_refresh_token(&token);
    (token, hash)
}

pub fn hash_refresh_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing_key::{KeyMaterial, generate};
    use jsonwebtoken::DecodingKey;

    fn issuer() -> TokenIssuer {
        let key = KeyMaterial::from_record(&generate(0).unwrap()).unwrap();
        TokenIssuer::new(
            vec![key],
            "chat".into(),
            "chat".into(),
            Duration::from_secs(900),
        )
        .unwrap()
    }

    fn now() -> i64 {
        chat_common::time::now_millis() / 1000
    }

    #[test]
    fn round_trip_and_header() {
        let t = issuer();
        let claims = t.claims_for("0190-user", "Alice", "s1", now());
        assert_eq!(claims.exp - claims.iat, 900);
        let jwt = t.sign(&claims).unwrap();
        assert_eq!(t.verify(&jwt).unwrap(), claims);
        let header = jsonwebtoken::decode_header(&jwt).unwrap();
        assert_eq!(header.alg, Algorithm::EdDSA);
        assert_eq!(header.kid.as_deref(), Some(t.keys()[0].key_id.as_str()));
        assert_eq!(claims.sid, "s1");
        assert_eq!(claims.aud, "chat");
    }

    #[test]
    fn verifies_with_only_the_public_pem() {
        let t = issuer();
        let jwt = t.sign(&t.claims_for("u1", "bob", "s1", now())).unwrap();
        // What an outside verifier does with GetPublicKey's answer.
        let key = DecodingKey::from_ed_pem(t.keys()[0].public_key_pem.as_bytes()).unwrap();
        let mut v = Validation::new(Algorithm::EdDSA);
        v.set_issuer(&["chat"]);
        v.set_audience(&["chat"]);
        let data = jsonwebtoken::decode::<Claims>(&jwt, &key, &v).unwrap();
        assert_eq!(data.claims.sub, "u1");
        assert_eq!(data.claims.username, "bob");
    }

    #[test]
    fn rejects_expired_foreign_and_wrong_issuer() {
        let t = issuer();
        let mut claims = t.claims_for("u1", "bob", "s1", now() - 1000);
        assert!(claims.exp < now());
        let expired = t.sign(&claims).unwrap();
        let err = t.verify(&expired).unwrap_err();
        assert!(
            matches!(&err, Error::Token(e) if *e.kind() == jsonwebtoken::errors::ErrorKind::ExpiredSignature),
            "{err}"
        );

        let other = issuer();
        let foreign = other
            .sign(&other.claims_for("u1", "bob", "s1", now()))
            .unwrap();
        assert!(t.verify(&foreign).is_err());

        claims = t.claims_for("u1", "bob", "s1", now());
        claims.iss = "someone-else".into();
        assert!(t.verify(&t.sign(&claims).unwrap()).is_err());

        claims = t.claims_for("u1", "bob", "s1", now());
        claims.aud = "another-app".into();
        assert!(t.verify(&t.sign(&claims).unwrap()).is_err());
    }

    #[test]
    fn rotated_keys_sign_new_and_verify_old() {
        let t = issuer();
        let old = t.sign(&t.claims_for("u1", "bob", "s1", now())).unwrap();
        let next = KeyMaterial::from_record(&generate(1).unwrap()).unwrap();
        let next_id = next.key_id.clone();
        let mut ring: Vec<KeyMaterial> = vec![next];
        ring.push(KeyMaterial::from_record(&generate(2).unwrap()).unwrap());
        // A ring without the old key refuses its tokens…
        t.set_keys(ring).unwrap();
        assert!(t.verify(&old).is_err());
        let fresh = t.sign(&t.claims_for("u1", "bob", "s1", now())).unwrap();
        let header = jsonwebtoken::decode_header(&fresh).unwrap();
        assert_eq!(header.kid.as_deref(), Some(next_id.as_str()));
        assert!(t.verify(&fresh).is_ok());
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let (a, ha) = new_refresh_token();
        let (b, _) = new_refresh_token();
        assert_ne!(a, b);
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
        assert_eq!(ha, hash_refresh_token(&a));
        assert_eq!(ha.len(), 64);
        assert_ne!(ha, a);
    }
}
