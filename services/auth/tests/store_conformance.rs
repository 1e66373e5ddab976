//! Every auth store backend keeps the same promises: run one list of cases
//! against the embedded SQLite store and, when one can be had, MongoDB.

use std::path::PathBuf;
use std::sync::Arc;

use chat_auth::Error;
use chat_auth::store::embedded::EmbeddedStore;
use chat_auth::store::mongo::MongoStore;
use chat_auth::store::{
    NewRefreshToken, Rotation, SessionRecord, SigningKeyRecord, Store, UserRecord, reason,
};
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

fn session(user_id: &str, at: i64) -> SessionRecord {
    SessionRecord {
        id: uuid::Uuid::now_v7().to_string(),
        user_id: user_id.to_owned(),
        created_at_ms: at,
        last_used_at_ms: at,
        user_agent: "test-agent/1".to_owned(),
        ended_at_ms: None,
        end_reason: None,
    }
}

fn token(hash: &str, expires_at_ms: i64) -> NewRefreshToken {
    NewRefreshToken {
        hash: hash.to_owned(),
        expires_at_ms,
    }
}

fn sessions_create_and_list_live(s: Arc<dyn Store>) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        let now = now_millis();
        let a = session("u1", now - 10);
        let b = session("u1", now);
        let other = session("u2", now);
        s.create_session(&a, &token("a1", now + 60_000))
            .await
            .unwrap();
        s.create_session(&b, &token("b1", now + 60_000))
            .await
            .unwrap();
        s.create_session(&other, &token("o1", now + 60_000))
            .await
            .unwrap();
        assert_eq!(s.find_session(&a.id).await.unwrap(), Some(a.clone()));
        assert_eq!(
            s.session_of_refresh_token("a1").await.unwrap(),
            Some(a.clone())
        );
        assert_eq!(s.session_of_refresh_token("nope").await.unwrap(), None);
        // Most recently used first; only the user's.
        let live = s.list_live_sessions("u1", 0).await.unwrap();
        assert_eq!(live, vec![b.clone(), a.clone()]);
        // Idle ones are not live.
        let live = s.list_live_sessions("u1", now - 5).await.unwrap();
        assert_eq!(live, vec![b.clone()]);
        // Ended ones are not live.
        s.end_session(&b.id, reason::LOGOUT, now).await.unwrap();
        assert_eq!(s.list_live_sessions("u1", 0).await.unwrap(), vec![a]);
    })
}

fn refresh_rotates_within_the_session(s: Arc<dyn Store>) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        let now = now_millis();
        let a = session("u1", now - 1_000);
        s.create_session(&a, &token("t1", now + 60_000))
            .await
            .unwrap();
        let Rotation::Rotated(used) = s
            .rotate_refresh_token("t1", &token("t2", now + 60_000), now)
            .await
            .unwrap()
        else {
            panic!("a live token rotates");
        };
        assert_eq!(used.id, a.id);
        assert_eq!(used.last_used_at_ms, now);
        assert_eq!(used.ended_at_ms, None);
        // The new one works in its turn, in the same session.
        let Rotation::Rotated(again) = s
            .rotate_refresh_token("t2", &token("t3", now + 60_000), now + 1)
            .await
            .unwrap()
        else {
            panic!("the rotated token rotates");
        };
        assert_eq!(again.id, a.id);
        assert_eq!(
            s.session_of_refresh_token("t3").await.unwrap().unwrap().id,
            a.id
        );
        assert_eq!(
            s.rotate_refresh_token("unknown", &token("x", now + 60_000), now)
                .await
                .unwrap(),
            Rotation::Invalid
        );
    })
}

fn replayed_refresh_token_ends_the_session(s: Arc<dyn Store>) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        let now = now_millis();
        let a = session("u1", now);
        let b = session("u1", now);
        s.create_session(&a, &token("r1", now + 60_000))
            .await
            .unwrap();
        s.create_session(&b, &token("k1", now + 60_000))
            .await
            .unwrap();
        assert!(matches!(
            s.rotate_refresh_token("r1", &token("r2", now + 60_000), now)
                .await
                .unwrap(),
            Rotation::Rotated(_)
        ));
        // r1 again: a replay. The whole session ends, r2 included.
        let Rotation::Replayed(ended) = s
            .rotate_refresh_token("r1", &token("r3", now + 60_000), now + 5)
            .await
            .unwrap()
        else {
            panic!("a used token is a replay");
        };
        assert_eq!(ended.id, a.id);
        assert_eq!(ended.end_reason.as_deref(), Some(reason::REPLAYED));
        assert_eq!(ended.ended_at_ms, Some(now + 5));
        assert_eq!(
            s.rotate_refresh_token("r2", &token("r4", now + 60_000), now + 6)
                .await
                .unwrap(),
            Rotation::Invalid
        );
        // The other session of the same user goes on.
        assert!(matches!(
            s.rotate_refresh_token("k1", &token("k2", now + 60_000), now + 7)
                .await
                .unwrap(),
            Rotation::Rotated(_)
        ));
        let since = s.ended_sessions_since(now).await.unwrap();
        assert_eq!(
            since.iter().map(|x| x.id.as_str()).collect::<Vec<_>>(),
            vec![a.id.as_str()]
        );
    })
}

fn concurrent_rotation_one_winner(s: Arc<dyn Store>) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        let now = now_millis();
        s.create_session(&session("u1", now), &token("shared", now + 60_000))
            .await
            .unwrap();
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let s = s.clone();
                tokio::spawn(async move {
                    s.rotate_refresh_token("shared", &token(&format!("n{i}"), now + 60_000), now)
                        .await
                })
            })
            .collect();
        let mut wins = 0;
        for t in tasks {
            if let Rotation::Rotated(_) = t.await.unwrap().unwrap() {
                wins += 1;
            }
        }
        assert_eq!(wins, 1, "exactly one concurrent rotation must win");
    })
}

fn expired_refresh_token_ends_the_session(s: Arc<dyn Store>) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        let now = now_millis();
        let a = session("u1", now - 120_000);
        s.create_session(&a, &token("old", now - 1_000))
            .await
            .unwrap();
        assert_eq!(
            s.rotate_refresh_token("old", &token("new", now + 60_000), now)
                .await
                .unwrap(),
            Rotation::Invalid
        );
        let stored = s.find_session(&a.id).await.unwrap().unwrap();
        assert_eq!(stored.end_reason.as_deref(), Some(reason::EXPIRED));
    })
}

fn end_one_session(s: Arc<dyn Store>) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        let now = now_millis();
        let a = session("u1", now);
        let b = session("u1", now);
        s.create_session(&a, &token("a1", now + 60_000))
            .await
            .unwrap();
        s.create_session(&b, &token("b1", now + 60_000))
            .await
            .unwrap();
        let ended = s
            .end_session(&a.id, reason::REVOKED, now + 1)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(ended.end_reason.as_deref(), Some(reason::REVOKED));
        // Ending it again ends nothing, and keeps the first reason.
        assert_eq!(
            s.end_session(&a.id, reason::LOGOUT, now + 2).await.unwrap(),
            None
        );
        assert_eq!(
            s.end_session("no-such", reason::LOGOUT, now).await.unwrap(),
            None
        );
        assert_eq!(
            s.find_session(&a.id)
                .await
                .unwrap()
                .unwrap()
                .end_reason
                .as_deref(),
            Some(reason::REVOKED)
        );
        // Its refresh token stops working; the other session's does not.
        assert_eq!(
            s.rotate_refresh_token("a1", &token("a2", now + 60_000), now + 3)
                .await
                .unwrap(),
            Rotation::Invalid
        );
        assert!(matches!(
            s.rotate_refresh_token("b1", &token("b2", now + 60_000), now + 3)
                .await
                .unwrap(),
            Rotation::Rotated(_)
        ));
    })
}

fn end_all_but_one(s: Arc<dyn Store>) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        let now = now_millis();
        let keep = session("u1", now);
        let (x, y) = (session("u1", now), session("u1", now));
        let stranger = session("u2", now);
        for (sess, h) in [(&keep, "k"), (&x, "x"), (&y, "y"), (&stranger, "s")] {
            s.create_session(sess, &token(h, now + 60_000))
                .await
                .unwrap();
        }
        let mut ended: Vec<String> = s
            .end_user_sessions("u1", Some(&keep.id), reason::PASSWORD, now + 1)
            .await
            .unwrap()
            .into_iter()
            .map(|e| {
                assert_eq!(e.end_reason.as_deref(), Some(reason::PASSWORD));
                e.id
            })
            .collect();
        ended.sort();
        let mut expected = vec![x.id.clone(), y.id.clone()];
        expected.sort();
        assert_eq!(ended, expected);
        assert_eq!(
            s.list_live_sessions("u1", 0).await.unwrap(),
            vec![keep.clone()]
        );
        assert_eq!(s.list_live_sessions("u2", 0).await.unwrap(), vec![stranger]);
        // Everywhere: no exception.
        let all = s
            .end_user_sessions("u1", None, reason::LOGOUT, now + 2)
            .await
            .unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].id, keep.id);
        assert!(s.list_live_sessions("u1", 0).await.unwrap().is_empty());
    })
}

fn ended_since_and_idle_sweep(s: Arc<dyn Store>) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        let now = now_millis();
        let idle = session("u1", now - 100_000);
        let busy = session("u1", now);
        s.create_session(&idle, &token("i", now + 60_000))
            .await
            .unwrap();
        s.create_session(&busy, &token("b", now + 60_000))
            .await
            .unwrap();
        let swept = s.end_idle_sessions(now - 50_000, now + 10).await.unwrap();
        assert_eq!(swept.len(), 1);
        assert_eq!(swept[0].id, idle.id);
        assert_eq!(swept[0].end_reason.as_deref(), Some(reason::EXPIRED));
        s.end_session(&busy.id, reason::LOGOUT, now + 20)
            .await
            .unwrap();
        let since: Vec<_> = s
            .ended_sessions_since(now)
            .await
            .unwrap()
            .into_iter()
            .map(|x| (x.id, x.ended_at_ms))
            .collect();
        assert_eq!(
            since,
            vec![(idle.id, Some(now + 10)), (busy.id.clone(), Some(now + 20))]
        );
        let later = s.ended_sessions_since(now + 15).await.unwrap();
        assert_eq!(later.len(), 1);
        assert_eq!(later[0].id, busy.id);
    })
}

fn password_hash_replaced(s: Arc<dyn Store>) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        let erin = user("erin");
        s.create_user(&erin).await.unwrap();
        assert!(
            s.set_password_hash(&erin.id, "$argon2id$new")
                .await
                .unwrap()
        );
        let found = s.find_user_by_id(&erin.id).await.unwrap().unwrap();
        assert_eq!(found.password_hash, "$argon2id$new");
        assert!(!s.set_password_hash("no-such", "x").await.unwrap());
    })
}

fn signing_key_keeps_the_first(s: Arc<dyn Store>) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        let first = key("first");
        assert_eq!(s.signing_keys().await.unwrap(), vec![]);
        assert_eq!(
            s.signing_keys_get_or_init(&first).await.unwrap(),
            vec![first.clone()]
        );
        assert_eq!(
            s.signing_keys_get_or_init(&key("second")).await.unwrap(),
            vec![first.clone()]
        );
        assert_eq!(s.signing_keys().await.unwrap(), vec![first]);
    })
}

fn signing_key_rotation_keeps_the_previous(s: Arc<dyn Store>) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        let (k1, k2, k3) = (key("k1"), key("k2"), key("k3"));
        s.signing_keys_get_or_init(&k1).await.unwrap();
        assert_eq!(
            s.rotate_signing_key(&k2).await.unwrap(),
            vec![k2.clone(), k1]
        );
        assert_eq!(
            s.rotate_signing_key(&k3).await.unwrap(),
            vec![k3.clone(), k2.clone()]
        );
        assert_eq!(
            s.signing_keys().await.unwrap(),
            vec![k3.clone(), k2.clone()]
        );
        assert_eq!(
            s.signing_keys_get_or_init(&key("late")).await.unwrap(),
            vec![k3, k2]
        );
    })
}

fn concurrent_signing_key_init_agrees(s: Arc<dyn Store>) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        let tasks: Vec<_> = (0..6)
            .map(|i| {
                let s = s.clone();
                tokio::spawn(
                    async move { s.signing_keys_get_or_init(&key(&format!("k{i}"))).await },
                )
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
            s.signing_keys_get_or_init(&key("late")).await.unwrap(),
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
    (
        "sessions_create_and_list_live",
        sessions_create_and_list_live,
    ),
    (
        "refresh_rotates_within_the_session",
        refresh_rotates_within_the_session,
    ),
    (
        "replayed_refresh_token_ends_the_session",
        replayed_refresh_token_ends_the_session,
    ),
    (
        "concurrent_rotation_one_winner",
        concurrent_rotation_one_winner,
    ),
    (
        "expired_refresh_token_ends_the_session",
        expired_refresh_token_ends_the_session,
    ),
    ("end_one_session", end_one_session),
    ("end_all_but_one", end_all_but_one),
    ("ended_since_and_idle_sweep", ended_since_and_idle_sweep),
    ("password_hash_replaced", password_hash_replaced),
    (
        "signing_key_rotation_keeps_the_previous",
        signing_key_rotation_keeps_the_previous,
    ),
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
