//! Ed25519 verifying keys kept decompressed. jsonwebtoken's RustCrypto
//! provider builds the verifying key from the public key's 32 bytes for
//! every token it checks, and building it decompresses a curve point:
//! about 40k instructions of a 560k-instruction handshake with a new token
//! (bench/README.md § Handshake cost). A process checks tokens against one
//! or two public keys for its whole life, so the provider installed here
//! (jsonwebtoken's own extension point, `CryptoProvider`) keeps the keys it
//! built; every other algorithm, and signing, is the crate's RustCrypto
//! provider unchanged. The signature check itself is ed25519-dalek's, as
//! the crate would call it.

use std::sync::{LazyLock, Mutex, PoisonError};

use ed25519_dalek::{Signature, VerifyingKey};
use jsonwebtoken::crypto::{CryptoProvider, JwtVerifier, rust_crypto};
use jsonwebtoken::errors::{ErrorKind, Result};
use jsonwebtoken::signature;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};

/// Keys a process has verified with; more than this (rotations without a
/// restart) drops the oldest.
const KEPT: usize = 8;

static PROVIDER: LazyLock<CryptoProvider> = LazyLock::new(|| CryptoProvider {
    verifier_factory: verifier,
    ..rust_crypto::DEFAULT_PROVIDER.clone()
});

static KEYS: Mutex<Vec<([u8; 32], VerifyingKey)>> = Mutex::new(Vec::new());

/// Makes this the process's provider, unless jsonwebtoken already chose
/// one (it does at its first use): then keys are built per check, as
/// before, which is slower but as correct.
pub fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if PROVIDER.install_default().is_err() {
            tracing::debug!("jsonwebtoken's provider was chosen before ours: no key cache");
        }
    });
}

fn verifier(alg: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    if *alg != Algorithm::EdDSA || key.family() != AlgorithmFamily::Ed {
        return (rust_crypto::DEFAULT_PROVIDER.verifier_factory)(alg, key);
    }
    let bytes: [u8; 32] = key
        .as_bytes()
        .get(..32)
        .and_then(|b| b.try_into().ok())
        .ok_or(ErrorKind::InvalidEddsaKey)?;
    Ok(Box::new(Ed25519(verifying_key(bytes)?)))
}

fn verifying_key(bytes: [u8; 32]) -> Result<VerifyingKey> {
    let mut keys = KEYS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, key)) = keys.iter().find(|(b, _)| *b == bytes) {
        return Ok(*key);
    }
    let key = VerifyingKey::from_bytes(&bytes).map_err(|_| ErrorKind::InvalidEddsaKey)?;
    if keys.len() == KEPT {
        keys.remove(0);
    }
    keys.push((bytes, key));
    Ok(key)
}

struct Ed25519(VerifyingKey);

impl signature::Verifier<Vec<u8>> for Ed25519 {
    fn verify(&self, msg: &[u8], sig: &Vec<u8>) -> std::result::Result<(), signature::Error> {
        self.0.verify(msg, &Signature::from_slice(sig)?)
    }
}

impl JwtVerifier for Ed25519 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::EdDSA
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::pkcs8::{EncodePublicKey, spki::der::pem::LineEnding};
    use ed25519_dalek::{Signer, SigningKey};

    fn key_pair(seed: u8) -> (SigningKey, DecodingKey) {
        let signing = SigningKey::from_bytes(&[seed; 32]);
        let pem = signing
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap();
        (signing, DecodingKey::from_ed_pem(pem.as_bytes()).unwrap())
    }

    #[test]
    fn checks_signatures_as_the_crates_provider_does() {
        let (signing, decoding) = key_pair(1);
        let (_, other) = key_pair(2);
        let msg = b"header.claims".to_vec();
        let sig = signing.sign(&msg).to_bytes().to_vec();
        let ours = verifier(&Algorithm::EdDSA, &decoding).unwrap();
        let theirs =
            (rust_crypto::DEFAULT_PROVIDER.verifier_factory)(&Algorithm::EdDSA, &decoding).unwrap();
        assert!(ours.verify(&msg, &sig).is_ok());
        assert!(theirs.verify(&msg, &sig).is_ok());
        let mut tampered = sig.clone();
        tampered[0] ^= 1;
        assert!(ours.verify(&msg, &tampered).is_err());
        assert!(ours.verify(b"header.other", &sig).is_err());
        assert!(ours.verify(&msg, &sig[..63].to_vec()).is_err());
        let wrong_key = verifier(&Algorithm::EdDSA, &other).unwrap();
        assert!(wrong_key.verify(&msg, &sig).is_err());
    }

    #[test]
    fn other_algorithms_and_keys_go_to_the_crates_provider() {
        let (_, ed) = key_pair(3);
        let hmac = DecodingKey::from_secret(b"secret");
        // An HMAC key offered for EdDSA is refused, as the crate refuses it.
        assert!(verifier(&Algorithm::EdDSA, &hmac).is_err());
        assert!(verifier(&Algorithm::HS256, &hmac).is_ok());
        assert!(verifier(&Algorithm::HS256, &ed).is_err());
    }

    #[test]
    fn keeps_each_key_once_and_the_latest_few() {
        let (_, decoding) = key_pair(4);
        let bytes: [u8; 32] = decoding.as_bytes()[..32].try_into().unwrap();
        verifier(&Algorithm::EdDSA, &decoding).unwrap();
        verifier(&Algorithm::EdDSA, &decoding).unwrap();
        let count = |b: [u8; 32]| KEYS.lock().unwrap().iter().filter(|(k, _)| *k == b).count();
        assert_eq!(count(bytes), 1);
        for seed in 10..10 + KEPT as u8 {
            verifier(&Algorithm::EdDSA, &key_pair(seed).1).unwrap();
        }
        assert_eq!(count(bytes), 0, "the oldest key was dropped");
        assert!(KEYS.lock().unwrap().len() <= KEPT);
    }
}
