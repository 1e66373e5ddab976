//! The split floor (`floor-distributed`): before a send is stored and
//! broadcast, it makes one round trip to another process, as the split
//! layout's gateway sends each message to the message service and waits
//! for the answer. The trip is as cheap as a trip between processes gets:
//! plain TCP on loopback, one connection, a length-prefixed frame each way,
//! answers in the order asked (no TLS, no HTTP/2, no protobuf, no storage).
//! So what this floor costs beyond the floor is what any second process on
//! a send's path costs on this machine, below anything gRPC could do.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// The connection to the echo process.
pub struct Hop {
    /// Held while a frame is written, so that the order of `waiting` is
    /// the order of the frames on the wire (and so of the answers).
    write: tokio::sync::Mutex<OwnedWriteHalf>,
    waiting: Arc<Mutex<Waiting>>,
}

/// The senders whose frames are on their way, oldest first; `None` once
/// the connection ended.
type Waiting = Option<VecDeque<oneshot::Sender<()>>>;

impl Hop {
    pub async fn connect(addr: SocketAddr) -> io::Result<Hop> {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        let (read, write) = tcp.into_split();
        let waiting = Arc::new(Mutex::new(Some(VecDeque::new())));
        tokio::spawn(answer(BufReader::new(read), waiting.clone()));
        Ok(Hop {
            write: tokio::sync::Mutex::new(write),
            waiting,
        })
    }

    /// Sends `payload` to the other process and waits until it came back;
    /// false when the connection is gone.
    pub async fn round_trip(&self, payload: &[u8]) -> bool {
        let Ok(len) = u32::try_from(payload.len()) else {
            return false;
        };
        let mut frame = Vec::with_capacity(4 + payload.len());
        frame.extend_from_slice(&len.to_be_bytes());
        frame.extend_from_slice(payload);
        let (reply, answered) = oneshot::channel();
        {
            let mut write = self.write.lock().await;
            match lock(&self.waiting).as_mut() {
                Some(waiting) => waiting.push_back(reply),
                None => return false,
            }
            if write.write_all(&frame).await.is_err() {
                return false;
            }
        }
        answered.await.is_ok()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Reads the frames coming back and wakes their senders, in order. When
/// the connection ends, the senders still waiting are dropped (their trip
/// failed), and so is every later one.
async fn answer(mut read: BufReader<tokio::net::tcp::OwnedReadHalf>, waiting: Arc<Mutex<Waiting>>) {
    let mut body = Vec::new();
    while let Ok(len) = read.read_u32().await {
        body.resize(len as usize, 0);
        if read.read_exact(&mut body).await.is_err() {
            break;
        }
        if let Some(reply) = lock(&waiting).as_mut().and_then(VecDeque::pop_front) {
            let _ = reply.send(());
        }
    }
    lock(&waiting).take();
}

/// `chat-bench-floor echo ADDR`: the other process. Writes back every byte
/// it reads, on every connection.
pub async fn echo(listener: TcpListener) -> io::Result<()> {
    loop {
        let (tcp, _) = listener.accept().await?;
        tcp.set_nodelay(true)?;
        tokio::spawn(async move {
            let (mut read, mut write) = tcp.into_split();
            let _ = tokio::io::copy(&mut read, &mut write).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_trip_comes_back_to_its_own_sender() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(echo(listener));
        let hop = Arc::new(Hop::connect(addr).await.unwrap());
        let trips = (0..200).map(|i| {
            let hop = hop.clone();
            tokio::spawn(async move { hop.round_trip(format!("send {i}").as_bytes()).await })
        });
        for trip in futures::future::join_all(trips).await {
            assert!(trip.unwrap());
        }
        assert_eq!(lock(&hop.waiting).as_ref().map(VecDeque::len), Some(0));
    }

    #[tokio::test]
    async fn once_the_other_process_is_gone_every_trip_fails() {
        // An other end that answers one frame, then hangs up.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut tcp, _) = listener.accept().await.unwrap();
            let mut frame = [0u8; 4 + 3];
            tcp.read_exact(&mut frame).await.unwrap();
            tcp.write_all(&frame).await.unwrap();
        });
        let hop = Hop::connect(addr).await.unwrap();
        assert!(hop.round_trip(b"one").await);
        let after = tokio::time::timeout(std::time::Duration::from_secs(5), async {
            (hop.round_trip(b"two").await, hop.round_trip(b"three").await)
        });
        assert_eq!(after.await.unwrap(), (false, false));
    }
}
