//! Who is calling a gRPC service, decided once for every route by
//! [`CallerLayer`] (health and reflection excepted) and handed to the RPC
//! handlers as a [`Caller`] in the request extensions. Handlers take the
//! acting identity only from it ([`Caller::username`], [`Caller::user_id`],
//! [`Caller::platform_only`]), never from what the request body claims.
//!
//! Two kinds of caller exist:
//! - an end user, by `authorization: Bearer <access token>` metadata: the
//!   same Ed25519 tokens, `kid`, `aud` and ended-session rules as the
//!   gateway ([`Verifier`]);
//! - the platform (the gateway, or a service calling another), only on a
//!   TLS connection whose client certificate the private CA signed
//!   ([`crate::tls`]); it may name the user it acts for in `x-chat-user`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tonic::Status;
use tower::{Layer, Service};

use crate::tls::Peer;
use crate::tokens::{Refused, Verifier};

/// Metadata by which the platform names the user it acts for (optional:
/// without it the platform may act for whichever user a request names).
pub const ACTING_FOR: &str = "x-chat-user";

/// What to send, told to every caller without a credential.
pub const HOW_TO_AUTHENTICATE: &str = "send `authorization: Bearer <access token>` metadata \
(get a token with POST /login on the gateway) or use the platform's client certificate";

/// `message` with `authorization: Bearer <token>` metadata: how a user's
/// client calls a service directly (`grpcurl -H "authorization: Bearer …"`).
pub fn bearer<T>(message: T, token: &str) -> Result<tonic::Request<T>, Status> {
    let mut request = tonic::Request::new(message);
    let value = format!("Bearer {token}")
        .parse()
        .map_err(|_| Status::invalid_argument("an access token is printable ASCII"))?;
    request.metadata_mut().insert("authorization", value);
    Ok(request)
}

/// The authenticated caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// An end user, by access token.
    User {
        user_id: String,
        username: String,
        sid: String,
    },
    /// The platform, by client certificate; `acting_for` from [`ACTING_FOR`].
    Platform { acting_for: Option<String> },
}

fn denied(field: &str) -> Status {
    Status::permission_denied(format!(
        "`{field}` must name the calling user (the one the access token is for)"
    ))
}

impl Caller {
    /// The caller the layer put on `request`. Its absence is a wiring bug,
    /// answered as `UNAUTHENTICATED` rather than trusted.
    pub fn of<T>(request: &tonic::Request<T>) -> Result<Caller, Status> {
        request
            .extensions()
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| Status::unauthenticated(HOW_TO_AUTHENTICATE))
    }

    /// The username a request acts as, given what its field `field` names
    /// (empty: the caller's own). A user may act only as themselves
    /// (usernames match ignoring case, as they are unique that way); the
    /// platform as the user it acts for, or as the named one.
    pub fn username(&self, field: &str, named: &str) -> Result<String, Status> {
        match self {
            Caller::User { username, .. } => {
                if named.is_empty() || named.to_lowercase() == username.to_lowercase() {
                    Ok(username.clone())
                } else {
                    Err(denied(field))
                }
            }
            Caller::Platform {
                acting_for: Some(user),
            } => {
                if named.is_empty() || named.to_lowercase() == user.to_lowercase() {
                    Ok(user.clone())
                } else {
                    Err(denied(field))
                }
            }
            Caller::Platform { acting_for: None } => Ok(named.to_owned()),
        }
    }

    /// As [`Caller::username`], for fields holding a user id (exact match).
    pub fn user_id(&self, field: &str, named: &str) -> Result<String, Status> {
        match self {
            Caller::User { user_id, .. } => {
                if named.is_empty() || named == user_id {
                    Ok(user_id.clone())
                } else {
                    Err(denied(field))
                }
            }
            Caller::Platform {
                acting_for: Some(user),
            } => {
                if named.is_empty() || named == user {
                    Ok(user.clone())
                } else {
                    Err(denied(field))
                }
            }
            Caller::Platform { acting_for: None } => Ok(named.to_owned()),
        }
    }

    /// Refuses users: `what` is for the platform alone.
    pub fn platform_only(&self, what: &str) -> Result<(), Status> {
        match self {
            Caller::Platform { .. } => Ok(()),
            Caller::User { .. } => Err(Status::permission_denied(format!(
                "{what} is for the platform only (its client certificate), not for a user's access token"
            ))),
        }
    }
}

/// Routes open to anyone: whether the process is up, and what it serves.
fn is_open(path: &str) -> bool {
    path.starts_with("/grpc.health.v1.Health/")
        || path.starts_with("/grpc.reflection.v1.ServerReflection/")
        || path.starts_with("/grpc.reflection.v1alpha.ServerReflection/")
}

/// What the caller check reads of a request (owned, so the request body
/// need not be shared across the await).
struct Presented {
    authorization: Option<http::HeaderValue>,
    acting_for: Option<http::HeaderValue>,
    platform: bool,
}

impl Presented {
    fn of<B>(req: &http::Request<B>) -> Presented {
        Presented {
            authorization: req.headers().get(http::header::AUTHORIZATION).cloned(),
            acting_for: req.headers().get(ACTING_FOR).cloned(),
            platform: req.extensions().get::<Peer>().is_some_and(|p| p.platform),
        }
    }
}

/// Resolves the caller of a request from its metadata and connection.
async fn resolve(verifier: &Verifier, req: Presented) -> Result<Caller, Status> {
    if let Some(value) = &req.authorization {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Status::unauthenticated(format!(
                    "the authorization metadata must read `Bearer <access token>`; {HOW_TO_AUTHENTICATE}"
                ))
            })?;
        return match verifier.verify(token).await {
            Ok(claims) => Ok(Caller::User {
                user_id: claims.sub,
                username: claims.username,
                sid: claims.sid,
            }),
            Err(Refused::Invalid) => Err(Status::unauthenticated(
                "invalid or expired access token, or its session ended: log in again (POST /login on the gateway) or refresh it",
            )),
            Err(Refused::NotReady) => Err(Status::unavailable(
                "the service does not know the auth service's public keys yet; try again shortly",
            )),
        };
    }
    if req.platform {
        let acting_for = req
            .acting_for
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned);
        return Ok(Caller::Platform { acting_for });
    }
    Err(Status::unauthenticated(format!(
        "no credential: {HOW_TO_AUTHENTICATE}"
    )))
}

/// The tower layer `crate::grpc::serve` puts around every service.
#[derive(Clone)]
pub struct CallerLayer {
    verifier: Verifier,
}

impl CallerLayer {
    pub fn new(verifier: Verifier) -> CallerLayer {
        CallerLayer { verifier }
    }
}

impl<S> Layer<S> for CallerLayer {
    type Service = CallerService<S>;

    fn layer(&self, inner: S) -> CallerService<S> {
        CallerService {
            inner,
            verifier: self.verifier.clone(),
        }
    }
}

#[derive(Clone)]
pub struct CallerService<S> {
    inner: S,
    verifier: Verifier,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, R> Service<http::Request<B>> for CallerService<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>> + Clone + Send + 'static,
    S::Future: Send,
    B: Send + 'static,
    R: Default,
{
    type Response = http::Response<R>;
    type Error = S::Error;
    type Future = BoxFuture<Result<http::Response<R>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        // The clone is the one not yet polled ready; the ready one serves
        // this request.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        if is_open(req.uri().path()) {
            return Box::pin(inner.call(req));
        }
        let verifier = self.verifier.clone();
        let presented = Presented::of(&req);
        let path = req.uri().path().to_owned();
        Box::pin(async move {
            match resolve(&verifier, presented).await {
                Ok(caller) => {
                    req.extensions_mut().insert(caller);
                    inner.call(req).await
                }
                Err(status) => {
                    tracing::debug!(%path, code = ?status.code(), "gRPC caller refused");
                    Ok(status.into_http())
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> Caller {
        Caller::User {
            user_id: "u1".into(),
            username: "Alice".into(),
            sid: "s1".into(),
        }
    }

    #[test]
    fn a_user_acts_only_as_themselves() {
        let c = user();
        assert_eq!(c.username("sender", "").unwrap(), "Alice");
        assert_eq!(c.username("sender", "alice").unwrap(), "Alice");
        let e = c.username("sender", "bob").unwrap_err();
        assert_eq!(e.code(), tonic::Code::PermissionDenied);
        assert_eq!(c.user_id("user_id", "u1").unwrap(), "u1");
        assert!(c.user_id("user_id", "u2").is_err());
        assert!(c.platform_only("RotateSigningKey").is_err());
    }

    #[test]
    fn the_platform_acts_for_the_named_user_or_whom_it_says() {
        let free = Caller::Platform { acting_for: None };
        assert_eq!(free.username("sender", "bob").unwrap(), "bob");
        assert!(free.platform_only("x").is_ok());
        let bound = Caller::Platform {
            acting_for: Some("bob".into()),
        };
        assert_eq!(bound.username("sender", "").unwrap(), "bob");
        assert_eq!(bound.username("sender", "BOB").unwrap(), "bob");
        assert!(bound.username("sender", "carol").is_err());
    }

    #[test]
    fn only_health_and_reflection_are_open() {
        assert!(is_open("/grpc.health.v1.Health/Check"));
        assert!(is_open(
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
        ));
        assert!(!is_open("/chat.auth.v1.AuthService/Login"));
    }
}
