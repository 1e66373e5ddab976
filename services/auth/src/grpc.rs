//! The `chat.auth.v1.AuthService` implementation: request validation,
//! password checks and throttling on top of [`Sessions`] and the [`Store`].
//! Who may call what is decided here from the [`Caller`] the shared layer
//! resolved (see auth.proto and docs/ARCHITECTURE.md § gRPC callers).

use std::sync::Arc;

use chat_common::caller::Caller;
use chat_common::session_sync::endings;
use chat_common::tokens::{Authority, Verifier};

use chat_common::time::{millis_to_timestamp, now_millis, timestamp_to_millis};
use chat_proto::auth::v1::auth_service_server::AuthService;
use chat_proto::auth::v1::{
    AuthResponse, ChangePasswordRequest, EndSessionRequest, EndedSessions, GetPublicKeyRequest,
    GetPublicKeysRequest, GetUserRequest, ListEndedSessionsRequest, ListSessionsRequest,
    ListSessionsResponse, LoginRequest, LogoutRequest, PublicKey, PublicKeys, RefreshRequest,
    RegisterRequest, RotateSigningKeyRequest, SetAvatarRequest, TokenPair, User, get_user_request,
};
use tonic::{Request, Response, Status};

use crate::error::Error;
use crate::keys;
use crate::password::Hasher;
use crate::sessions::Sessions;
use crate::store::{Store, UserRecord};
use crate::throttle::LoginThrottle;
use crate::tokens::ALGORITHM_NAME;
use crate::validation::{
    PASSWORD_MAX, USERNAME_MAX, username_key, validate_password, validate_username,
};

pub struct AuthServiceImpl {
    store: Arc<dyn Store>,
    sessions: Arc<Sessions>,
    hasher: Hasher,
    throttle: LoginThrottle,
    dummy_hash: String,
    /// The verifier the caller layer checks tokens with: endings made here
    /// are recorded in it at once, not at its next catch-up.
    verifier: Verifier,
}

impl AuthServiceImpl {
    pub fn new(
        sessions: Arc<Sessions>,
        verifier: Verifier,
        hasher: Hasher,
        throttle: LoginThrottle,
        dummy_hash: String,
    ) -> AuthServiceImpl {
        AuthServiceImpl {
            store: sessions.store.clone(),
            sessions,
            hasher,
            throttle,
            dummy_hash,
            verifier,
        }
    }

    /// Endings made by this call refuse their tokens from now on.
    fn ended(&self, ended: EndedSessions) -> EndedSessions {
        self.verifier.revocations.record(&endings(ended.clone()));
        ended
    }

    /// Whether `password` is `user`'s (or, for no user, costs the same).
    async fn check_password(
        &self,
        user: Option<&UserRecord>,
        password: String,
    ) -> Result<bool, Error> {
        let hash = user.map_or_else(|| self.dummy_hash.clone(), |u| u.password_hash.clone());
        let matches = self.hasher.verify(password, hash).await?;
        Ok(matches && user.is_some())
    }

    async fn login(&self, req: LoginRequest) -> Result<AuthResponse, Error> {
        let key = username_key(&req.username);
        let now = now_millis();
        self.throttle.check(&key, now)?;
        // Oversized input cannot match any account; refusing it before the
        // lookup bounds the work an attacker can ask for and reveals nothing.
        if req.username.chars().count() > USERNAME_MAX
            || req.password.chars().count() > PASSWORD_MAX
        {
            self.throttle.failed(&key, now);
            return Err(Error::InvalidCredentials);
        }
        let user = self.store.find_user_by_username(&req.username).await?;
        if !self.check_password(user.as_ref(), req.password).await? {
            self.throttle.failed(&key, now_millis());
            return Err(Error::InvalidCredentials);
        }
        let user = user.ok_or(Error::InvalidCredentials)?;
        self.throttle.succeeded(&key);
        Ok(AuthResponse {
            tokens: Some(self.sessions.start(&user, &req.user_agent).await?),
            user: Some(to_proto(user)),
        })
    }

    async fn change_password(&self, req: ChangePasswordRequest) -> Result<EndedSessions, Error> {
        let user = self
            .store
            .find_user_by_id(&req.user_id)
            .await?
            .ok_or(Error::UserNotFound)?;
        // The caller's own session must be live, or a stolen, ended token
        // could still change the password.
        match self.store.find_session(&req.session_id).await? {
            Some(s) if s.user_id == user.id && s.ended_at_ms.is_none() => {}
            _ => return Err(Error::InvalidRefreshToken),
        }
        validate_password(&req.new_password)?;
        if req.current_password.chars().count() > PASSWORD_MAX
            || !self
                .check_password(Some(&user), req.current_password)
                .await?
        {
            return Err(Error::WrongPassword);
        }
        let hash = self.hasher.hash(req.new_password).await?;
        if !self.store.set_password_hash(&user.id, &hash).await? {
            return Err(Error::UserNotFound);
        }
        tracing::info!(user_id = %user.id, "password changed");
        self.sessions.end_others(&user.id, &req.session_id).await
    }

    fn public_keys(&self) -> PublicKeys {
        public_keys(&self.sessions)
    }
}

/// The live public keys and token settings.
fn public_keys(sessions: &Sessions) -> PublicKeys {
    let issuer = &sessions.issuer;
    PublicKeys {
        keys: issuer
            .keys()
            .iter()
            .map(|k| PublicKey {
                algorithm: ALGORITHM_NAME.into(),
                public_key_pem: k.public_key_pem.clone(),
                key_id: k.key_id.clone(),
                issuer: issuer.issuer().to_owned(),
            })
            .collect(),
        access_token_ttl_secs: issuer.access_ttl().as_secs(),
        audience: issuer.audience().to_owned(),
    }
}

/// The auth service's own keys and store, for its own caller check.
pub struct LocalAuthority(pub Arc<Sessions>);

#[tonic::async_trait]
impl Authority for LocalAuthority {
    async fn public_keys(&self) -> Result<PublicKeys, Status> {
        Ok(public_keys(&self.0))
    }

    async fn ended_since(&self, since_ms: i64) -> Result<EndedSessions, Status> {
        Ok(self.0.ended_since(since_ms).await?)
    }
}

fn to_proto(user: UserRecord) -> User {
    User {
        id: user.id,
        username: user.username,
        avatar_media_id: user.avatar_media_id,
        created_at: Some(millis_to_timestamp(user.created_at_ms)),
    }
}

fn required(value: &str, what: &str) -> Result<(), Error> {
    if value.is_empty() {
        return Err(Error::InvalidArgument(format!("A {what} is required")));
    }
    Ok(())
}

#[tonic::async_trait]
impl AuthService for AuthServiceImpl {
    async fn register(
        &self,
        request: Request<RegisterRequest>,
    ) -> Result<Response<AuthResponse>, Status> {
        Caller::of(&request)?.platform_only("Register")?;
        let req = request.into_inner();
        validate_username(&req.username)?;
        validate_password(&req.password)?;
        // Cheap early answer; the unique index still decides races.
        if self
            .store
            .find_user_by_username(&req.username)
            .await?
            .is_some()
        {
            return Err(Error::UsernameTaken.into());
        }
        let user = UserRecord {
            id: uuid::Uuid::now_v7().to_string(),
            username: req.username,
            password_hash: self.hasher.hash(req.password).await?,
            avatar_media_id: None,
            created_at_ms: now_millis(),
        };
        self.store.create_user(&user).await?;
        tracing::info!(user_id = %user.id, username = %user.username, "registered");
        let tokens = self.sessions.start(&user, &req.user_agent).await?;
        Ok(Response::new(AuthResponse {
            tokens: Some(tokens),
            user: Some(to_proto(user)),
        }))
    }

    async fn login(
        &self,
        request: Request<LoginRequest>,
    ) -> Result<Response<AuthResponse>, Status> {
        Caller::of(&request)?.platform_only("Login")?;
        Ok(Response::new(self.login(request.into_inner()).await?))
    }

    async fn refresh(
        &self,
        request: Request<RefreshRequest>,
    ) -> Result<Response<TokenPair>, Status> {
        Caller::of(&request)?.platform_only("Refresh")?;
        let token = request.into_inner().refresh_token;
        Ok(Response::new(self.sessions.refresh(&token).await?))
    }

    async fn logout(
        &self,
        request: Request<LogoutRequest>,
    ) -> Result<Response<EndedSessions>, Status> {
        Caller::of(&request)?.platform_only("Logout")?;
        let req = request.into_inner();
        let ended = self
            .sessions
            .logout(&req.refresh_token, req.everywhere)
            .await?;
        Ok(Response::new(self.ended(ended)))
    }

    async fn list_sessions(
        &self,
        request: Request<ListSessionsRequest>,
    ) -> Result<Response<ListSessionsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let user_id = caller.user_id("user_id", &request.into_inner().user_id)?;
        required(&user_id, "user id")?;
        Ok(Response::new(ListSessionsResponse {
            sessions: self.sessions.list(&user_id).await?,
        }))
    }

    async fn end_session(
        &self,
        request: Request<EndSessionRequest>,
    ) -> Result<Response<EndedSessions>, Status> {
        let caller = Caller::of(&request)?;
        let mut req = request.into_inner();
        req.user_id = caller.user_id("user_id", &req.user_id)?;
        required(&req.user_id, "user id")?;
        required(&req.session_id, "session id")?;
        let ended = self.sessions.end_one(&req.user_id, &req.session_id).await?;
        Ok(Response::new(self.ended(ended)))
    }

    async fn change_password(
        &self,
        request: Request<ChangePasswordRequest>,
    ) -> Result<Response<EndedSessions>, Status> {
        let caller = Caller::of(&request)?;
        let mut req = request.into_inner();
        req.user_id = caller.user_id("user_id", &req.user_id)?;
        // A user's session is the token's: the one that goes on.
        if let Caller::User { sid, .. } = &caller {
            if !req.session_id.is_empty() && req.session_id != *sid {
                return Err(Status::permission_denied(
                    "`session_id` must be the access token's session",
                ));
            }
            req.session_id = sid.clone();
        }
        required(&req.user_id, "user id")?;
        required(&req.session_id, "session id")?;
        let ended = self.change_password(req).await?;
        Ok(Response::new(self.ended(ended)))
    }

    async fn list_ended_sessions(
        &self,
        request: Request<ListEndedSessionsRequest>,
    ) -> Result<Response<EndedSessions>, Status> {
        Caller::of(&request)?.platform_only("ListEndedSessions")?;
        let since = request
            .into_inner()
            .since
            .map_or(0, |t| timestamp_to_millis(&t));
        Ok(Response::new(self.sessions.ended_since(since).await?))
    }

    async fn get_user(&self, request: Request<GetUserRequest>) -> Result<Response<User>, Status> {
        // Any authenticated caller: names and avatars are what every chat
        // user sees of every other.
        Caller::of(&request)?;
        let user = match request.into_inner().key {
            Some(get_user_request::Key::Id(id)) => self.store.find_user_by_id(&id).await?,
            Some(get_user_request::Key::Username(name)) => {
                self.store.find_user_by_username(&name).await?
            }
            None => {
                return Err(Error::InvalidArgument(
                    "Give either a user id or a username to look up".into(),
                )
                .into());
            }
        };
        Ok(Response::new(to_proto(user.ok_or(Error::UserNotFound)?)))
    }

    async fn set_avatar(
        &self,
        request: Request<SetAvatarRequest>,
    ) -> Result<Response<User>, Status> {
        let caller = Caller::of(&request)?;
        let mut req = request.into_inner();
        req.user_id = caller.user_id("user_id", &req.user_id)?;
        required(&req.user_id, "user id")?;
        let media = Some(req.avatar_media_id.as_str()).filter(|m| !m.is_empty());
        let user = self
            .store
            .set_avatar(&req.user_id, media)
            .await?
            .ok_or(Error::UserNotFound)?;
        Ok(Response::new(to_proto(user)))
    }

    async fn get_public_key(
        &self,
        request: Request<GetPublicKeyRequest>,
    ) -> Result<Response<PublicKey>, Status> {
        // Public halves only: any authenticated caller.
        Caller::of(&request)?;
        let current = self.public_keys().keys.into_iter().next();
        Ok(Response::new(current.ok_or_else(|| {
            Status::from(Error::Key("no signing key".into()))
        })?))
    }

    async fn get_public_keys(
        &self,
        request: Request<GetPublicKeysRequest>,
    ) -> Result<Response<PublicKeys>, Status> {
        Caller::of(&request)?;
        Ok(Response::new(self.public_keys()))
    }

    async fn rotate_signing_key(
        &self,
        request: Request<RotateSigningKeyRequest>,
    ) -> Result<Response<PublicKeys>, Status> {
        Caller::of(&request)?.platform_only("RotateSigningKey")?;
        keys::rotate(self.store.as_ref(), &self.sessions.issuer).await?;
        Ok(Response::new(self.public_keys()))
    }
}
