//! Receiving an upload's bytes: streamed to a temporary file while being
//! hashed, counted, and checked for text, so memory stays flat whatever the
//! size and an oversized upload is refused the moment it crosses the limit.

use std::path::Path;

use futures::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tempfile::TempPath;
use tokio::io::AsyncWriteExt;

use crate::error::Error;
use crate::sniff::{HEAD_LEN, TextCheck};

/// The bytes of a finished upload, on disk until this is dropped.
#[derive(Debug)]
pub struct Received {
    pub path: TempPath,
    pub size: u64,
    /// Lower-case hex.
    pub sha256: String,
    /// The first [`HEAD_LEN`] bytes, for content sniffing.
    pub head: Vec<u8>,
    pub is_text: bool,
}

/// Writes every chunk to a new file in `tmp_dir`. Fails with
/// [`Error::TooLarge`] as soon as more than `limit` bytes arrive, without
/// reading further; on any failure the file is removed.
pub async fn receive<S>(chunks: S, tmp_dir: &Path, limit: u64) -> Result<Received, Error>
where
    S: Stream<Item = Result<Vec<u8>, Error>>,
{
    let dir = tmp_dir.to_owned();
    let tmp = tokio::task::spawn_blocking(move || {
        tempfile::Builder::new().prefix("upload-").tempfile_in(dir)
    })
    .await??;
    let (file, path) = tmp.into_parts();
    let mut file = tokio::fs::File::from_std(file);

    let mut chunks = std::pin::pin!(chunks);
    let mut hasher = Sha256::new();
    let mut text = TextCheck::default();
    let mut head = Vec::new();
    let mut size: u64 = 0;
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk?;
        size = size.saturating_add(chunk.len() as u64);
        if size > limit {
            return Err(Error::TooLarge(limit));
        }
        hasher.update(&chunk);
        text.feed(&chunk);
        if head.len() < HEAD_LEN {
            let take = (HEAD_LEN - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        file.write_all(&chunk).await?;
    }
    // tokio's File writes in the background; flush so the bytes are in the
    // file before anyone opens it by path.
    file.flush().await?;
    drop(file);
    Ok(Received {
        path,
        size,
        sha256: hex::encode(hasher.finalize()),
        head,
        is_text: text.is_text(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: Vec<Vec<u8>>) -> impl Stream<Item = Result<Vec<u8>, Error>> {
        futures::stream::iter(parts.into_iter().map(Ok))
    }

    fn files_in(dir: &Path) -> usize {
        std::fs::read_dir(dir).unwrap().count()
    }

    #[tokio::test]
    async fn writes_hashes_and_counts() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
        let parts = data.chunks(3000).map(<[u8]>::to_vec).collect();
        let got = receive(chunks(parts), dir.path(), 20_000).await.unwrap();
        assert_eq!(got.size, 20_000);
        assert_eq!(got.sha256, hex::encode(Sha256::digest(&data)));
        assert_eq!(got.head, data[..HEAD_LEN]);
        assert!(!got.is_text);
        assert_eq!(std::fs::read(&got.path).unwrap(), data);
        drop(got);
        assert_eq!(files_in(dir.path()), 0);
    }

    #[tokio::test]
    async fn stops_at_the_first_byte_over_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        // The stream would fail if read past the oversized chunk.
        let parts = futures::stream::iter(vec![
            Ok(vec![b'a'; 6]),
            Ok(vec![b'b'; 5]),
            Err(Error::InvalidArgument("read too far".into())),
        ]);
        let err = receive(parts, dir.path(), 10).await.unwrap_err();
        assert!(matches!(err, Error::TooLarge(10)), "{err:?}");
        assert_eq!(files_in(dir.path()), 0);
    }

    #[tokio::test]
    async fn stream_errors_remove_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let parts = futures::stream::iter(vec![
            Ok(b"hello".to_vec()),
            Err(Error::InvalidArgument("bad".into())),
        ]);
        assert!(receive(parts, dir.path(), 100).await.is_err());
        assert_eq!(files_in(dir.path()), 0);
    }

    #[tokio::test]
    async fn recognises_text() {
        let dir = tempfile::tempdir().unwrap();
        let got = receive(
            chunks(vec![b"hi ".to_vec(), "✓".as_bytes().to_vec()]),
            dir.path(),
            100,
        )
        .await
        .unwrap();
        assert!(got.is_text);
        assert_eq!(got.size, 6);
    }
}
