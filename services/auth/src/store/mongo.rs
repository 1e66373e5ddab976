//! The MongoDB store: collections `users`, `sessions`, `session_tokens` and
//! `signing_keys` in the service's own database. Indexes are created
//! idempotently on connect. Every write waits for a journaled majority, since
//! a lost user, a lost revocation or a lost key would all be visible bugs.

use std::time::Duration;

use async_trait::async_trait;
use mongodb::bson::{DateTime, doc};
use mongodb::options::{
    ClientOptions, CollectionOptions, IndexOptions, ReturnDocument, WriteConcern,
};
use mongodb::{Client, Collection, IndexModel};
use serde::{Deserialize, Serialize};

use super::{
    NewRefreshToken, Rotation, SessionRecord, SigningKeyRecord, Store, UserRecord, reason,
};
use crate::error::Error;
use crate::validation::username_key;

const CURRENT_KEY_SLOT: &str = "current";
const PREVIOUS_KEY_SLOT: &str = "previous";

#[derive(Debug, Serialize, Deserialize)]
struct UserDoc {
    #[serde(rename = "_id")]
    id: String,
    username: String,
    /// The uniqueness key: the name lower-cased.
    username_lower: String,
    password_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    avatar_media_id: Option<String>,
    created_at: i64,
}

impl From<UserDoc> for UserRecord {
    fn from(d: UserDoc) -> UserRecord {
        UserRecord {
            id: d.id,
            username: d.username,
            password_hash: d.password_hash,
            avatar_media_id: d.avatar_media_id,
            created_at_ms: d.created_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct SessionDoc {
    #[serde(rename = "_id")]
    id: String,
    user_id: String,
    created_at: i64,
    last_used_at: i64,
    user_agent: String,
    #[serde(default)]
    ended_at: Option<i64>,
    #[serde(default)]
    end_reason: Option<String>,
}

impl From<SessionDoc> for SessionRecord {
    fn from(d: SessionDoc) -> SessionRecord {
        SessionRecord {
            id: d.id,
            user_id: d.user_id,
            created_at_ms: d.created_at,
            last_used_at_ms: d.last_used_at,
            user_agent: d.user_agent,
            ended_at_ms: d.ended_at,
            end_reason: d.end_reason,
        }
    }
}

/// Used tokens stay until they expire: presenting one again is a replay.
#[derive(Debug, Serialize, Deserialize)]
struct SessionTokenDoc {
    hash: String,
    session_id: String,
    /// A BSON date so the TTL index can expire it.
    expires_at: DateTime,
    #[serde(default)]
    used_at: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize)]
struct SigningKeyDoc {
    #[serde(rename = "_id")]
    slot: String,
    key_id: String,
    private_key_pem: String,
    created_at: i64,
}

pub struct MongoStore {
    users: Collection<UserDoc>,
    sessions: Collection<SessionDoc>,
    tokens: Collection<SessionTokenDoc>,
    signing_keys: Collection<SigningKeyDoc>,
}

impl MongoStore {
    /// Connects and makes sure the indexes exist.
    pub async fn connect(uri: &str, database: &str) -> Result<MongoStore, Error> {
        let mut options = ClientOptions::parse(uri).await?;
        options.app_name.get_or_insert_with(|| "chat-auth".into());
        let client = Client::with_options(options)?;
        let db = client.database(database);
        let mut durable = WriteConcern::majority();
        durable.journal = Some(true);
        let opts = CollectionOptions::builder().write_concern(durable).build();
        let store = MongoStore {
            users: db.collection_with_options("users", opts.clone()),
            sessions: db.collection_with_options("sessions", opts.clone()),
            tokens: db.collection_with_options("session_tokens", opts.clone()),
            signing_keys: db.collection_with_options("signing_keys", opts),
        };
        store.ensure_indexes().await?;
        Ok(store)
    }

    async fn ensure_indexes(&self) -> Result<(), Error> {
        let unique = |name: &str| {
            IndexOptions::builder()
                .unique(true)
                .name(name.to_owned())
                .build()
        };
        self.users
            .create_index(
                IndexModel::builder()
                    .keys(doc! { "username_lower": 1 })
                    .options(unique("username_lower_unique"))
                    .build(),
            )
            .await?;
        self.sessions
            .create_index(
                IndexModel::builder()
                    .keys(doc! { "user_id": 1, "last_used_at": -1 })
                    .build(),
            )
            .await?;
        self.sessions
            .create_index(IndexModel::builder().keys(doc! { "ended_at": 1 }).build())
            .await?;
        self.tokens
            .create_index(IndexModel::builder().keys(doc! { "session_id": 1 }).build())
            .await?;
        self.tokens
            .create_index(
                IndexModel::builder()
                    .keys(doc! { "hash": 1 })
                    .options(unique("hash_unique"))
                    .build(),
            )
            .await?;
        self.tokens
            .create_index(
                IndexModel::builder()
                    .keys(doc! { "expires_at": 1 })
                    .options(
                        IndexOptions::builder()
                            .expire_after(Duration::ZERO)
                            .name("expires_at_ttl".to_owned())
                            .build(),
                    )
                    .build(),
            )
            .await?;
        Ok(())
    }
}

use chat_common::mongo::is_duplicate_key;

impl MongoStore {
    async fn end(&self, id: &str, why: &str, now_ms: i64) -> Result<Option<SessionRecord>, Error> {
        let ended = self
            .sessions
            .find_one_and_update(
                doc! { "_id": id, "ended_at": null },
                doc! { "$set": { "ended_at": now_ms, "end_reason": why } },
            )
            .return_document(ReturnDocument::After)
            .await?;
        if ended.is_some() {
            self.tokens.delete_many(doc! { "session_id": id }).await?;
        }
        Ok(ended.map(Into::into))
    }

    async fn end_all(
        &self,
        filter: mongodb::bson::Document,
        why: &str,
        now_ms: i64,
    ) -> Result<Vec<SessionRecord>, Error> {
        use futures::TryStreamExt;
        let ids: Vec<String> = self
            .sessions
            .find(filter)
            .await?
            .map_ok(|d| d.id)
            .try_collect()
            .await?;
        let mut ended = Vec::with_capacity(ids.len());
        for id in ids {
            ended.extend(self.end(&id, why, now_ms).await?);
        }
        Ok(ended)
    }

    async fn keys(&self) -> Result<Vec<SigningKeyRecord>, Error> {
        let mut keys = Vec::with_capacity(2);
        for slot in [CURRENT_KEY_SLOT, PREVIOUS_KEY_SLOT] {
            if let Some(k) = self.signing_keys.find_one(doc! { "_id": slot }).await? {
                keys.push(SigningKeyRecord {
                    key_id: k.key_id,
                    private_key_pem: k.private_key_pem,
                    created_at_ms: k.created_at,
                });
            }
        }
        Ok(keys)
    }
}

#[async_trait]
impl Store for MongoStore {
    async fn ping(&self) -> Result<(), Error> {
        self.users
            .client()
            .database("admin")
            .run_command(doc! { "ping": 1 })
            .await?;
        Ok(())
    }

    async fn create_user(&self, user: &UserRecord) -> Result<(), Error> {
        let d = UserDoc {
            id: user.id.clone(),
            username: user.username.clone(),
            username_lower: username_key(&user.username),
            password_hash: user.password_hash.clone(),
            avatar_media_id: user.avatar_media_id.clone(),
            created_at: user.created_at_ms,
        };
        match self.users.insert_one(&d).await {
            Ok(_) => Ok(()),
            Err(e) if is_duplicate_key(&e) => Err(Error::UsernameTaken),
            Err(e) => Err(e.into()),
        }
    }

    async fn find_user_by_id(&self, id: &str) -> Result<Option<UserRecord>, Error> {
        Ok(self
            .users
            .find_one(doc! { "_id": id })
            .await?
            .map(Into::into))
    }

    async fn find_user_by_username(&self, username: &str) -> Result<Option<UserRecord>, Error> {
        Ok(self
            .users
            .find_one(doc! { "username_lower": username_key(username) })
            .await?
            .map(Into::into))
    }

    async fn set_avatar(
        &self,
        user_id: &str,
        avatar_media_id: Option<&str>,
    ) -> Result<Option<UserRecord>, Error> {
        let update = match avatar_media_id {
            Some(media) => doc! { "$set": { "avatar_media_id": media } },
            None => doc! { "$unset": { "avatar_media_id": "" } },
        };
        Ok(self
            .users
            .find_one_and_update(doc! { "_id": user_id }, update)
            .return_document(ReturnDocument::After)
            .await?
            .map(Into::into))
    }

    async fn set_password_hash(&self, user_id: &str, password_hash: &str) -> Result<bool, Error> {
        let res = self
            .users
            .update_one(
                doc! { "_id": user_id },
                doc! { "$set": { "password_hash": password_hash } },
            )
            .await?;
        Ok(res.matched_count == 1)
    }

    async fn create_session(
        &self,
        session: &SessionRecord,
        token: &NewRefreshToken,
    ) -> Result<(), Error> {
        let d = SessionDoc {
            id: session.id.clone(),
            user_id: session.user_id.clone(),
            created_at: session.created_at_ms,
            last_used_at: session.last_used_at_ms,
            user_agent: session.user_agent.clone(),
            ended_at: session.ended_at_ms,
            end_reason: session.end_reason.clone(),
        };
        self.sessions.insert_one(&d).await?;
        // The session first: a token never points at a missing session.
        self.tokens
            .insert_one(&SessionTokenDoc {
                hash: token.hash.clone(),
                session_id: session.id.clone(),
                expires_at: DateTime::from_millis(token.expires_at_ms),
                used_at: None,
            })
            .await?;
        Ok(())
    }

    async fn rotate_refresh_token(
        &self,
        hash: &str,
        next: &NewRefreshToken,
        now_ms: i64,
    ) -> Result<Rotation, Error> {
        // The conditional update is the atomic step: of concurrent callers
        // only one flips `used_at` from null.
        let claimed = self
            .tokens
            .find_one_and_update(
                doc! { "hash": hash, "used_at": null,
                "expires_at": { "$gt": DateTime::from_millis(now_ms) } },
                doc! { "$set": { "used_at": now_ms } },
            )
            .await?;
        let Some(token) = claimed else {
            // The TTL monitor runs only once a minute, so expiry is judged here.
            return Ok(match self.tokens.find_one(doc! { "hash": hash }).await? {
                Some(t) if t.used_at.is_some() => self
                    .end(&t.session_id, reason::REPLAYED, now_ms)
                    .await?
                    .map_or(Rotation::Invalid, Rotation::Replayed),
                Some(t) => {
                    self.end(&t.session_id, reason::EXPIRED, now_ms).await?;
                    Rotation::Invalid
                }
                None => Rotation::Invalid,
            });
        };
        let live = self
            .sessions
            .find_one_and_update(
                doc! { "_id": &token.session_id, "ended_at": null },
                doc! { "$set": { "last_used_at": now_ms } },
            )
            .return_document(ReturnDocument::After)
            .await?;
        let Some(session) = live else {
            return Ok(Rotation::Invalid);
        };
        self.tokens
            .insert_one(&SessionTokenDoc {
                hash: next.hash.clone(),
                session_id: token.session_id,
                expires_at: DateTime::from_millis(next.expires_at_ms),
                used_at: None,
            })
            .await?;
        Ok(Rotation::Rotated(session.into()))
    }

    async fn session_of_refresh_token(&self, hash: &str) -> Result<Option<SessionRecord>, Error> {
        let Some(token) = self.tokens.find_one(doc! { "hash": hash }).await? else {
            return Ok(None);
        };
        self.find_session(&token.session_id).await
    }

    async fn find_session(&self, id: &str) -> Result<Option<SessionRecord>, Error> {
        Ok(self
            .sessions
            .find_one(doc! { "_id": id })
            .await?
            .map(Into::into))
    }

    async fn end_session(
        &self,
        id: &str,
        reason: &str,
        now_ms: i64,
    ) -> Result<Option<SessionRecord>, Error> {
        self.end(id, reason, now_ms).await
    }

    async fn end_user_sessions(
        &self,
        user_id: &str,
        except: Option<&str>,
        reason: &str,
        now_ms: i64,
    ) -> Result<Vec<SessionRecord>, Error> {
        let filter = doc! { "user_id": user_id, "ended_at": null,
        "_id": { "$ne": except.unwrap_or_default() } };
        self.end_all(filter, reason, now_ms).await
    }

    async fn list_live_sessions(
        &self,
        user_id: &str,
        idle_before_ms: i64,
    ) -> Result<Vec<SessionRecord>, Error> {
        use futures::TryStreamExt;
        Ok(self
            .sessions
            .find(doc! { "user_id": user_id, "ended_at": null,
            "last_used_at": { "$gte": idle_before_ms } })
            .sort(doc! { "last_used_at": -1, "_id": -1 })
            .await?
            .map_ok(Into::into)
            .try_collect()
            .await?)
    }

    async fn ended_sessions_since(&self, since_ms: i64) -> Result<Vec<SessionRecord>, Error> {
        use futures::TryStreamExt;
        Ok(self
            .sessions
            .find(doc! { "ended_at": { "$gte": since_ms } })
            .sort(doc! { "ended_at": 1, "_id": 1 })
            .await?
            .map_ok(Into::into)
            .try_collect()
            .await?)
    }

    async fn end_idle_sessions(
        &self,
        idle_before_ms: i64,
        now_ms: i64,
    ) -> Result<Vec<SessionRecord>, Error> {
        let filter = doc! { "ended_at": null, "last_used_at": { "$lt": idle_before_ms } };
        self.end_all(filter, reason::EXPIRED, now_ms).await
    }

    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, Error> {
        self.keys().await
    }

    async fn signing_keys_get_or_init(
        &self,
        candidate: &SigningKeyRecord,
    ) -> Result<Vec<SigningKeyRecord>, Error> {
        let d = SigningKeyDoc {
            slot: CURRENT_KEY_SLOT.to_owned(),
            key_id: candidate.key_id.clone(),
            private_key_pem: candidate.private_key_pem.clone(),
            created_at: candidate.created_at_ms,
        };
        // Losing the insert race is the normal case for all but one replica.
        match self.signing_keys.insert_one(&d).await {
            Ok(_) => {}
            Err(e) if is_duplicate_key(&e) => {}
            Err(e) => return Err(e.into()),
        }
        let keys = self.keys().await?;
        if keys.is_empty() {
            return Err(Error::Corrupt(
                "signing key vanished right after insert".into(),
            ));
        }
        Ok(keys)
    }

    async fn rotate_signing_key(
        &self,
        next: &SigningKeyRecord,
    ) -> Result<Vec<SigningKeyRecord>, Error> {
        // Not one transaction (that needs a replica set): the order keeps a
        // current key readable at every step but the last instant.
        if let Some(current) = self
            .signing_keys
            .find_one(doc! { "_id": CURRENT_KEY_SLOT })
            .await?
        {
            let previous = SigningKeyDoc {
                slot: PREVIOUS_KEY_SLOT.to_owned(),
                ..current
            };
            self.signing_keys
                .replace_one(doc! { "_id": PREVIOUS_KEY_SLOT }, &previous)
                .upsert(true)
                .await?;
        }
        let d = SigningKeyDoc {
            slot: CURRENT_KEY_SLOT.to_owned(),
            key_id: next.key_id.clone(),
            private_key_pem: next.private_key_pem.clone(),
            created_at: next.created_at_ms,
        };
        self.signing_keys
            .replace_one(doc! { "_id": CURRENT_KEY_SLOT }, &d)
            .upsert(true)
            .await?;
        self.keys().await
    }
}
