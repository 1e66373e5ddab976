//! PROTOCOL.md's `POST /upload` and `GET /media/{id}` end to end: bytes
//! through the gateway, the media service and its S3 bucket, and back.

use reqwest::StatusCode;

mod support;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_and_downloads() {
    let s = start(DEFAULT_LIMITS).await;
    let bob = s.register("bob").await;
    let token = bob["token"].as_str().unwrap();

    let text = b"<html><script>alert(1)</script></html>".to_vec();
    let (status, file) = s
        .upload(Some(token), "file", "page.html", "text/html", text.clone())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    assert_eq!(file["size"], text.len());
    assert_eq!(file["name"], "page.html");
    let id = file["id"].as_str().unwrap();
    // Relative: PUBLIC_URL is unset, and links never follow the Host header.
    assert_eq!(file["url"], format!("/media/{id}"));
    let res = s
        .http
        .get(s.url(file["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let h = res.headers().clone();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["content-type"], file["contentType"].as_str().unwrap());
    assert!(
        h["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert!(h["cache-control"].to_str().unwrap().contains("max-age"));
    assert_eq!(h["content-security-policy"], "default-src 'none'; sandbox");
    assert!(h.contains_key("referrer-policy"));
    assert_eq!(res.bytes().await.unwrap().as_ref(), text.as_slice());

    let (status, avatar) = s
        .upload(Some(token), "avatar", "me.png", "image/png", PNG.to_vec())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{avatar}");
    assert_eq!(avatar["contentType"], "image/png");
    let (_, me) = read(
        s.http
            .get(s.url("/me"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(me["avatar"], avatar["url"]);
    let res = s
        .http
        .get(s.url(avatar["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "image/png");
    assert!(res.headers().get("content-disposition").is_none());
    assert_eq!(res.bytes().await.unwrap().as_ref(), PNG);

    // An avatar is judged by its bytes, whatever its name says.
    let (status, body) = s
        .upload(Some(token), "avatar", "fake.png", "image/png", text.clone())
        .await;
    assert_error(status, &body, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let (status, body) = s
        .upload(
            Some(token),
            "file",
            "big.bin",
            "application/octet-stream",
            vec![7; 100 * 1024],
        )
        .await;
    assert_error(status, &body, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, body) = s
        .upload(Some(token), "other", "a.txt", "text/plain", b"hi".to_vec())
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST);
    let (status, body) = s
        .upload(None, "file", "a.txt", "text/plain", b"hi".to_vec())
        .await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED);

    let (status, body) = read(
        s.http
            .get(s.url("/media/00000000-0000-0000-0000-000000000000"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(status, &body, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_media_service_limit_is_a_413_too() {
    let s = start(Limits {
        gateway_upload: 64 * 1024,
        media_upload: 16 * 1024,
    })
    .await;
    let carol = s.register("carol").await;
    let token = carol["token"].as_str().unwrap();
    let (status, body) = s
        .upload(
            Some(token),
            "file",
            "mid.bin",
            "application/octet-stream",
            vec![1; 32 * 1024],
        )
        .await;
    assert_error(status, &body, StatusCode::PAYLOAD_TOO_LARGE);
}
