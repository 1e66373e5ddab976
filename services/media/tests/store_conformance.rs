//! Every metadata store behaves the same: each case runs against the
//! embedded SQLite store and, when one can be had, MongoDB.

use std::sync::Arc;

use async_trait::async_trait;
use chat_common::conformance::{self, Backend, BoxFuture, Case, MongoTarget};
use chat_media::Error;
use chat_media::store::{EmbeddedStore, MediaRecord, MongoStore, Purpose, Store};

/// The embedded store together with the directory its file lives in, so the
/// directory outlives every write.
struct InTempDir {
    store: EmbeddedStore,
    _dir: tempfile::TempDir,
}

#[async_trait]
impl Store for InTempDir {
    async fn insert(&self, record: &MediaRecord) -> Result<(), Error> {
        self.store.insert(record).await
    }
    async fn get(&self, id: &str) -> Result<Option<MediaRecord>, Error> {
        self.store.get(id).await
    }
    async fn delete(&self, id: &str) -> Result<bool, Error> {
        self.store.delete(id).await
    }
    async fn ping(&self) -> Result<(), Error> {
        self.store.ping().await
    }
}

fn record(id: &str, owner: &str, purpose: Purpose) -> MediaRecord {
    MediaRecord {
        id: id.into(),
        owner: owner.into(),
        name: "Résumé – final.pdf".into(),
        content_type: "application/pdf".into(),
        size: 10 * 1024 * 1024,
        sha256: "0123456789abcdef".repeat(4),
        created_at: 1_795_716_000_123,
        purpose,
    }
}

fn insert_then_get_round_trips(store: Arc<dyn Store>) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        let a = record(
            "0197a000-0000-7000-8000-000000000001",
            "Alice",
            Purpose::Avatar,
        );
        let b = record(
            "0197a000-0000-7000-8000-000000000002",
            "bob",
            Purpose::Attachment,
        );
        store.insert(&a).await.unwrap();
        store.insert(&b).await.unwrap();
        assert_eq!(store.get(&a.id).await.unwrap(), Some(a));
        assert_eq!(store.get(&b.id).await.unwrap(), Some(b));
    })
}

fn get_missing_is_none(store: Arc<dyn Store>) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        assert_eq!(store.get("no-such-id").await.unwrap(), None);
        assert_eq!(store.get("").await.unwrap(), None);
    })
}

fn duplicate_id_is_rejected(store: Arc<dyn Store>) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        let first = record("dup", "alice", Purpose::Attachment);
        store.insert(&first).await.unwrap();
        let mut second = record("dup", "mallory", Purpose::Avatar);
        second.name = "other.png".into();
        let err = store.insert(&second).await.unwrap_err();
        assert!(
            matches!(err, Error::AlreadyExists(ref id) if id == "dup"),
            "{err:?}"
        );
        assert_eq!(
            store.get("dup").await.unwrap(),
            Some(first),
            "the first record stays"
        );
    })
}

fn delete_removes_only_that_record(store: Arc<dyn Store>) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        let keep = record("keep", "alice", Purpose::Attachment);
        let gone = record("gone", "alice", Purpose::Attachment);
        store.insert(&keep).await.unwrap();
        store.insert(&gone).await.unwrap();
        assert!(store.delete("gone").await.unwrap());
        assert_eq!(store.get("gone").await.unwrap(), None);
        assert_eq!(store.get("keep").await.unwrap(), Some(keep));
        assert!(
            !store.delete("gone").await.unwrap(),
            "second delete finds nothing"
        );
        assert!(!store.delete("never-existed").await.unwrap());
    })
}

fn id_can_be_reused_after_delete(store: Arc<dyn Store>) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        let r = record("again", "alice", Purpose::Avatar);
        store.insert(&r).await.unwrap();
        assert!(store.delete("again").await.unwrap());
        store.insert(&r).await.unwrap();
        assert_eq!(store.get("again").await.unwrap(), Some(r));
    })
}

fn ping_answers(store: Arc<dyn Store>) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        store
            .ping()
            .await
            .expect("a fresh store answers the health probe");
    })
}

fn main() {
    let cases: &[Case<dyn Store>] = &[
        ("ping_answers", ping_answers),
        ("insert_then_get_round_trips", insert_then_get_round_trips),
        ("get_missing_is_none", get_missing_is_none),
        ("duplicate_id_is_rejected", duplicate_id_is_rejected),
        (
            "delete_removes_only_that_record",
            delete_removes_only_that_record,
        ),
        (
            "id_can_be_reused_after_delete",
            id_can_be_reused_after_delete,
        ),
    ];

    let mut backends: Vec<Backend<dyn Store>> = vec![Backend {
        name: "embedded",
        make: Arc::new(|| {
            Box::pin(async {
                let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
                let store = EmbeddedStore::open(dir.path().join("media.sqlite3"))
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(Arc::new(InTempDir { store, _dir: dir }) as Arc<dyn Store>)
            })
        }),
    }];
    let mut skipped = Vec::new();

    let rt = tokio::runtime::Runtime::new().expect("a tokio runtime for the MongoDB probe");
    let target = conformance::mongo_target(&rt);
    let databases = conformance::Databases::default();
    // Keeps any container alive until the trials have run.
    let (keep, uri_to_clean);
    match target {
        MongoTarget::Available { uri, _container } => {
            keep = _container;
            uri_to_clean = Some(uri.clone());
            let databases = databases.clone();
            backends.push(Backend {
                name: "mongo",
                make: Arc::new(move || {
                    let uri = uri.clone();
                    // A database per trial keeps cases independent.
                    let db = databases.fresh("chat_media_test");
                    Box::pin(async move {
                        let store = MongoStore::connect(&uri, &db)
                            .await
                            .map_err(|e| e.to_string())?;
                        Ok(Arc::new(store) as Arc<dyn Store>)
                    })
                }),
            });
        }
        MongoTarget::Unavailable(reason) => {
            keep = None;
            uri_to_clean = None;
            skipped.push(("mongo", reason));
        }
    }

    let conclusion = conformance::run(conformance::trials(backends, skipped, cases));
    if let Some(uri) = &uri_to_clean {
        databases.drop_all(&rt, uri);
    }
    // Stops a testcontainers MongoDB, inside the runtime it was started on.
    rt.block_on(async move { drop(keep) });
    conclusion.exit()
}
