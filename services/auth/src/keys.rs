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
            let current = issuer.keys().first().map(|k| k.key_id.clone());
            match load(store.as_ref()).await {
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
    });
}
