//! Copies a Socket.IO request's URI and header values out of hyper's
//! connection read buffer before anything keeps them.
//!
//! hyper parses a request in place: every header value and the URI are
//! `Bytes` slices of the connection's read buffer (8 KiB or more). engineioxide
//! keeps the handshake request's `http::request::Parts` for the whole life of
//! the session, so each open socket would pin that buffer long after the
//! connection became a websocket. Re-owning the few hundred bytes that matter
//! lets the buffer go. Ordinary HTTP requests are left alone: they end with
//! their response.

use axum::extract::OriginalUri;
use axum::http::{HeaderValue, Request, Uri};
use bytes::Bytes;
use tower::util::MapRequestLayer;

/// Where engineioxide answers; `socket::attach` configures the same path.
pub const SOCKET_IO_PATH: &str = "/socket.io";

/// The layer; it must run before the Socket.IO layer and before any layer
/// that copies headers into extensions (the request id).
pub fn layer() -> MapRequestLayer<fn(axum::extract::Request) -> axum::extract::Request> {
    MapRequestLayer::new(detach)
}

fn detach<B>(mut req: Request<B>) -> Request<B> {
    if req.uri().path().starts_with(SOCKET_IO_PATH) {
        reown(&mut req);
    }
    req
}

/// Moves the URI text and every header value into one allocation of their
/// exact size (one block instead of one per value); anything that would not
/// parse back identically keeps its original.
fn reown<B>(req: &mut Request<B>) {
    let uri_text = req.uri().to_string();
    let values_len: usize = req.headers().values().map(|v| v.len()).sum();
    let mut buf = Vec::with_capacity(uri_text.len() + values_len);
    buf.extend_from_slice(uri_text.as_bytes());
    for value in req.headers().values() {
        buf.extend_from_slice(value.as_bytes());
    }
    let buf = Bytes::from(buf);

    if let Ok(uri) = Uri::from_maybe_shared(buf.slice(..uri_text.len()))
        && uri == *req.uri()
    {
        // axum's router saved the URI before any layer ran.
        if let Some(OriginalUri(original)) = req.extensions_mut().get_mut::<OriginalUri>() {
            if *original == uri {
                *original = uri.clone();
            } else if let Ok(copy) = Uri::from_maybe_shared(Bytes::from(original.to_string())) {
                *original = copy;
            }
        }
        *req.uri_mut() = uri;
    }
    let mut at = uri_text.len();
    for value in req.headers_mut().values_mut() {
        let end = at + value.len();
        if let Ok(mut copy) = HeaderValue::from_maybe_shared(buf.slice(at..end)) {
            copy.set_sensitive(value.is_sensitive());
            *value = copy;
        }
        at = end;
    }
}

#[cfg(test)]
mod tests {
    use axum::http::header;

    use super::*;

    /// A request built the way hyper builds one: URI and values are slices
    /// of a larger read buffer.
    fn parsed_in_place(path: &str, read_buf: &Bytes) -> Request<()> {
        let text = std::str::from_utf8(read_buf).unwrap();
        let slice = |s: &str| {
            let at = text.find(s).unwrap();
            read_buf.slice(at..at + s.len())
        };
        let mut req = Request::builder()
            .uri(Uri::from_maybe_shared(slice(path)).unwrap())
            .body(())
            .unwrap();
        let original = OriginalUri(req.uri().clone());
        req.extensions_mut().insert(original);
        let headers = req.headers_mut();
        headers.insert(
            header::HOST,
            HeaderValue::from_maybe_shared(slice("chat.example:8080")).unwrap(),
        );
        let mut auth = HeaderValue::from_maybe_shared(slice("Bearer abc")).unwrap();
        auth.set_sensitive(true);
        headers.insert(header::AUTHORIZATION, auth);
        headers.append(
            header::ACCEPT,
            HeaderValue::from_maybe_shared(slice("text/plain")).unwrap(),
        );
        headers.append(
            header::ACCEPT,
            HeaderValue::from_maybe_shared(slice("*/*")).unwrap(),
        );
        req
    }

    fn read_buffer(path: &str) -> Bytes {
        let mut text = format!(
            "GET {path} HTTP/1.1\r\nHost: chat.example:8080\r\nAuthorization: Bearer abc\r\n\
             Accept: text/plain\r\nAccept: */*\r\n\r\n"
        )
        .into_bytes();
        text.resize(8192, 0);
        Bytes::from(text)
    }

    #[test]
    fn a_socket_io_request_no_longer_pins_the_read_buffer() {
        let path = "/socket.io/?EIO=4&transport=websocket";
        let read_buf = read_buffer(path);
        let before = parsed_in_place(path, &read_buf);
        let after = detach(parsed_in_place(path, &read_buf));

        assert_eq!(after.uri(), before.uri());
        assert_eq!(
            after.extensions().get::<OriginalUri>().unwrap().0,
            *before.uri()
        );
        assert_eq!(after.headers(), before.headers());
        assert!(after.headers()[header::AUTHORIZATION].is_sensitive());
        drop(before);
        // Unique again: nothing in `after` still points into it.
        assert!(read_buf.try_into_mut().is_ok());
        assert_eq!(after.uri().query(), Some("EIO=4&transport=websocket"));
    }

    #[test]
    fn other_requests_are_left_as_parsed() {
        let path = "/login";
        let read_buf = read_buffer(path);
        let req = detach(parsed_in_place(path, &read_buf));
        assert_eq!(req.uri().path(), "/login");
        assert!(read_buf.try_into_mut().is_err());
    }
}
