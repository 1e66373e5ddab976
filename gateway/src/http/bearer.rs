//! `Authorization: Bearer <access token>`, verified with the auth service's
//! public keys and refused once its session ended. Runs before the body is read, so an unauthenticated upload
//! is refused without receiving the file.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::error::Error;
use crate::state::AppState;
use crate::token::Claims;

/// The verified claims of the request's access token.
pub struct Bearer(pub Claims);

impl FromRequestParts<AppState> for Bearer {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(token_of)
            .ok_or_else(|| Error::Unauthorized("No token provided".into()))?;
        state.verifier.verify(token).await.map(Bearer)
    }
}

/// The token of a `Bearer` authorization value (scheme case-insensitive).
fn token_of(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::token_of;

    #[test]
    fn reads_bearer_tokens_only() {
        assert_eq!(token_of("Bearer abc"), Some("abc"));
        assert_eq!(token_of("bearer  abc "), Some("abc"));
        assert_eq!(token_of("Basic abc"), None);
        assert_eq!(token_of("Bearer "), None);
        assert_eq!(token_of("abc"), None);
    }
}
