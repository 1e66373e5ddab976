//! `/register`, `/login`, `/refresh`, `/logout` and `/me`: thin
//! translations onto the auth service.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chat_proto::auth::v1::{
    AuthResponse, GetUserRequest, LoginRequest, LogoutRequest, RefreshRequest, RegisterRequest,
    TokenPair, get_user_request,
};
use serde::Deserialize;
use serde_json::json;

use super::bearer::Bearer;
use super::json::{Json, body_error, parse};
use super::user::{PublicBase, UserView};
use crate::error::Error;
use crate::state::AppState;

/// Missing fields become empty strings so the auth service, which owns the
/// rules, words the answer (a 400 on register, a 401 on login).
#[derive(Deserialize)]
pub struct Credentials {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshBody {
    #[serde(default)]
    refresh_token: String,
}

const INVALID_CREDENTIALS: &str = "Invalid credentials";
const INVALID_REFRESH: &str = "Invalid or expired refresh token";

pub async fn register(
    State(state): State<AppState>,
    PublicBase(base): PublicBase,
    Json(body): Json<Credentials>,
) -> Result<Response, Error> {
    let res = state
        .clients
        .auth
        .clone()
        .register(RegisterRequest {
            username: body.username,
            password: body.password,
        })
        .await?
        .into_inner();
    Ok((StatusCode::CREATED, session(&state, &base, res)?).into_response())
}

pub async fn login(
    State(state): State<AppState>,
    PublicBase(base): PublicBase,
    Json(body): Json<Credentials>,
) -> Result<Response, Error> {
    // Whatever is wrong with a name or password, the answer is the same
    // sentence, so it reveals nothing about which users exist.
    let res = state
        .clients
        .auth
        .clone()
        .login(LoginRequest {
            username: body.username,
            password: body.password,
        })
        .await
        .map_err(|s| match Error::from(s) {
            Error::Unauthorized(_) | Error::InvalidInput(_) | Error::NotFound(_) => {
                Error::Unauthorized(INVALID_CREDENTIALS.into())
            }
            other => other,
        })?
        .into_inner();
    Ok(session(&state, &base, res)?.into_response())
}

pub async fn refresh(
    State(state): State<AppState>,
    Json(body): Json<RefreshBody>,
) -> Result<Response, Error> {
    if body.refresh_token.is_empty() {
        return Err(Error::Unauthorized(INVALID_REFRESH.into()));
    }
    let pair = state
        .clients
        .auth
        .clone()
        .refresh(RefreshRequest {
            refresh_token: body.refresh_token,
        })
        .await
        .map_err(|s| match Error::from(s) {
            Error::Unauthorized(_) | Error::InvalidInput(_) | Error::NotFound(_) => {
                Error::Unauthorized(INVALID_REFRESH.into())
            }
            other => other,
        })?
        .into_inner();
    Ok(axum::Json(tokens(pair)).into_response())
}

/// Always 204 unless the auth service is unreachable: logging out twice, or
/// with a token that never existed, is not the client's problem.
pub async fn logout(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, Error> {
    let body = body.map_err(body_error)?;
    let token = if body.iter().all(u8::is_ascii_whitespace) {
        String::new()
    } else {
        parse::<RefreshBody>(&body)?.refresh_token
    };
    if !token.is_empty() {
        let res = state
            .clients
            .auth
            .clone()
            .logout(LogoutRequest {
                refresh_token: token,
            })
            .await;
        if let Err(s) = res
            && let e @ (Error::Unavailable(_) | Error::Internal(_)) = Error::from(s)
        {
            return Err(e);
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

pub async fn me(
    State(state): State<AppState>,
    PublicBase(base): PublicBase,
    Bearer(claims): Bearer,
) -> Result<axum::Json<UserView>, Error> {
    let user = state
        .clients
        .auth
        .clone()
        .get_user(GetUserRequest {
            key: Some(get_user_request::Key::Id(claims.sub)),
        })
        .await
        .map_err(|s| match Error::from(s) {
            // A valid token for a user that no longer exists.
            Error::NotFound(_) => Error::Unauthorized("Authentication error".into()),
            other => other,
        })?
        .into_inner();
    Ok(axum::Json(UserView::new(&state, &base, user)))
}

fn tokens(pair: TokenPair) -> serde_json::Value {
    json!({ "token": pair.access_token, "refreshToken": pair.refresh_token })
}

/// `{token, refreshToken, user}`.
fn session(
    state: &AppState,
    base: &str,
    res: AuthResponse,
) -> Result<axum::Json<serde_json::Value>, Error> {
    let (Some(pair), Some(user)) = (res.tokens, res.user) else {
        return Err(Error::Internal(
            "auth service answered without tokens or user".into(),
        ));
    };
    let mut body = tokens(pair);
    body["user"] = json!(UserView::new(state, base, user));
    Ok(axum::Json(body))
}
