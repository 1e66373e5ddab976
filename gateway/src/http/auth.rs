//! `/register`, `/login`, `/refresh`, `/logout` and `/me`: thin
//! translations onto the auth service. Sessions this node ends are
//! announced at once ([`crate::revocations::Revocations::announce`]).

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::header::{RETRY_AFTER, USER_AGENT};
use axum::http::{HeaderMap, StatusCode};
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
use crate::revocations::Ending;
use crate::session_sync::endings;
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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogoutBody {
    #[serde(default)]
    refresh_token: String,
    #[serde(default)]
    everywhere: bool,
}

/// The client's `User-Agent`, shown in its session list.
pub fn user_agent(headers: &HeaderMap) -> String {
    headers
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// A throttled login (429) or saturated password hashing (503) keeps the
/// auth service's sentence and its `Retry-After`; `None` for anything else.
pub fn retry_later(status: &tonic::Status) -> Option<Response> {
    let code = match status.code() {
        tonic::Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        tonic::Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => return None,
    };
    let after = status.metadata().get("retry-after")?.to_str().ok()?;
    let after: u64 = after.parse().ok()?;
    Some(
        (
            code,
            [(RETRY_AFTER, after.to_string())],
            axum::Json(json!({ "error": status.message() })),
        )
            .into_response(),
    )
}

const INVALID_CREDENTIALS: &str = "Invalid credentials";
const INVALID_REFRESH: &str = "Invalid or expired refresh token";

pub async fn register(
    State(state): State<AppState>,
    PublicBase(base): PublicBase,
    headers: HeaderMap,
    Json(body): Json<Credentials>,
) -> Result<Response, Error> {
    let res = state
        .clients
        .auth
        .clone()
        .register(RegisterRequest {
            username: body.username,
            password: body.password,
            user_agent: user_agent(&headers),
        })
        .await;
    let res = match res {
        Ok(r) => r.into_inner(),
        Err(s) => return retry_later(&s).ok_or_else(|| Error::from(s)),
    };
    Ok((StatusCode::CREATED, session(&state, &base, res)?).into_response())
}

pub async fn login(
    State(state): State<AppState>,
    PublicBase(base): PublicBase,
    headers: HeaderMap,
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
            user_agent: user_agent(&headers),
        })
        .await;
    let res = match res {
        Ok(r) => r.into_inner(),
        Err(s) => {
            if let Some(later) = retry_later(&s) {
                return Ok(later);
            }
            return Err(match Error::from(s) {
                Error::Unauthorized(_) | Error::InvalidInput(_) | Error::NotFound(_) => {
                    Error::Unauthorized(INVALID_CREDENTIALS.into())
                }
                other => other,
            });
        }
    };
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
        .inspect_err(|s| replayed(&state, s))
        .map_err(|s| match Error::from(s) {
            Error::Unauthorized(_) | Error::InvalidInput(_) | Error::NotFound(_) => {
                Error::Unauthorized(INVALID_REFRESH.into())
            }
            other => other,
        })?
        .into_inner();
    Ok(axum::Json(tokens(pair)).into_response())
}

/// A refresh token presented again ended its session in the auth service:
/// every node must drop that session's sockets now.
fn replayed(state: &AppState, status: &tonic::Status) {
    let meta = |k| {
        status
            .metadata()
            .get(k)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    if let (Some(session_id), Some(user_id)) = (meta("ended-session-id"), meta("ended-user-id")) {
        state.verifier.revocations.announce(vec![Ending {
            session_id,
            user_id,
            reason: "replayed".into(),
            ended_at_ms: chat_common::time::now_millis(),
        }]);
    }
}

/// Always 204 unless the auth service is unreachable: logging out twice, or
/// with a token that never existed, is not the client's problem.
pub async fn logout(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, Error> {
    let body = body.map_err(body_error)?;
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        LogoutBody {
            refresh_token: String::new(),
            everywhere: false,
        }
    } else {
        parse::<LogoutBody>(&body)?
    };
    if !body.refresh_token.is_empty() {
        let res = state
            .clients
            .auth
            .clone()
            .logout(LogoutRequest {
                refresh_token: body.refresh_token,
                everywhere: body.everywhere,
            })
            .await;
        match res {
            Ok(ended) => state
                .verifier
                .revocations
                .announce(endings(ended.into_inner())),
            Err(s) => {
                if let e @ (Error::Unavailable(_) | Error::Internal(_)) = Error::from(s) {
                    return Err(e);
                }
            }
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
