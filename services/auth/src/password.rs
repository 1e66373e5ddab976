//! Argon2id password hashing with the OWASP-recommended parameters
//! (m = 19456 KiB, t = 2, p = 1). The work is CPU-bound by design, so it runs
//! on the blocking pool rather than stalling the async workers.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::Error;

fn argon2() -> Result<Argon2<'static>, Error> {
    let params = Params::new(19_456, 2, 1, None).map_err(|e| Error::PasswordHash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_blocking(password: &str) -> Result<String, Error> {
    let salt = SaltString::generate(&mut OsRng);
    let hash = argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| Error::PasswordHash(e.to_string()))?;
    Ok(hash.to_string())
}

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
pub async fn hash(password: String) -> Result<String, Error> {
    tokio::task::spawn_blocking(move || hash_blocking(&password)).await?
}

/// `Ok(false)` on a mismatch; `Err` only when the stored hash is unreadable.
pub async fn verify(password: String, phc: String) -> Result<bool, Error> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&phc).map_err(|e| Error::Corrupt(e.to_string()))?;
        match argon2()?.verify_password(password.as_bytes(), &parsed) {
            Ok(()) => Ok(true),
            Err(argon2::password_hash::Error::Password) => Ok(false),
            Err(e) => Err(Error::PasswordHash(e.to_string())),
        }
    })
    .await?
}

/// A hash of a random password nobody knows. Logins for unknown users verify
/// against it, so they cost as much as real ones and timing reveals nothing
/// about which names exist.
pub async fn dummy_hash() -> Result<String, Error> {
    use rand::Rng;
    let secret: [u8; 16] = rand::rngs::OsRng.r#gen();
    hash(hex::encode(secret)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_with_owasp_parameters_and_verifies() {
        let phc = hash("correct horse".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse".into(), phc.clone()).await.unwrap());
        assert!(!verify("wrong horse".into(), phc.clone()).await.unwrap());
        // Salted: the same password hashes differently each time.
        assert_ne!(phc, hash("correct horse".into()).await.unwrap());
    }

    #[tokio::test]
    async fn unreadable_hash_is_an_error_not_a_mismatch() {
        assert!(verify("x".into(), "not a hash".into()).await.is_err());
    }
}
