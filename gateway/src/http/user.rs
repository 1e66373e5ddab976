//! The `user` object clients see, and the base URL its links are built on.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chat_proto::auth::v1::User;
use serde::Serialize;

use crate::state::AppState;

/// `{id, username, avatar}` with `avatar` a URL or `null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub avatar: Option<String>,
}

impl UserView {
    pub fn new(state: &AppState, base: &str, user: User) -> Self {
        let avatar = user
            .avatar_media_id
            .filter(|id| !id.is_empty())
            .map(|id| state.media_url(base, &id));
        Self {
            id: user.id,
            username: user.username,
            avatar,
        }
    }
}

/// The base URL for links in this response (see [`AppState::public_base`]):
/// configuration only, whatever the request's headers say.
pub struct PublicBase(pub String);

impl FromRequestParts<AppState> for PublicBase {
    type Rejection = Infallible;

    async fn from_request_parts(_: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        Ok(PublicBase(state.public_base().to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[tokio::test]
    async fn avatar_is_a_media_url_or_null() {
        let state = AppState::new(Config::from_lookup(|_| None).unwrap()).unwrap();
        let user = |avatar: Option<&str>| User {
            id: "u1".into(),
            username: "Alice".into(),
            avatar_media_id: avatar.map(str::to_string),
            created_at: None,
        };
        let with = UserView::new(&state, "http://h:5000", user(Some("m1")));
        assert_eq!(
            serde_json::to_value(with).unwrap(),
            serde_json::json!({"id": "u1", "username": "Alice", "avatar": "http://h:5000/media/m1"})
        );
        for none in [None, Some("")] {
            let v = serde_json::to_value(UserView::new(&state, "http://h", user(none))).unwrap();
            assert_eq!(v["avatar"], serde_json::Value::Null);
        }
    }
}
