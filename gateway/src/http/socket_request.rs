//! What engineioxide gets of a Socket.IO request: the method, version and
//! URI, the two headers it reads, and hyper's upgrade handle. Nothing else.
//!
//! engineioxide keeps the handshake request's `http::request::Parts` for
//! the whole life of the session, though it reads only the query string,
//! `Sec-WebSocket-Key` (the upgrade's answer) and `Content-Type` (a polling
//! `POST`). Everything else the request brought (a browser's dozen headers,
//! the original URI and request id that earlier layers added as
//! extensions) would be held by every open socket. And hyper parses in
//! place: the URI and each header value are `Bytes` slices of the
//! connection's read buffer (8 KiB or more), so anything kept as parsed
//! pins that buffer long after the connection became a websocket. The
//! request is therefore rebuilt from copies of the few parts engineioxide
//! reads.
//!
//! The layer sits right outside the Socket.IO layer (`socket::attach`),
//! after the origin check, CORS and tracing have read what they need.

use axum::http::header::{CONTENT_TYPE, SEC_WEBSOCKET_KEY};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Request, Uri};
use bytes::Bytes;
use hyper::upgrade::OnUpgrade;
use tower::util::MapRequestLayer;

/// Where engineioxide answers; `socket::attach` configures the same path.
pub const SOCKET_IO_PATH: &str = "/socket.io";

/// The headers engineioxide reads.
const READ: [HeaderName; 2] = [SEC_WEBSOCKET_KEY, CONTENT_TYPE];

pub fn layer<B>() -> MapRequestLayer<fn(Request<B>) -> Request<B>> {
    MapRequestLayer::new(trim)
}

/// A Socket.IO request, rebuilt; any other request as it is.
fn trim<B>(req: Request<B>) -> Request<B> {
    if !req.uri().path().starts_with(SOCKET_IO_PATH) {
        return req;
    }
    let (mut parts, body) = req.into_parts();
    let mut trimmed = Request::new(body);
    *trimmed.method_mut() = parts.method;
    *trimmed.version_mut() = parts.version;
    *trimmed.uri_mut() = owned_uri(parts.uri);
    *trimmed.headers_mut() = owned_headers(&parts.headers);
    if let Some(upgrade) = parts.extensions.remove::<OnUpgrade>() {
        trimmed.extensions_mut().insert(upgrade);
    }
    trimmed
}

/// The URI in a buffer of its own; the original if the copy would not
/// parse back identically.
fn owned_uri(uri: Uri) -> Uri {
    match Uri::from_maybe_shared(Bytes::from(uri.to_string())) {
        Ok(copy) if copy == uri => copy,
        _ => uri,
    }
}

/// Copies of the headers engineioxide reads, in a map of their size (none
/// allocated when neither is there).
fn owned_headers(headers: &HeaderMap) -> HeaderMap {
    let kept = READ.iter().map(|name| headers.get_all(name).iter().count());
    let mut owned = HeaderMap::with_capacity(kept.sum());
    for name in &READ {
        for value in headers.get_all(name) {
            if let Ok(mut copy) = HeaderValue::from_bytes(value.as_bytes()) {
                copy.set_sensitive(value.is_sensitive());
                owned.append(name.clone(), copy);
            }
        }
    }
    owned
}

#[cfg(test)]
mod tests {
    use axum::extract::OriginalUri;
    use axum::http::{Method, Version, header};

    use super::*;

    /// A request built the way hyper builds one: URI and values are slices
    /// of a larger read buffer; an earlier layer added an extension.
    fn parsed_in_place(path: &str, read_buf: &Bytes) -> Request<()> {
        let text = std::str::from_utf8(read_buf).unwrap();
        let slice = |s: &str| {
            let at = text.find(s).unwrap();
            read_buf.slice(at..at + s.len())
        };
        let mut req = Request::builder()
            .method(Method::POST)
            .version(Version::HTTP_11)
            .uri(Uri::from_maybe_shared(slice(path)).unwrap())
            .body(())
            .unwrap();
        let original = OriginalUri(req.uri().clone());
        req.extensions_mut().insert(original);
        let headers = req.headers_mut();
        let mut header = |name, value| {
            headers.append(name, HeaderValue::from_maybe_shared(slice(value)).unwrap());
        };
        header(header::HOST, "chat.example:8080");
        header(header::USER_AGENT, "Mozilla/5.0 (X11; Linux x86_64)");
        header(header::SEC_WEBSOCKET_KEY, "dGhlIHNhbXBsZSBub25jZQ==");
        header(header::CONTENT_TYPE, "text/plain;charset=UTF-8");
        req
    }

    fn read_buffer(path: &str) -> Bytes {
        let mut text = format!(
            "POST {path} HTTP/1.1\r\nHost: chat.example:8080\r\n\
             User-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Content-Type: text/plain;charset=UTF-8\r\n\r\n"
        )
        .into_bytes();
        text.resize(8192, 0);
        Bytes::from(text)
    }

    #[test]
    fn a_socket_io_request_keeps_only_what_engineioxide_reads() {
        let path = "/socket.io/?EIO=4&transport=polling&sid=abc";
        let read_buf = read_buffer(path);
        let before = parsed_in_place(path, &read_buf);
        let after = trim(parsed_in_place(path, &read_buf));

        assert_eq!(after.method(), Method::POST);
        assert_eq!(after.version(), Version::HTTP_11);
        assert_eq!(after.uri(), before.uri());
        assert_eq!(after.uri().query(), Some("EIO=4&transport=polling&sid=abc"));
        assert_eq!(after.headers().len(), 2);
        assert_eq!(
            after.headers()[header::SEC_WEBSOCKET_KEY],
            before.headers()[header::SEC_WEBSOCKET_KEY]
        );
        assert_eq!(
            after.headers()[header::CONTENT_TYPE],
            before.headers()[header::CONTENT_TYPE]
        );
        assert!(after.extensions().get::<OriginalUri>().is_none());
        drop(before);
        // Unique again: nothing in `after` still points into it.
        assert!(read_buf.try_into_mut().is_ok());
    }

    #[test]
    fn other_requests_are_left_as_parsed() {
        let path = "/login";
        let read_buf = read_buffer(path);
        let req = trim(parsed_in_place(path, &read_buf));
        assert_eq!(req.uri().path(), "/login");
        assert_eq!(req.headers().len(), 4);
        assert!(req.extensions().get::<OriginalUri>().is_some());
        assert!(read_buf.try_into_mut().is_err());
    }
}
