//! `GET /media/{id}`: streams `MediaService.Download` into the response
//! body chunk by chunk, with headers that keep a hostile upload harmless.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chat_proto::media::v1::{
    DownloadRequest, DownloadResponse, MediaInfo, download_response::Part,
};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use tokio_stream::StreamExt;

use crate::error::Error;
use crate::state::AppState;

/// Ids are immutable, so a year (the longest value caches honour) is safe.
const CACHE_CONTROL: &str = "public, max-age=31536000, immutable";
/// A file is never a page: no script, no plugin, no form, and a unique
/// origin if a browser renders it anyway (PROTOCOL.md § HTTP).
const MEDIA_CSP: &str = "default-src 'none'; sandbox";
/// Only these are shown inline; SVG and HTML can carry script.
const INLINE_TYPES: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];

pub async fn download(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: HeaderMap,
) -> Result<Response, Error> {
    let not_found = || Error::NotFound("No such file".into());
    let timeout = state.config.grpc_timeout;
    let mut media = state.clients.media_stream.clone();
    let first = async {
        let mut stream = media
            .download(DownloadRequest { id: id.clone() })
            .await?
            .into_inner();
        let first = stream.message().await?;
        Ok::<_, tonic::Status>((first, stream))
    };
    let (first, stream) = match tokio::time::timeout(timeout, first).await {
        Err(_) => {
            return Err(Error::Unavailable(
                "The media service is not answering".into(),
            ));
        }
        Ok(Err(s))
            if s.code() == tonic::Code::NotFound || s.code() == tonic::Code::InvalidArgument =>
        {
            return Err(not_found());
        }
        Ok(res) => res?,
    };
    let Some(DownloadResponse {
        part: Some(Part::Info(info)),
    }) = first
    else {
        return Err(Error::Internal(format!(
            "media download of {id} did not start with its metadata"
        )));
    };

    let headers = headers(&info);
    if let Some(etag) = headers.get(header::ETAG)
        && request
            .get_all(header::IF_NONE_MATCH)
            .iter()
            .any(|v| matches_etag(v, etag))
    {
        // The client has these bytes: dropping the stream ends the download.
        let mut h = headers;
        h.remove(header::CONTENT_LENGTH);
        return Ok((StatusCode::NOT_MODIFIED, h).into_response());
    }

    // Each chunk must arrive within the gRPC timeout; the whole file may
    // take as long as the client needs.
    let body = stream.timeout(timeout).map(move |item| {
        let err = match item {
            Ok(Ok(DownloadResponse {
                part: Some(Part::Chunk(bytes)),
            })) => return Ok(Bytes::from(bytes)),
            Ok(Ok(_)) => std::io::Error::other("unexpected metadata in the middle of a download"),
            Ok(Err(status)) => std::io::Error::other(status),
            Err(elapsed) => std::io::Error::other(elapsed),
        };
        // The client sees a truncated body (shorter than Content-Length).
        tracing::warn!(error = %err, "media download broke off");
        Err(err)
    });
    Ok((headers, Body::from_stream(body)).into_response())
}

/// `If-None-Match` (RFC 9110 § 13.1.2): `*`, or a list of entity tags
/// compared weakly (a `W/` prefix does not matter).
fn matches_etag(if_none_match: &HeaderValue, etag: &HeaderValue) -> bool {
    let Ok(list) = if_none_match.to_str() else {
        return false;
    };
    let etag = etag.as_bytes();
    list.split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag).as_bytes() == etag)
}

fn headers(info: &MediaInfo) -> HeaderMap {
    let mut h = HeaderMap::new();
    let content_type = HeaderValue::from_str(&info.content_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_TYPE, content_type);
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(info.size));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(MEDIA_CSP),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    if !info.sha256.is_empty()
        && let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", info.sha256))
    {
        h.insert(header::ETAG, etag);
    }
    if let Some(disposition) = disposition(&info.content_type, &info.name) {
        h.insert(header::CONTENT_DISPOSITION, disposition);
    }
    h
}

/// `None` (inline) for the four raster image types; an attachment with the
/// stored name for everything else.
fn disposition(content_type: &str, name: &str) -> Option<HeaderValue> {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if INLINE_TYPES.contains(&essence.as_str()) {
        return None;
    }
    let name = if name.trim().is_empty() {
        "download"
    } else {
        name
    };
    // A plain-ASCII fallback for old clients, the exact name (RFC 5987) for
    // the rest.
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'!')
        .remove(b'#')
        .remove(b'$')
        .remove(b'&')
        .remove(b'+')
        .remove(b'-')
        .remove(b'.')
        .remove(b'^')
        .remove(b'_')
        .remove(b'`')
        .remove(b'|')
        .remove(b'~');
    let value = format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        utf8_percent_encode(name, ATTR_CHAR)
    );
    Some(HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("attachment")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raster_images_are_inline_everything_else_an_attachment() {
        for t in [
            "image/png",
            "image/jpeg",
            "image/gif",
            "image/webp",
            "IMAGE/PNG; charset=x",
        ] {
            assert!(disposition(t, "a.png").is_none(), "{t}");
        }
        for t in [
            "image/svg+xml",
            "text/html",
            "application/pdf",
            "application/octet-stream",
            "",
        ] {
            let d = disposition(t, "a.bin").unwrap();
            assert!(
                d.to_str()
                    .unwrap()
                    .starts_with("attachment; filename=\"a.bin\""),
                "{t}"
            );
        }
    }

    #[test]
    fn names_cannot_break_out_of_the_header() {
        let d = disposition("text/html", "evil\"; x=\r\n.html").unwrap();
        let s = d.to_str().unwrap();
        assert!(s.starts_with("attachment; filename=\"evil_; x=__.html\"; filename*=UTF-8''evil%22%3B%20x%3D%0D%0A.html"), "{s}");
        let d = disposition("application/pdf", "résumé.pdf").unwrap();
        assert_eq!(
            d.to_str().unwrap(),
            "attachment; filename=\"r_sum_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"
        );
        assert_eq!(
            disposition("text/plain", " ").unwrap().to_str().unwrap(),
            "attachment; filename=\"download\"; filename*=UTF-8''download"
        );
    }

    #[test]
    fn if_none_match_compares_entity_tags_weakly() {
        let etag = HeaderValue::from_static("\"ab\"");
        let m = |v: &'static str| matches_etag(&HeaderValue::from_static(v), &etag);
        assert!(m("\"ab\""));
        assert!(m("W/\"ab\""));
        assert!(m("\"x\", \"ab\""));
        assert!(m("*"));
        assert!(!m("\"abc\""));
        assert!(!m("ab"));
        assert!(!m(""));
    }

    #[test]
    fn headers_carry_type_length_nosniff_and_cache() {
        let info = MediaInfo {
            id: "m".into(),
            content_type: "image/svg+xml".into(),
            size: 12,
            name: "x.svg".into(),
            sha256: "ab".into(),
            ..Default::default()
        };
        let h = headers(&info);
        assert_eq!(h[header::CONTENT_TYPE], "image/svg+xml");
        assert_eq!(h[header::CONTENT_LENGTH], "12");
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(
            h[header::CONTENT_SECURITY_POLICY],
            "default-src 'none'; sandbox"
        );
        assert!(
            h[header::CACHE_CONTROL]
                .to_str()
                .unwrap()
                .contains("immutable")
        );
        assert!(h.contains_key(header::CONTENT_DISPOSITION));
        assert_eq!(h[header::ETAG], "\"ab\"");
    }
}
