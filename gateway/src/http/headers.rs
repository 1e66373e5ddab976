//! Security headers on every response (PROTOCOL.md § Browsers): `nosniff`,
//! a `Referrer-Policy`, and the web app's `Content-Security-Policy`.
//! A handler that sets its own (media downloads: `default-src 'none';
//! sandbox`) keeps it.
//!
//! The app's policy goes on every response rather than on HTML alone: a
//! JSON or Socket.IO answer does not need one, but it costs nothing there
//! and no route can then forget it.

use axum::http::{HeaderName, HeaderValue, header};
use tower::ServiceBuilder;
use tower::layer::util::{Identity, Stack};
use tower_http::set_header::SetResponseHeaderLayer;

/// Links out of the app must not carry the room or message in the URL.
const REFERRER_POLICY: &str = "no-referrer";

/// The policy of the web app's pages. Everything comes from the app's own
/// origin (`'self'` covers `ws:`/`wss:` to it too, so the Socket.IO
/// connection works); `data:` images for the inline favicon; `blob:` for
/// previews of files being uploaded. `public_url`, when the links point
/// elsewhere (a separate media host), is allowed for images and downloads.
pub fn app_csp(public_url: Option<&str>) -> String {
    let extra = public_url
        .and_then(origin_of)
        .map(|o| format!(" {o}"))
        .unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; \
         img-src 'self' data: blob:{extra}; media-src 'self' blob:{extra}; \
         connect-src 'self'{extra}; font-src 'self' data:; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// `scheme://host[:port]` of a URL, when it is one a CSP can name.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let ok = matches!(scheme, "http" | "https")
        && !authority.is_empty()
        && authority
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    ok.then(|| format!("{scheme}://{authority}"))
}

/// The three headers, each set unless the response has it.
pub type Layers = ServiceBuilder<Stack<Set, Stack<Set, Stack<Set, Identity>>>>;
type Set = SetResponseHeaderLayer<HeaderValue>;

pub fn layers(public_url: Option<&str>) -> Layers {
    let csp = HeaderValue::from_str(&app_csp(public_url))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"));
    let set = |name: HeaderName, value: HeaderValue| Set::if_not_present(name, value);
    ServiceBuilder::new()
        .layer(set(
            header::REFERRER_POLICY,
            HeaderValue::from_static(REFERRER_POLICY),
        ))
        .layer(set(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(set(header::CONTENT_SECURITY_POLICY, csp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_app_policy_has_the_required_directives() {
        let csp = app_csp(None);
        for d in [
            "default-src 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
            "base-uri 'none'",
        ] {
            assert!(csp.contains(d), "{csp}");
        }
        assert!(!csp.contains("unsafe"), "{csp}");
        let with = app_csp(Some("https://media.example.org/base"));
        assert!(
            with.contains("img-src 'self' data: blob: https://media.example.org;"),
            "{with}"
        );
        // Anything that is not a plain origin is left out rather than pasted in.
        assert_eq!(app_csp(Some("https://x.test; script-src *")), app_csp(None));
    }
}
