//! Every auth store backend keeps the same promises: run one list of cases
//! against the embedded SQLite store and, when one can be had, MongoDB.

use std::path::PathBuf;
use std::sync::Arc;

use chat_auth::Error;
use chat_auth::store::embedded::EmbeddedStore;
use chat_auth::store::mongo::MongoStore;
use chat_auth::store::{SigningKeyRecord, Store, UserRecord};
use chat_common::conformance::{self, Backend, BoxFuture, Case, MongoTarget};
use chat_common::time::now_millis;

fn user(name: &str) -> UserRecord {
    UserRecord {
        id: uuid::Uuid::now_v7().to_string(),
        username: name.to_owned(),
        password_hash: "$argon2id$placeholder".to_owned(),
        avatar_media_id: None,
        created_at_ms: 1_700_000_000_123,
    }
}

fn key(id: &str) -> SigningKeyRecord {
    SigningKeyRecord {
        key_id: id.to_owned(),
        private_key_pem: format!("pem of {id}"),
        created_at_ms: 1_700_000_000_000,
    }
}

fn create_and_find_ignoring_case(s: Arc<dyn Store>) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        let alice = user("Alice");
        s.create_user(&alice).await.unwrap();
        for name in ["Alice", "alice", "ALICE"] {
            assert_eq!(
                s.find_user_by_username(name).await.unwrap().as_ref(),
                Some(&alice),
                "{name}"
            );
        }
        assert_eq!(s.find_user_by_id(&alice.id).await.unwrap(), Some(alice));
        assert_eq!(s.find_user_by_username("bob").await.unwrap(), None);
        assert_eq!(s.find_user_by_id("no-such-id").await.unwrap(), None);
    })
}

fn duplicate_name_conflicts_ignoring_case(s: Arc<dyn Store>) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        let first = user("Carol");
        s.create_user(&first).await.unwrap();
        for name in ["Carol", "carol", "cAROL"] {
            let err = s.create_user(&user(name)).await.unwrap_err();
            assert!(matches!(err, Error::UsernameTaken), "{name}: {err}");
        }
        let found = s.find_user_by_username("CAROL").await.unwrap();
        assert_eq!(found, Some(first));
    })
}

fn concurrent_registration_one_wins(s: Arc<dyn Store>) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        let names = [
            "racer", "Racer", "RACER", "rAcEr", "racer", "RaCeR", "raceR", "Racer",
        ];
        let tasks: Vec<_> = names
            .iter()
            .map(|n| {
                let (s, u) = (s.clone(), user(n));
                tokio::spawn(async move { s.create_user(&u).await.map(|()| u) })
            })
            .collect();
        let mut winners = Vec::new();
        for t in tasks {
            match t.await.unwrap() {
                Ok(u) => winners.push(u),
                Err(Error::UsernameTaken) => {}
                Err(e) => panic!("unexpected error: {e}"),
            }
        }
        assert_eq!(winners.len(), 1, "exactly one registration must win");
        let stored = s.find_user_by_username("racer").await.unwrap();
        assert_eq!(stored.as_ref(), winners.first());
    })
}

fn avatar_set_and_clear(s: Arc<dyn Store>) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        let dave = user("dave");
        s.create_user(&dave).await.unwrap();
        let set = s.set_avatar(&dave.id, Some("media-1")).await.unwrap();
        assert_eq!(set.unwrap().avatar_media_id.as_deref(), Some("media-1"));
        let found = s.find_user_by_id(&dave.id).await.unwrap().unwrap();
        assert_eq!(found.avatar_media_id.as_deref(), Some("media-1"));
        assert_eq!(found.username, "dave");
        let cleared = s.set_avatar(&dave.id, None).await.unwrap().unwrap();
        assert_eq!(cleared.avatar_media_id, None);
        assert_eq!(cleared, dave);
        assert_eq!(s.find_user_by_username("DAVE").await.unwrap(), Some(dave));
        assert_eq!(s.set_avatar("no-such-id", Some("m")).await.unwrap(), None);
    })
}

fn refresh_token_consumed_once(s: Arc<dyn Store>) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        let now = now_millis();
        s.insert_refresh_token("h1", "user-1", now + 60_000)
            .await
            .unwrap();
        s.insert_refresh_token("h2", "user-2", now + 60_000)
            .await
            .unwrap();
        assert_eq!(
            s.consume_refresh_token("h1", now).await.unwrap().as_deref(),
            Some("user-1")
        );
        assert_eq!(s.consume_refresh_token("h1", now).await.unwrap(), None);
        assert_eq!(s.consume_refresh_token("unknown", now).await.unwrap(), None);
        // Consuming one token leaves the others alone.
        assert_eq!(
            s.consume_refresh_token("h2", now).await.unwrap().as_deref(),
            Some("user-2")
        );
    })
}

fn concurrent_consume_one_winner(s: Arc<dyn Store>) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        let now = now_millis();
        s.insert_refresh_token("shared", "user-1", now + 60_000)
            .await
            .unwrap();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let s = s.clone();
                tokio::spawn(async move { s.consume_refresh_token("shared", now).await })
            })
            .collect();
        let mut wins = 0;
        for t in tasks {
            if let Some(uid) = t.await.unwrap().unwrap() {
                assert_eq!(uid, "user-1");
                wins += 1;
            }
        }
        assert_eq!(wins, 1, "exactly one concurrent consume must win");
    })
}

fn expired_token_not_consumable(s: Arc<dyn Store>) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        let now = now_millis();
        s.insert_refresh_token("old", "user-1", now - 1_000)
            .await
            .unwrap();
        assert_eq!(s.consume_refresh_token("old", now).await.unwrap(), None);
        // Valid now, but not once its expiry has passed.
        let expires = now + 60_000;
        s.insert_refresh_token("later", "user-1", expires)
            .await
            .unwrap();
        assert_eq!(
            s.consume_refresh_token("later", expires).await.unwrap(),
            None
        );
        assert_eq!(
            s.consume_refresh_token("later", expires + 1).await.unwrap(),
            None
        );
        assert_eq!(
            s.consume_refresh_token("later", expires - 1)
                .await
                .unwrap()
                .as_deref(),
            Some("user-1")
        );
    })
}

fn revoked_token_not_consumable(s: Arc<dyn Store>) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        let now = now_millis();
        s.insert_refresh_token("gone", "user-1", now + 60_000)
            .await
            .unwrap();
        s.insert_refresh_token("kept", "user-1", now + 60_000)
            .await
            .unwrap();
        s.revoke_refresh_token("gone").await.unwrap();
        assert_eq!(s.consume_refresh_token("gone", now).await.unwrap(), None);
        s.revoke_refresh_token("gone").await.unwrap();
        s.revoke_refresh_token("never-existed").await.unwrap();
        assert!(
            s.consume_refresh_token("kept", now)
                .await
                .unwrap()
                .is_some()
        );
    })
}

fn signing_key_keeps_the_first(s: Arc<dyn Store>) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        let first = key("first");
        assert_eq!(s.signing_key_get_or_init(&first).await.unwrap(), first);
        assert_eq!(
            s.signing_key_get_or_init(&key("second")).await.unwrap(),
            first
        );
    })
}

fn concurrent_signing_key_init_agrees(s: Arc<dyn Store>) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        let tasks: Vec<_> = (0..6)
            .map(|i| {
                let s = s.clone();
                tokio::spawn(async move { s.signing_key_get_or_init(&key(&format!("k{i}"))).await })
            })
            .collect();
        let mut seen = Vec::new();
        for t in tasks {
            seen.push(t.await.unwrap().unwrap());
        }
        assert!(
            seen.windows(2).all(|w| w[0] == w[1]),
            "replicas disagree: {seen:?}"
        );
        assert_eq!(
            s.signing_key_get_or_init(&key("late")).await.unwrap(),
            seen[0]
        );
    })
}

fn ping_answers(s: Arc<dyn Store>) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        s.ping()
            .await
            .expect("a fresh store answers the health probe");
    })
}

const CASES: &[Case<dyn Store>] = &[
    ("ping_answers", ping_answers),
    (
        "create_and_find_ignoring_case",
        create_and_find_ignoring_case,
    ),
    (
        "duplicate_name_conflicts_ignoring_case",
        duplicate_name_conflicts_ignoring_case,
    ),
    (
        "concurrent_registration_one_wins",
        concurrent_registration_one_wins,
    ),
    ("avatar_set_and_clear", avatar_set_and_clear),
    ("refresh_token_consumed_once", refresh_token_consumed_once),
    (
        "concurrent_consume_one_winner",
        concurrent_consume_one_winner,
    ),
    ("expired_token_not_consumable", expired_token_not_consumable),
    ("revoked_token_not_consumable", revoked_token_not_consumable),
    ("signing_key_keeps_the_first", signing_key_keeps_the_first),
    (
        "concurrent_signing_key_init_agrees",
        concurrent_signing_key_init_agrees,
    ),
];

fn main() {
    // Cargo's scratch space for integration tests: the trials' stores are
    // shared `Arc`s the harness drops late, so temp dirs would not do.
    let scratch = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("auth-store-conformance");
    let _ = std::fs::remove_dir_all(&scratch);

    let embedded = Backend::<dyn Store> {
        name: "embedded",
        make: Arc::new(move || {
            let path = scratch
                .join(uuid::Uuid::new_v4().simple().to_string())
                .join("auth.sqlite3");
            Box::pin(async move {
                let store = EmbeddedStore::open(&path)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(Arc::new(store) as Arc<dyn Store>)
            })
        }),
    };
    let mut backends = vec![embedded];
    let mut skipped = Vec::new();

    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start a runtime: {e}");
            std::process::exit(2);
        }
    };
    // Held until the trials ran so a testcontainers MongoDB stays up.
    let target = conformance::mongo_target(&rt);
    let databases = conformance::Databases::default();
    match &target {
        MongoTarget::Available { uri, .. } => {
            let uri = uri.clone();
            let databases = databases.clone();
            backends.push(Backend {
                name: "mongodb",
                make: Arc::new(move || {
                    let uri = uri.clone();
                    let db = databases.fresh("chat_auth_conformance");
                    Box::pin(async move {
                        let store = MongoStore::connect(&uri, &db)
                            .await
                            .map_err(|e| e.to_string())?;
                        Ok(Arc::new(store) as Arc<dyn Store>)
                    })
                }),
            });
        }
        MongoTarget::Unavailable(reason) => skipped.push(("mongodb", reason.clone())),
    }
    let conclusion = conformance::run(conformance::trials(backends, skipped, CASES));
    if let MongoTarget::Available { uri, .. } = &target {
        databases.drop_all(&rt, uri);
    }
    // Stops a testcontainers MongoDB, inside the runtime it was started on.
    rt.block_on(async move { drop(target) });
    conclusion.exit()
}
