//! The handshake middleware every namespace runs: the access token from
//! `auth.token` becomes the socket's [`Identity`], the socket is bound to
//! the token's session and expiry (`super::sessions`), and it gets its
//! state ([`Conn`]).

use std::sync::Arc;

use serde_json::Value;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{SocketRef, State, TryData};

use crate::error::Error;

use super::SocketState;
use super::budget::EventBudget;
use super::conn::{Conn, conn};
use super::departure::Departure;
use super::sequencer::Sequencer;

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
/// error` (the tutorial's messages); on success stores the socket's
/// [`Conn`].
pub async fn authenticate<A: Adapter>(
    s: SocketRef<A>,
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
    let lease = super::sessions::bind(&s, &st.expiries, &claims);
    let limits = &st.app.config.limits;
    Conn {
        me: Arc::new(Identity {
            user_id: claims.sub,
            lower: claims.username.to_ascii_lowercase(),
            username: claims.username,
            base_url: st.app.public_base().to_string(),
        }),
        lease,
        budget: EventBudget::new(limits),
        queue: Sequencer::new(limits.max_queued_events),
        departure: Departure::default(),
    }
    .insert(&s);
    Ok(())
}

/// The identity the middleware stored.
pub fn identity<A: Adapter>(s: &SocketRef<A>) -> Option<Arc<Identity>> {
    conn(s).map(|c| c.me.clone())
}
