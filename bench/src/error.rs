//! The bench's one error type.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("websocket: {0}")]
    Ws(#[from] tokio_tungstenite::tungstenite::Error),
    #[error("socket.io handshake refused: {0}")]
    Handshake(String),
    #[error("the server closed the socket")]
    Closed,
    #[error("bad JSON from the server: {0}")]
    Json(#[from] serde_json::Error),
    #[error("http: {0}")]
    Http(#[from] reqwest::Error),
    #[error("{0}")]
    Server(String),
    #[error("{0}")]
    Usage(String),
}
