//! The Ed25519 key pair that signs access tokens: generated once, kept as
//! PKCS#8 PEM in the store, and turned into `jsonwebtoken` keys plus the SPKI
//! PEM that verifiers fetch through `GetPublicKey`.

use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use jsonwebtoken::{DecodingKey, EncodingKey};
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::store::SigningKeyRecord;

/// A fresh key pair, offered to the store as the candidate signing key.
pub fn generate(now_ms: i64) -> Result<SigningKeyRecord, Error> {
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| Error::Key(e.to_string()))?;
    Ok(SigningKeyRecord {
        key_id: key_id(&key),
        private_key_pem: pem.to_string(),
        created_at_ms: now_ms,
    })
}

/// Derived from the public key, so every replica names the same key alike.
fn key_id(key: &SigningKey) -> String {
    let digest = Sha256::digest(key.verifying_key().as_bytes());
    hex::encode(&digest[..8])
}

/// Everything needed to sign and verify with one stored key.
pub struct KeyMaterial {
    pub key_id: String,
    pub public_key_pem: String,
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
}

impl KeyMaterial {
    pub fn from_record(record: &SigningKeyRecord) -> Result<KeyMaterial, Error> {
        let key = SigningKey::from_pkcs8_pem(&record.private_key_pem)
            .map_err(|e| Error::Key(format!("stored private key is unreadable: {e}")))?;
        let public_key_pem = key
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| Error::Key(e.to_string()))?;
        Ok(KeyMaterial {
            key_id: record.key_id.clone(),
            encoding: EncodingKey::from_ed_pem(record.private_key_pem.as_bytes())?,
            decoding: DecodingKey::from_ed_pem(public_key_pem.as_bytes())?,
            public_key_pem,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_load_and_differ() {
        let a = generate(1).unwrap();
        let b = generate(1).unwrap();
        assert_ne!(a.key_id, b.key_id);
        assert!(a.private_key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let m = KeyMaterial::from_record(&a).unwrap();
        assert_eq!(m.key_id, a.key_id);
        assert!(m.public_key_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    }

    #[test]
    fn garbage_pem_is_an_error() {
        let bad = SigningKeyRecord {
            key_id: "k".into(),
            private_key_pem: "nope".into(),
            created_at_ms: 0,
        };
        assert!(KeyMaterial::from_record(&bad).is_err());
    }
}
