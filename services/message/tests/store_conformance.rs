//! Store conformance: each case runs once against every backend (the
//! embedded SQLite store always, MongoDB when `chat_common::conformance`
//! finds one), through the shared rules layer so the paging, dedupe, edit,
//! delete, read-position and room/membership behaviour is proven identical
//! on both.

mod conformance_cases;

use std::ops::Deref;
use std::sync::Arc;

use chat_common::conformance::{self, Backend, BoxFuture, MongoTarget};
use chat_message::rooms::Rooms;
use chat_message::rules::Limits;
use chat_message::service::Messages;
use chat_message::store::{EmbeddedStore, MongoStore, RoomStore, Store};
use libtest_mimic::{Failed, Trial};

pub const LIMITS: Limits = Limits {
    max_message_chars: 4000,
    history_default_limit: 50,
    history_max_limit: 200,
};

/// A fresh store for one case, the rules on top of it, and whatever must
/// outlive the case (its temporary directory or database).
pub struct Harness {
    pub messages: Messages,
    /// The room rules over the same database.
    pub rooms: Rooms,
    pub store: Arc<dyn Store>,
    _cleanup: Cleanup,
}

impl Deref for Harness {
    type Target = Messages;
    fn deref(&self) -> &Messages {
        &self.messages
    }
}

impl Harness {
    fn new(store: Arc<dyn Store>, rooms: Arc<dyn RoomStore>, cleanup: Cleanup) -> Harness {
        Harness {
            messages: Messages::new(store.clone(), LIMITS),
            rooms: Rooms::new(rooms, store.clone()),
            store,
            _cleanup: cleanup,
        }
    }
}

enum Cleanup {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    MongoDb { uri: String, name: String },
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Cleanup::MongoDb { uri, name } = self {
            let (uri, name) = (uri.clone(), name.clone());
            // Drop runs inside the case's runtime, which cannot be blocked
            // on; a short-lived thread with its own runtime can.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                rt.block_on(async {
                    let client = mongodb::Client::with_uri_str(&uri).await?;
                    client.database(&name).drop().await
                })
                .map_err(std::io::Error::other)
            })
            .join();
        }
    }
}

fn embedded() -> Backend<Harness> {
    Backend {
        name: "embedded",
        make: Arc::new(|| -> BoxFuture<'static, Result<Arc<Harness>, String>> {
            Box::pin(async {
                let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
                let store = EmbeddedStore::open(&dir.path().join("message.sqlite3"))
                    .await
                    .map_err(|e| e.to_string())?;
                let store = Arc::new(store);
                Ok(Arc::new(Harness::new(
                    store.clone(),
                    store,
                    Cleanup::Dir(dir),
                )))
            })
        }),
    }
}

fn mongo(uri: String) -> Backend<Harness> {
    Backend {
        name: "mongo",
        make: Arc::new(
            move || -> BoxFuture<'static, Result<Arc<Harness>, String>> {
                let uri = uri.clone();
                Box::pin(async move {
                    let name = format!("chat_message_test_{}", uuid::Uuid::new_v4().simple());
                    let store = MongoStore::open(&uri, &name)
                        .await
                        .map_err(|e| e.to_string())?;
                    let store = Arc::new(store);
                    Ok(Arc::new(Harness::new(
                        store.clone(),
                        store,
                        Cleanup::MongoDb { uri, name },
                    )))
                })
            },
        ),
    }
}

/// Embedded only: what was written is still there after closing and
/// reopening the file.
fn persistence_trial() -> Trial {
    Trial::test("embedded::persists_across_reopen", || {
        let rt = tokio::runtime::Runtime::new().map_err(|e| Failed::from(e.to_string()))?;
        rt.block_on(conformance_cases::persists_across_reopen());
        Ok(())
    })
}

/// Embedded only: an older database file gains the v1.2 schema at open.
fn migration_trial() -> Trial {
    Trial::test("embedded::migrates_an_older_database", || {
        let rt = tokio::runtime::Runtime::new().map_err(|e| Failed::from(e.to_string()))?;
        rt.block_on(conformance_cases::migrates_an_older_database());
        Ok(())
    })
}

fn main() {
    let rt = tokio::runtime::Runtime::new().expect("a tokio runtime for the MongoDB probe");
    let target = conformance::mongo_target(&rt);
    let mut backends = vec![embedded()];
    let mut skipped = Vec::new();
    match &target {
        MongoTarget::Available { uri, .. } => backends.push(mongo(uri.clone())),
        MongoTarget::Unavailable(reason) => skipped.push(("mongo", reason.clone())),
    }
    let mut trials = conformance::trials(backends, skipped, conformance_cases::CASES);
    trials.push(persistence_trial());
    trials.push(migration_trial());
    // Each trial's database is dropped when its harness is; the container
    // is stopped here, inside the runtime it was started on, before exiting.
    let conclusion = conformance::run(trials);
    rt.block_on(async move { drop(target) });
    conclusion.exit()
}
