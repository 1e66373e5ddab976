//! Access tokens (EdDSA JWTs) and refresh tokens (opaque random strings
//! stored only as their SHA-256, so a leaked database cannot mint sessions).

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
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
}

pub struct TokenIssuer {
    key: KeyMaterial,
    issuer: String,
    access_ttl: Duration,
}

impl TokenIssuer {
    pub fn new(key: KeyMaterial, issuer: String, access_ttl: Duration) -> TokenIssuer {
        TokenIssuer {
            key,
            issuer,
            access_ttl,
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn key(&self) -> &KeyMaterial {
        &self.key
    }

    /// Claims for a token issued at `now_secs` (Unix seconds).
    pub fn claims_for(&self, user_id: &str, username: &str, now_secs: i64) -> Claims {
        let ttl = i64::try_from(self.access_ttl.as_secs()).unwrap_or(i64::MAX);
        Claims {
            sub: user_id.to_owned(),
            username: username.to_owned(),
            iat: now_secs,
            exp: now_secs.saturating_add(ttl),
            iss: self.issuer.clone(),
        }
    }

    pub fn sign(&self, claims: &Claims) -> Result<String, Error> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.key.key_id.clone());
        Ok(jsonwebtoken::encode(&header, claims, &self.key.encoding)?)
    }

    /// Checks signature, issuer and expiry (no leeway).
    pub fn verify(&self, token: &str) -> Result<Claims, Error> {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        validation.leeway = 0;
        Ok(jsonwebtoken::decode::<Claims>(token, &self.key.decoding, &validation)?.claims)
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
        TokenIssuer::new(key, "chat".into(), Duration::from_secs(900))
    }

    fn now() -> i64 {
        chat_common::time::now_millis() / 1000
    }

    #[test]
    fn round_trip_and_header() {
        let t = issuer();
        let claims = t.claims_for("0190-user", "Alice", now());
        assert_eq!(claims.exp - claims.iat, 900);
        let jwt = t.sign(&claims).unwrap();
        assert_eq!(t.verify(&jwt).unwrap(), claims);
        let header = jsonwebtoken::decode_header(&jwt).unwrap();
        assert_eq!(header.alg, Algorithm::EdDSA);
        assert_eq!(header.kid.as_deref(), Some(t.key().key_id.as_str()));
    }

    #[test]
    fn verifies_with_only_the_public_pem() {
        let t = issuer();
        let jwt = t.sign(&t.claims_for("u1", "bob", now())).unwrap();
        // What an outside verifier does with GetPublicKey's answer.
        let key = DecodingKey::from_ed_pem(t.key().public_key_pem.as_bytes()).unwrap();
        let mut v = Validation::new(Algorithm::EdDSA);
        v.set_issuer(&["chat"]);
        let data = jsonwebtoken::decode::<Claims>(&jwt, &key, &v).unwrap();
        assert_eq!(data.claims.sub, "u1");
        assert_eq!(data.claims.username, "bob");
    }

    #[test]
    fn rejects_expired_foreign_and_wrong_issuer() {
        let t = issuer();
        let mut claims = t.claims_for("u1", "bob", now() - 1000);
        assert!(claims.exp < now());
        let expired = t.sign(&claims).unwrap();
        let err = t.verify(&expired).unwrap_err();
        assert!(
            matches!(&err, Error::Token(e) if *e.kind() == jsonwebtoken::errors::ErrorKind::ExpiredSignature),
            "{err}"
        );

        let other = issuer();
        let foreign = other.sign(&other.claims_for("u1", "bob", now())).unwrap();
        assert!(t.verify(&foreign).is_err());

        claims = t.claims_for("u1", "bob", now());
        claims.iss = "someone-else".into();
        assert!(t.verify(&t.sign(&claims).unwrap()).is_err());
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
