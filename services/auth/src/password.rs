//! Argon2id password hashing with the OWASP-recommended parameters
//! (m = 19456 KiB, t = 2, p = 1), bounded: each hash holds 19 MiB for its
//! whole run, so [`Hasher`] runs at most `HASH_CONCURRENCY` at once on the
//! blocking pool, lets `HASH_QUEUE` more wait, and refuses the rest at once
//! (PROTOCOL.md § Limits: the server never spends unbounded memory on it).

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::error::Error;

/// What a refused caller is told to wait: a hash takes tens of ms, so the
/// queue has drained long before this.
const RETRY_AFTER_SECS: u64 = 1;

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

fn verify_blocking(password: &str, phc: &str) -> Result<bool, Error> {
    let parsed = PasswordHash::new(phc).map_err(|e| Error::Corrupt(e.to_string()))?;
    match argon2()?.verify_password(password.as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::Password) => Ok(false),
        Err(e) => Err(Error::PasswordHash(e.to_string())),
    }
}

/// Admission (running + waiting) and running slots. Cheap to clone.
#[derive(Clone)]
pub struct Hasher {
    admitted: Arc<Semaphore>,
    running: Arc<Semaphore>,
}

impl Hasher {
    /// `concurrency` hashes at once (at least one), `queue` more waiting.
    pub fn new(concurrency: usize, queue: usize) -> Hasher {
        let concurrency = concurrency.max(1);
        Hasher {
            admitted: Arc::new(Semaphore::new(concurrency.saturating_add(queue))),
            running: Arc::new(Semaphore::new(concurrency)),
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let Ok(_admitted) = self.admitted.clone().try_acquire_owned() else {
            metrics_refused();
            return Err(Error::HashBusy {
                retry_after_secs: RETRY_AFTER_SECS,
            });
        };
        let _running = self
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| Error::PasswordHash(e.to_string()))?;
        tokio::task::spawn_blocking(work).await?
    }

    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
    pub async fn hash(&self, password: String) -> Result<String, Error> {
        self.run(move || hash_blocking(&password)).await
    }

    /// `Ok(false)` on a mismatch; `Err` when the stored hash is unreadable
    /// or no slot is free.
    pub async fn verify(&self, password: String, phc: String) -> Result<bool, Error> {
        self.run(move || verify_blocking(&password, &phc)).await
    }
}

fn metrics_refused() {
    tracing::warn!("password hashing saturated: refused a request");
}

/// A hash of a random password nobody knows. Logins for unknown users verify
/// against it, so they cost as much as real ones and timing reveals nothing
/// about which names exist.
pub async fn dummy_hash() -> Result<String, Error> {
    use rand::Rng;
    let secret: [u8; 16] = rand::rngs::OsRng.r#gen();
    tokio::task::spawn_blocking(move || hash_blocking(&hex::encode(secret))).await?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_with_owasp_parameters_and_verifies() {
        let h = Hasher::new(1, 0);
        let phc = h.hash("correct horse".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(h.verify("correct horse".into(), phc.clone()).await.unwrap());
        assert!(!h.verify("wrong horse".into(), phc.clone()).await.unwrap());
        // Salted: the same password hashes differently each time.
        assert_ne!(phc, h.hash("correct horse".into()).await.unwrap());
    }

    #[tokio::test]
    async fn unreadable_hash_is_an_error_not_a_mismatch() {
        let h = Hasher::new(1, 0);
        assert!(h.verify("x".into(), "not a hash".into()).await.is_err());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn refuses_past_the_slots_and_the_queue() {
        let h = Hasher::new(1, 1);
        let tasks: Vec<_> = (0..6)
            .map(|_| {
                let h = h.clone();
                tokio::spawn(async move { h.hash("pw-pw-pw-pw".into()).await })
            })
            .collect();
        let (mut ok, mut busy) = (0, 0);
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => ok += 1,
                Err(Error::HashBusy { .. }) => busy += 1,
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(ok + busy, 6);
        assert!(ok >= 2 && busy >= 1, "ok {ok}, busy {busy}");
        // Slots are given back: the next one goes through.
        assert!(h.hash("again-again".into()).await.is_ok());
    }
}
