//! Each user's current avatar, remembered so that a `sendMessage` does not
//! ask the auth service for it every time (it was one of three sequential
//! gRPC calls per send).
//!
//! An avatar upload through this node forgets the user's entry at once and,
//! with Redis, tells every other node to forget it too (see
//! `socket::avatar_sync`). What neither covers (an avatar set by calling
//! `AuthService.SetAvatar` directly, or a notice lost while Redis was down)
//! is bounded by [`TTL`].

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;

use crate::error::Error;

/// How long an entry is trusted without a change notice.
pub const TTL: Duration = Duration::from_secs(10);

/// Below this many entries expired ones are left alone.
const SWEEP_FLOOR: usize = 1024;

type Notify = Box<dyn Fn(String) -> BoxFuture<'static, ()> + Send + Sync>;

/// Cheap to clone: clones share the entries.
#[derive(Clone, Default)]
pub struct Avatars {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: Mutex<Entries>,
    /// Bumped by every change; a lookup that started before a change does
    /// not store what it read, since it may predate the change.
    generation: AtomicU64,
    /// Tells the other nodes that a user's avatar changed.
    notify: OnceLock<Notify>,
}

#[derive(Default)]
struct Entries {
    by_user: HashMap<String, (Option<String>, Instant)>,
    sweep_at: usize,
}

impl Avatars {
    /// The avatar media id of `user_id`, from memory or else from `load`.
    pub async fn get<F, Fut>(&self, user_id: &str, load: F) -> Result<Option<String>, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<String>, Error>>,
    {
        if let Some(avatar) = self.cached(user_id, Instant::now()) {
            return Ok(avatar);
        }
        let generation = self.inner.generation.load(Ordering::Acquire);
        let avatar = load().await?;
        let mut entries = self.lock();
        if self.inner.generation.load(Ordering::Acquire) == generation {
            entries.insert(user_id, avatar.clone(), Instant::now());
        }
        Ok(avatar)
    }

    /// `user_id` changed their avatar through this node. Returns once the
    /// other nodes have been told, so a client that sees the upload answered
    /// and then sends through another node gets the new avatar.
    pub async fn changed(&self, user_id: &str) {
        self.forget(user_id);
        if let Some(notify) = self.inner.notify.get() {
            notify(user_id.to_string()).await;
        }
    }

    /// Another node said `user_id` changed their avatar.
    pub fn forget(&self, user_id: &str) {
        let mut entries = self.lock();
        self.inner.generation.fetch_add(1, Ordering::AcqRel);
        entries.by_user.remove(user_id);
    }

    /// Forgets everyone (change notices may have been missed).
    pub fn forget_all(&self) {
        let mut entries = self.lock();
        self.inner.generation.fetch_add(1, Ordering::AcqRel);
        entries.by_user.clear();
    }

    /// Installs how changes reach the other nodes; only the first call counts.
    pub fn on_change(
        &self,
        notify: impl Fn(String) -> BoxFuture<'static, ()> + Send + Sync + 'static,
    ) {
        if self.inner.notify.set(Box::new(notify)).is_err() {
            tracing::warn!("avatar change notices were already wired");
        }
    }

    fn cached(&self, user_id: &str, now: Instant) -> Option<Option<String>> {
        let entries = self.lock();
        let (avatar, at) = entries.by_user.get(user_id)?;
        (now.duration_since(*at) < TTL).then(|| avatar.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.inner
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Entries {
    /// Stores an entry; now and then drops the expired ones, so memory
    /// follows the users sending lately rather than everyone ever seen.
    fn insert(&mut self, user_id: &str, avatar: Option<String>, now: Instant) {
        self.by_user.insert(user_id.to_string(), (avatar, now));
        if self.by_user.len() >= self.sweep_at.max(SWEEP_FLOOR) {
            self.by_user
                .retain(|_, (_, at)| now.duration_since(*at) < TTL);
            self.sweep_at = self.by_user.len() * 2;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    async fn get(a: &Avatars, user: &str, value: &str, loads: &AtomicUsize) -> Option<String> {
        a.get(user, || async {
            loads.fetch_add(1, Ordering::SeqCst);
            Ok(Some(value.to_string()))
        })
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn loads_once_then_answers_from_memory_until_a_change() {
        let a = Avatars::default();
        let loads = AtomicUsize::new(0);
        assert_eq!(get(&a, "u1", "m1", &loads).await.as_deref(), Some("m1"));
        assert_eq!(get(&a, "u1", "m2", &loads).await.as_deref(), Some("m1"));
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        a.changed("u1").await;
        assert_eq!(get(&a, "u1", "m2", &loads).await.as_deref(), Some("m2"));
        assert_eq!(loads.load(Ordering::SeqCst), 2);
        a.forget_all();
        assert_eq!(get(&a, "u1", "m3", &loads).await.as_deref(), Some("m3"));
    }

    #[tokio::test]
    async fn a_failed_load_is_an_error_and_stores_nothing() {
        let a = Avatars::default();
        let err = a
            .get("u1", || async { Err(Error::Unavailable("down".into())) })
            .await;
        assert!(err.is_err());
        let loads = AtomicUsize::new(0);
        assert_eq!(get(&a, "u1", "m1", &loads).await.as_deref(), Some("m1"));
        assert_eq!(loads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_lookup_overtaken_by_a_change_is_not_kept() {
        let a = Avatars::default();
        let seen = a
            .get("u1", || async {
                // The avatar changes while the old one is being read.
                a.changed("u1").await;
                Ok(Some("old".to_string()))
            })
            .await
            .unwrap();
        assert_eq!(seen.as_deref(), Some("old"));
        let loads = AtomicUsize::new(0);
        assert_eq!(get(&a, "u1", "new", &loads).await.as_deref(), Some("new"));
    }

    #[test]
    fn entries_expire_and_are_swept() {
        let now = Instant::now();
        let mut e = Entries::default();
        for i in 0..SWEEP_FLOOR - 1 {
            e.insert(&format!("old{i}"), None, now);
        }
        let later = now + TTL + Duration::from_secs(1);
        e.insert("fresh", None, later);
        assert_eq!(e.by_user.len(), 1);
        let a = Avatars::default();
        a.lock().insert("u", Some("m".into()), now);
        assert_eq!(a.cached("u", now), Some(Some("m".into())));
        assert_eq!(a.cached("u", later), None);
    }

    #[tokio::test]
    async fn changes_are_announced() {
        let a = Avatars::default();
        let told = Arc::new(Mutex::new(Vec::new()));
        let sink = told.clone();
        a.on_change(move |u| {
            sink.lock().unwrap().push(u);
            Box::pin(async {})
        });
        a.changed("u9").await;
        a.forget("u8");
        assert_eq!(*told.lock().unwrap(), vec!["u9".to_string()]);
    }
}
