//! Sessions (PROTOCOL.md § Sessions): starting one at every login, rotating
//! its refresh token, ending it for each reason, and the idle sweep. The
//! gRPC layer ([`crate::grpc`]) only translates to and from these.

use std::sync::Arc;
use std::time::Duration;

use chat_common::time::{millis_to_timestamp, now_millis};
use chat_proto::auth::v1::{EndedSession, EndedSessions, Session, TokenPair};

use crate::error::Error;
use crate::store::{NewRefreshToken, Rotation, SessionRecord, Store, UserRecord, reason};
use crate::tokens::{self, TokenIssuer};

/// A user agent longer than this is cut (it is only shown in a list).
const USER_AGENT_MAX: usize = 256;
/// How often sessions idle past the refresh-token lifetime are ended.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

pub struct Sessions {
    pub store: Arc<dyn Store>,
    pub issuer: Arc<TokenIssuer>,
    pub refresh_ttl: Duration,
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Sessions {
    fn new_refresh(&self, now_ms: i64) -> (String, NewRefreshToken) {
        let (token, hash) = tokens::new_refresh_token();
        let record = NewRefreshToken {
            hash,
            expires_at_ms: now_ms.saturating_add(ms(self.refresh_ttl)),
        };
        (token, record)
    }

    fn access(
        &self,
        user_id: &str,
        username: &str,
        sid: &str,
        refresh_token: String,
        now_ms: i64,
    ) -> Result<TokenPair, Error> {
        let claims = self
            .issuer
            .claims_for(user_id, username, sid, now_ms.div_euclid(1000));
        Ok(TokenPair {
            access_token: self.issuer.sign(&claims)?,
            refresh_token,
            access_expires_at: Some(millis_to_timestamp(claims.exp.saturating_mul(1000))),
        })
    }

    /// A new session for `user`, with its first token pair.
    pub async fn start(&self, user: &UserRecord, user_agent: &str) -> Result<TokenPair, Error> {
        let now = now_millis();
        let session = SessionRecord {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: user.id.clone(),
            created_at_ms: now,
            last_used_at_ms: now,
            user_agent: user_agent.chars().take(USER_AGENT_MAX).collect(),
            ended_at_ms: None,
            end_reason: None,
        };
        let (token, record) = self.new_refresh(now);
        self.store.create_session(&session, &record).await?;
        tracing::info!(user_id = %user.id, session = %session.id, "session started");
        self.access(&user.id, &user.username, &session.id, token, now)
    }

    /// Rotates `refresh_token` within its session.
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenPair, Error> {
        if refresh_token.is_empty() {
            return Err(Error::InvalidRefreshToken);
        }
        let now = now_millis();
        let (token, next) = self.new_refresh(now);
        let hash = tokens::hash_refresh_token(refresh_token);
        let session = match self.store.rotate_refresh_token(&hash, &next, now).await? {
            Rotation::Rotated(s) => s,
            Rotation::Replayed(s) => {
                tracing::warn!(user_id = %s.user_id, session = %s.id,
                    "a used refresh token was presented again: session ended");
                return Err(Error::Replayed {
                    session_id: s.id,
                    user_id: s.user_id,
                });
            }
            Rotation::Invalid => return Err(Error::InvalidRefreshToken),
        };
        // A user deleted out-of-band keeps no session.
        let Some(user) = self.store.find_user_by_id(&session.user_id).await? else {
            self.store
                .end_session(&session.id, reason::REVOKED, now)
                .await?;
            return Err(Error::InvalidRefreshToken);
        };
        self.access(&user.id, &user.username, &session.id, token, now)
    }

    /// Ends the session of `refresh_token` (every session of its user with
    /// `everywhere`). An unknown token ends nothing.
    pub async fn logout(
        &self,
        refresh_token: &str,
        everywhere: bool,
    ) -> Result<EndedSessions, Error> {
        if refresh_token.is_empty() {
            return Ok(EndedSessions::default());
        }
        let hash = tokens::hash_refresh_token(refresh_token);
        let Some(session) = self.store.session_of_refresh_token(&hash).await? else {
            return Ok(EndedSessions::default());
        };
        let now = now_millis();
        let ended = if everywhere {
            self.store
                .end_user_sessions(&session.user_id, None, reason::LOGOUT, now)
                .await?
        } else {
            self.store
                .end_session(&session.id, reason::LOGOUT, now)
                .await?
                .into_iter()
                .collect()
        };
        Ok(ended_list(ended))
    }

    pub async fn list(&self, user_id: &str) -> Result<Vec<Session>, Error> {
        let idle_before = now_millis().saturating_sub(ms(self.refresh_ttl));
        let live = self.store.list_live_sessions(user_id, idle_before).await?;
        Ok(live
            .into_iter()
            .map(|s| Session {
                id: s.id,
                user_id: s.user_id,
                created_at: Some(millis_to_timestamp(s.created_at_ms)),
                last_used_at: Some(millis_to_timestamp(s.last_used_at_ms)),
                user_agent: s.user_agent,
            })
            .collect())
    }

    /// Ends one live session of `user_id`; `SessionNotFound` otherwise.
    pub async fn end_one(&self, user_id: &str, session_id: &str) -> Result<EndedSessions, Error> {
        match self.store.find_session(session_id).await? {
            Some(s) if s.user_id == user_id && s.ended_at_ms.is_none() => {}
            _ => return Err(Error::SessionNotFound),
        }
        let ended = self
            .store
            .end_session(session_id, reason::REVOKED, now_millis())
            .await?
            .ok_or(Error::SessionNotFound)?;
        Ok(ended_list(vec![ended]))
    }

    /// Every session of the user but `keep` ends (a password change).
    pub async fn end_others(&self, user_id: &str, keep: &str) -> Result<EndedSessions, Error> {
        let ended = self
            .store
            .end_user_sessions(user_id, Some(keep), reason::PASSWORD, now_millis())
            .await?;
        Ok(ended_list(ended))
    }

    pub async fn ended_since(&self, since_ms: i64) -> Result<EndedSessions, Error> {
        Ok(ended_list(self.store.ended_sessions_since(since_ms).await?))
    }

    /// Ends sessions idle past the refresh-token lifetime, every minute.
    pub fn spawn_sweeper(self: &Arc<Self>) {
        let this = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(SWEEP_EVERY);
            loop {
                tick.tick().await;
                let now = now_millis();
                let idle_before = now.saturating_sub(ms(this.refresh_ttl));
                match this.store.end_idle_sessions(idle_before, now).await {
                    Ok(ended) if !ended.is_empty() => {
                        tracing::info!(count = ended.len(), "idle sessions ended");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "idle-session sweep failed"),
                }
            }
        });
    }
}

fn ended_list(ended: Vec<SessionRecord>) -> EndedSessions {
    EndedSessions {
        sessions: ended
            .into_iter()
            .map(|s| EndedSession {
                session_id: s.id,
                user_id: s.user_id,
                reason: s.end_reason.unwrap_or_default(),
                ended_at: Some(millis_to_timestamp(s.ended_at_ms.unwrap_or_default())),
            })
            .collect(),
    }
}
