//! The live signing keys: the current one signs, the previous one (after a
//! rotation) still verifies until its tokens expire. Rotation goes through
//! the store, so every replica and `chat-auth rotate-signing-key` agree; a
//! running service re-reads the keys every [`RELOAD_EVERY`] to pick up a
//! rotation made elsewhere.

use std::sync::Arc;
use std::time::Duration;

use chat_common::time::now_millis;

use crate::error::Error;
use crate::signing_key::{self, KeyMaterial};
use crate::store::{SigningKeyRecord, Store};
use crate::tokens::TokenIssuer;

/// How often a running service re-reads the keys from the store.
pub const RELOAD_EVERY: Duration = Duration::from_secs(10);

fn materials(records: &[SigningKeyRecord]) -> Result<Vec<KeyMaterial>, Error> {
    records.iter().map(KeyMaterial::from_record).collect()
}

/// The stored keys, creating the first one when there is none.
pub async fn load(store: &dyn Store) -> Result<Vec<KeyMaterial>, Error> {
    let records = store
        .signing_keys_get_or_init(&signing_key::generate(now_millis())?)
        .await?;
    materials(&records)
}

/// Makes a fresh key current; the issuer signs with it from now on.
pub async fn rotate(store: &dyn Store, issuer: &TokenIssuer) -> Result<String, Error> {
    let next = signing_key::generate(now_millis())?;
    let records = store.rotate_signing_key(&next).await?;
    issuer.set_keys(materials(&records)?)?;
    tracing::info!(key_id = %next.key_id, "signing key rotated");
    Ok(next.key_id)
}

pub fn spawn_reload(store: Arc<dyn Store>, issuer: Arc<TokenIssuer>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(RELOAD_EVERY);
        tick.tick().await;
        loop {
            tick.tick().await;
            reload(store.as_ref(), &issuer).await;
        }
    });
}

/// Hands the issuer the stored keys when the current one changed. A read,
/// not [`load`]: that would make (and throw away) a fresh key and open a
/// write transaction each time.
async fn reload(store: &dyn Store, issuer: &TokenIssuer) {
    let current = issuer.keys().first().map(|k| k.key_id.clone());
    match store.signing_keys().await.and_then(|r| materials(&r)) {
        Ok(keys) if keys.is_empty() => {
            tracing::warn!("the store holds no signing key; keeping the ones in use")
        }
        Ok(keys) if keys.first().map(|k| &k.key_id) != current.as_ref() => {
            tracing::info!(key_id = ?keys.first().map(|k| &k.key_id), "new signing key picked up");
            if let Err(e) = issuer.set_keys(keys) {
                tracing::warn!(error = %e, "could not use the reloaded keys");
            }
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "could not reload the signing keys"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::embedded::EmbeddedStore;

    fn current(issuer: &TokenIssuer) -> String {
        issuer.keys()[0].key_id.clone()
    }

    #[tokio::test]
    async fn a_rotation_made_elsewhere_is_picked_up_and_nothing_else_changes() {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(&dir.path().join("auth.db"))
            .await
            .unwrap();
        let issuer = TokenIssuer::new(
            load(&store).await.unwrap(),
            "chat".into(),
            "chat".into(),
            Duration::from_secs(60),
        )
        .unwrap();
        let first = current(&issuer);

        reload(&store, &issuer).await;
        assert_eq!(current(&issuer), first, "no rotation, no change");
        assert_eq!(
            store.signing_keys().await.unwrap().len(),
            1,
            "the reload stored nothing"
        );

        // Another replica (or `chat-auth rotate-signing-key`) rotates.
        let next = signing_key::generate(now_millis()).unwrap();
        store.rotate_signing_key(&next).await.unwrap();
        reload(&store, &issuer).await;
        let ring: Vec<String> = issuer.keys().iter().map(|k| k.key_id.clone()).collect();
        assert_eq!(
            ring,
            [next.key_id, first],
            "signs with the new one, still verifies with the old"
        );
    }
}
