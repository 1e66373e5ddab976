//! `POST /password`, `GET /sessions` and `DELETE /sessions/{id}`
//! (PROTOCOL.md § HTTP, § Sessions): a user's view of where they are signed
//! in. Whatever these end is announced to every node at once.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chat_common::time::timestamp_to_rfc3339;
use chat_proto::auth::v1::{ChangePasswordRequest, EndSessionRequest, ListSessionsRequest};
use serde::{Deserialize, Serialize};

use super::bearer::Bearer;
use super::json::Json;
use crate::error::Error;
use crate::session_sync::endings;
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordChange {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    id: String,
    created_at: Option<String>,
    last_used_at: Option<String>,
    user_agent: String,
    current: bool,
}

/// 204; every other session of the user ends. 403 on a wrong current
/// password, 400 when the new one breaks the limits.
pub async fn change_password(
    State(state): State<AppState>,
    Bearer(claims): Bearer,
    Json(body): Json<PasswordChange>,
) -> Result<StatusCode, Error> {
    let ended = state
        .clients
        .auth
        .clone()
        .change_password(ChangePasswordRequest {
            user_id: claims.sub,
            session_id: claims.sid,
            current_password: body.current_password,
            new_password: body.new_password,
        })
        .await
        .map_err(|s| match Error::from(s) {
            Error::Forbidden(_) => Error::Forbidden("The current password is wrong".into()),
            Error::NotFound(_) => Error::Unauthorized("Authentication error".into()),
            other => other,
        })?;
    state
        .verifier
        .revocations
        .announce(endings(ended.into_inner()));
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's live sessions, most recently used first.
pub async fn list(
    State(state): State<AppState>,
    Bearer(claims): Bearer,
) -> Result<axum::Json<Vec<SessionView>>, Error> {
    let res = state
        .clients
        .auth
        .clone()
        .list_sessions(ListSessionsRequest {
            user_id: claims.sub,
        })
        .await?
        .into_inner();
    Ok(axum::Json(
        res.sessions
            .into_iter()
            .map(|s| SessionView {
                current: s.id == claims.sid,
                id: s.id,
                created_at: s.created_at.as_ref().map(timestamp_to_rfc3339),
                last_used_at: s.last_used_at.as_ref().map(timestamp_to_rfc3339),
                user_agent: s.user_agent,
            })
            .collect(),
    ))
}

/// 204; 404 when `id` is not a live session of the caller's.
pub async fn end(
    State(state): State<AppState>,
    Bearer(claims): Bearer,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    let ended = state
        .clients
        .auth
        .clone()
        .end_session(EndSessionRequest {
            user_id: claims.sub,
            session_id: id,
        })
        .await
        .map_err(|s| match Error::from(s) {
            Error::NotFound(_) | Error::InvalidInput(_) => {
                Error::NotFound("No such session of yours".into())
            }
            other => other,
        })?;
    state
        .verifier
        .revocations
        .announce(endings(ended.into_inner()));
    Ok(StatusCode::NO_CONTENT)
}
