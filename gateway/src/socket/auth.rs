//! The handshake middleware every namespace runs: the access token from
//! `auth.token` becomes the socket's [`Identity`], and the socket is bound
//! to the token's session and expiry (`super::sessions`).

use std::sync::Arc;

use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{SocketRef, State, TryData};

use crate::error::Error;

use super::SocketState;

/// Who is behind a socket, fixed at the handshake.
#[derive(Debug, Clone)]
pub struct Identity {
    pub user_id: String,
    /// As registered.
    pub username: String,
    pub lower: String,
    /// Base for media URLs handed to this socket (`PUBLIC_URL` or empty).
    pub base_url: String,
}

/// Refuses the connection with `No token provided` or `Authentication
/// error` (the tutorial's messages); on success stores the [`Identity`] in
/// the socket's extensions.
pub async fn authenticate<A: Adapter>(
    s: SocketRef<A>,
    io: SocketIo<A>,
    State(st): State<SocketState>,
    TryData(auth): TryData<Value>,
) -> Result<(), Error> {
    let token = match auth.ok().as_ref().and_then(|a| a.get("token")) {
        None | Some(Value::Null) => None,
        Some(Value::String(t)) if t.is_empty() => None,
        Some(Value::String(t)) => Some(t.clone()),
        Some(_) => return Err(Error::Unauthorized("Authentication error".into())),
    };
    let Some(token) = token else {
        metrics::counter!("chat_socket_auth_failures_total", "reason" => "missing").increment(1);
        return Err(Error::Unauthorized("No token provided".into()));
    };
    let claims = st.app.verifier.verify(&token).await.inspect_err(|_| {
        metrics::counter!("chat_socket_auth_failures_total", "reason" => "invalid").increment(1);
    })?;
    super::sessions::bind(&s, io, &claims);
    let base_url = st.app.public_base().to_string();
    s.extensions.insert(Arc::new(Identity {
        user_id: claims.sub,
        lower: claims.username.to_ascii_lowercase(),
        username: claims.username,
        base_url,
    }));
    Ok(())
}

/// The identity the middleware stored.
pub fn identity<A: Adapter>(s: &SocketRef<A>) -> Option<Arc<Identity>> {
    s.extensions.get::<Arc<Identity>>()
}
