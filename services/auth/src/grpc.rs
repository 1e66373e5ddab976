//! The `chat.auth.v1.AuthService` implementation: request validation,
//! password checks and token issuing on top of the [`Store`].

use std::sync::Arc;
use std::time::Duration;

use chat_common::time::{millis_to_timestamp, now_millis};
use chat_proto::auth::v1::auth_service_server::AuthService;
use chat_proto::auth::v1::{
    AuthResponse, GetPublicKeyRequest, GetUserRequest, LoginRequest, LogoutRequest, LogoutResponse,
    PublicKey, RefreshRequest, RegisterRequest, SetAvatarRequest, TokenPair, User,
    get_user_request,
};
use tonic::{Request, Response, Status};

use crate::error::Error;
use crate::password;
use crate::store::{Store, UserRecord};
use crate::tokens::{self, ALGORITHM_NAME, TokenIssuer};
use crate::validation::{PASSWORD_MAX, USERNAME_MAX, validate_password, validate_username};

pub struct AuthServiceImpl {
    store: Arc<dyn Store>,
    issuer: TokenIssuer,
    refresh_ttl: Duration,
    dummy_hash: String,
}

impl AuthServiceImpl {
    pub fn new(
        store: Arc<dyn Store>,
        issuer: TokenIssuer,
        refresh_ttl: Duration,
        dummy_hash: String,
    ) -> AuthServiceImpl {
        AuthServiceImpl {
            store,
            issuer,
            refresh_ttl,
            dummy_hash,
        }
    }

    async fn issue_pair(&self, user_id: &str, username: &str) -> Result<TokenPair, Error> {
        let now_ms = now_millis();
        let claims = self
            .issuer
            .claims_for(user_id, username, now_ms.div_euclid(1000));
        let access_token = self.issuer.sign(&claims)?;
        let (refresh_token, hash) = tokens::new_refresh_token();
        let ttl_ms = i64::try_from(self.refresh_ttl.as_millis()).unwrap_or(i64::MAX);
        self.store
            .insert_refresh_token(&hash, user_id, now_ms.saturating_add(ttl_ms))
            .await?;
        Ok(TokenPair {
            access_token,
            refresh_token,
            access_expires_at: Some(millis_to_timestamp(claims.exp.saturating_mul(1000))),
        })
    }

    async fn login(&self, req: LoginRequest) -> Result<AuthResponse, Error> {
        // Oversized input cannot match any account; refusing it before the
        // lookup bounds the work an attacker can ask for and reveals nothing.
        if req.username.chars().count() > USERNAME_MAX
            || req.password.chars().count() > PASSWORD_MAX
        {
            return Err(Error::InvalidCredentials);
        }
        let user = self.store.find_user_by_username(&req.username).await?;
        let hash = user
            .as_ref()
            .map_or_else(|| self.dummy_hash.clone(), |u| u.password_hash.clone());
        let matches = password::verify(req.password, hash).await?;
        match user {
            Some(user) if matches => Ok(AuthResponse {
                tokens: Some(self.issue_pair(&user.id, &user.username).await?),
                user: Some(to_proto(user)),
            }),
            _ => Err(Error::InvalidCredentials),
        }
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

#[tonic::async_trait]
impl AuthService for AuthServiceImpl {
    async fn register(
        &self,
        request: Request<RegisterRequest>,
    ) -> Result<Response<AuthResponse>, Status> {
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
            password_hash: password::hash(req.password).await?,
            avatar_media_id: None,
            created_at_ms: now_millis(),
        };
        self.store.create_user(&user).await?;
        tracing::info!(user_id = %user.id, username = %user.username, "registered");
        let tokens = self.issue_pair(&user.id, &user.username).await?;
        Ok(Response::new(AuthResponse {
            tokens: Some(tokens),
            user: Some(to_proto(user)),
        }))
    }

    async fn login(
        &self,
        request: Request<LoginRequest>,
    ) -> Result<Response<AuthResponse>, Status> {
        Ok(Response::new(self.login(request.into_inner()).await?))
    }

    async fn refresh(
        &self,
        request: Request<RefreshRequest>,
    ) -> Result<Response<TokenPair>, Status> {
        let token = request.into_inner().refresh_token;
        if token.is_empty() {
            return Err(Error::InvalidRefreshToken.into());
        }
        let hash = tokens::hash_refresh_token(&token);
        let user_id = self
            .store
            .consume_refresh_token(&hash, now_millis())
            .await?
            .ok_or(Error::InvalidRefreshToken)?;
        // A user deleted out-of-band keeps no session.
        let user = self
            .store
            .find_user_by_id(&user_id)
            .await?
            .ok_or(Error::InvalidRefreshToken)?;
        Ok(Response::new(
            self.issue_pair(&user.id, &user.username).await?,
        ))
    }

    async fn logout(
        &self,
        request: Request<LogoutRequest>,
    ) -> Result<Response<LogoutResponse>, Status> {
        let token = request.into_inner().refresh_token;
        if !token.is_empty() {
            self.store
                .revoke_refresh_token(&tokens::hash_refresh_token(&token))
                .await?;
        }
        Ok(Response::new(LogoutResponse {}))
    }

    async fn get_user(&self, request: Request<GetUserRequest>) -> Result<Response<User>, Status> {
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
        let req = request.into_inner();
        if req.user_id.is_empty() {
            return Err(Error::InvalidArgument("A user id is required".into()).into());
        }
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
        _request: Request<GetPublicKeyRequest>,
    ) -> Result<Response<PublicKey>, Status> {
        let key = self.issuer.key();
        Ok(Response::new(PublicKey {
            algorithm: ALGORITHM_NAME.into(),
            public_key_pem: key.public_key_pem.clone(),
            key_id: key.key_id.clone(),
            issuer: self.issuer.issuer().to_owned(),
        }))
    }
}
