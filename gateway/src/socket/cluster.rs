//! The Redis link that makes several gateway nodes one system (PROTOCOL.md §
//! Several gateway nodes): one RESP3 connection carrying the socket.io
//! adapter's pub/sub and the shared rate limits, and a watchdog that knows
//! whether Redis answers.
//!
//! socketioxide-redis ships a driver on a plain multiplexed connection,
//! which never comes back once Redis restarts; this one sits on redis'
//! `ConnectionManager`, which reconnects and re-subscribes by itself. While
//! Redis is down the link refuses requests at once instead of making every
//! broadcast wait for a reconnection attempt, so callers fall back to this
//! node's own sockets without delay.
//!
//! Start-up does not wait for Redis either: a gateway started while Redis is
//! away runs degraded (this node alone) and joins the others once Redis
//! answers, exactly as when Redis goes away later. Subscriptions asked for
//! while Redis is away are made when it answers.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{
    AsyncCommands, ErrorKind, FromRedisValue, IntoConnectionInfo, ProtocolVersion, PushInfo,
    PushKind, RedisError,
};
use socketioxide_redis::drivers::{ChanItem, Driver, MessageStream};
use tokio::sync::mpsc;

use crate::error::Error;

/// How often the watchdog pings Redis, and how long one ping may take.
const WATCH_EVERY: Duration = Duration::from_secs(1);
const PING_TIMEOUT: Duration = Duration::from_secs(1);
/// Bounds on one command and one connection attempt, so an unreachable
/// Redis costs a caller a second at most before the watchdog notices.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

type Handlers = Arc<RwLock<HashMap<String, mpsc::Sender<ChanItem>>>>;
/// Channels subscribed to while Redis was away, to subscribe on its return.
type Pending = Arc<std::sync::Mutex<HashSet<String>>>;

/// Cheap to clone: every clone shares the connection, the subscriptions and
/// the up/down state.
#[derive(Clone)]
pub struct RedisLink {
    conn: ConnectionManager,
    handlers: Handlers,
    pending: Pending,
    up: Arc<AtomicBool>,
    /// `host:port` for logs (the URL may hold a password).
    addr: String,
}

impl RedisLink {
    /// Connects to `url` (RESP3 is forced: pub/sub shares the connection
    /// with commands). An unreachable Redis is not an error: the link starts
    /// down and comes up when Redis answers; only a bad URL is.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        let info = url
            .into_connection_info()
            .map_err(|e| Error::Config(format!("REDIS_URL is not a Redis URL: {e}")))?;
        let addr = info.addr().to_string();
        let settings = info
            .redis_settings()
            .clone()
            .set_protocol(ProtocolVersion::RESP3);
        let client = redis::Client::open(info.set_redis_settings(settings))
            .map_err(|e| Error::Config(format!("REDIS_URL: {e}")))?;
        let handlers = Handlers::default();
        let routes = handlers.clone();
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500))
            .set_push_sender(move |msg: PushInfo| {
                route(msg, &routes);
                Ok::<(), Infallible>(())
            })
            .set_automatic_resubscription();
        let conn = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| Error::Config(format!("REDIS_URL: {e}")))?;
        let link = Self {
            conn,
            handlers,
            pending: Pending::default(),
            up: Arc::new(AtomicBool::new(true)),
            addr,
        };
        // A few quick tries cover Redis starting alongside the gateway;
        // beyond that the watchdog keeps trying.
        let first = (|| async { link.ping().await.then_some(()).ok_or(()) })
            .retry(
                ExponentialBuilder::default()
                    .with_max_delay(Duration::from_millis(500))
                    .with_max_times(3),
            )
            .await;
        if first.is_err() {
            tracing::error!(redis = %link.addr, "Redis is not answering: starting degraded (this node alone); retrying every second");
        }
        Ok(link)
    }

    /// Subscribes to the channels asked for while Redis was away.
    async fn resubscribe_pending(&self) {
        let chans: Vec<String> = self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect();
        for chan in chans {
            match self.conn.clone().subscribe(chan.as_str()).await {
                Ok(()) => {
                    self.pending
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(&chan);
                    tracing::debug!(chan, "subscribed now that Redis answers");
                }
                Err(e) => {
                    self.observe(&e);
                    return;
                }
            }
        }
    }

    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// A handle on the shared connection, for commands.
    pub fn connection(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// Whether Redis answered the last time anyone asked.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Fails at once while Redis is known to be down.
    pub fn ensure_up(&self) -> Result<(), RedisError> {
        if self.is_up() {
            Ok(())
        } else {
            Err(RedisError::from((ErrorKind::Io, "Redis is unreachable")))
        }
    }

    /// One bounded PING, whose outcome becomes the link's state. Also what
    /// makes the connection manager reconnect (and re-subscribe: that is
    /// part of reconnecting, so a PONG means the subscriptions are back).
    pub async fn ping(&self) -> bool {
        let mut conn = self.conn.clone();
        let cmd = redis::cmd("PING");
        let ping = cmd.query_async::<String>(&mut conn);
        let ok = matches!(tokio::time::timeout(PING_TIMEOUT, ping).await, Ok(Ok(_)));
        self.mark(ok);
        if ok
            && !self
                .pending
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_empty()
        {
            self.resubscribe_pending().await;
        }
        ok
    }

    /// Records the outcome of talking to Redis, logging changes of state.
    pub fn mark(&self, ok: bool) {
        match (self.up.swap(ok, Ordering::Relaxed), ok) {
            (true, false) => tracing::error!(
                redis = %self.addr,
                "Redis is unreachable: degraded to this node alone (its own sockets get every \
                 event; no cross-node delivery; presence and rate limits count this node only) \
                 until it returns"
            ),
            (false, true) => tracing::warn!(
                redis = %self.addr,
                "Redis is back: cross-node delivery, presence and shared rate limits resumed"
            ),
            _ => {}
        }
    }

    /// Notes a failed command: a broken connection means Redis is down
    /// until the watchdog's next ping says otherwise.
    pub fn observe(&self, e: &RedisError) {
        if e.is_io_error() || e.is_unrecoverable_error() || e.is_timeout() {
            self.mark(false);
        }
    }

    /// Pings Redis every [`WATCH_EVERY`] for as long as the process lives.
    pub fn spawn_watchdog(&self) {
        let this = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(WATCH_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                this.ping().await;
            }
        });
    }
}

/// Hands a pub/sub message to the adapter stream of its channel.
fn route(msg: PushInfo, handlers: &Handlers) {
    if !matches!(msg.kind, PushKind::Message) {
        return;
    }
    let mut data = msg.data.into_iter();
    let (Some(chan), Some(payload)) = (data.next(), data.next()) else {
        return;
    };
    let (Ok(chan), Ok(payload)) = (
        String::from_redis_value(chan),
        Vec::<u8>::from_redis_value(payload),
    ) else {
        tracing::warn!("unreadable pub/sub message from Redis");
        return;
    };
    let handlers = handlers.read().unwrap_or_else(|p| p.into_inner());
    if let Some(tx) = handlers.get(&chan)
        && let Err(e) = tx.try_send((chan, payload))
    {
        // The adapter reads its stream in a loop; a full one means this node
        // cannot keep up, and waiting here would stall the connection.
        tracing::warn!(error = %e, "adapter stream full: dropped a cross-node message");
    }
}

impl Driver for RedisLink {
    type Error = RedisError;

    async fn publish(&self, chan: String, val: Vec<u8>) -> Result<(), RedisError> {
        self.ensure_up()?;
        let res = self
            .conn
            .clone()
            .publish::<_, _, redis::Value>(chan, val)
            .await;
        if let Err(e) = &res {
            self.observe(e);
        }
        res.map(drop)
    }

    async fn subscribe(
        &self,
        chan: String,
        size: usize,
    ) -> Result<MessageStream<ChanItem>, RedisError> {
        // Registered first: a message may arrive right after the reply.
        let (tx, rx) = mpsc::channel(size);
        self.handlers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(chan.clone(), tx);
        // While Redis is away the subscription waits for its return rather
        // than failing: the adapter starts only once its channels are
        // subscribed, and this node must serve its own sockets meanwhile.
        let subscribed = if self.is_up() {
            self.conn.clone().subscribe(chan.as_str()).await
        } else {
            Err(RedisError::from((ErrorKind::Io, "Redis is unreachable")))
        };
        if let Err(e) = subscribed {
            self.observe(&e);
            tracing::debug!(error = %e, chan, "subscription deferred until Redis answers");
            self.pending
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(chan);
        }
        Ok(MessageStream::new(rx))
    }

    async fn unsubscribe(&self, chan: String) -> Result<(), RedisError> {
        self.handlers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&chan);
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&chan);
        self.ensure_up()?;
        self.conn.clone().unsubscribe(chan).await
    }

    /// The number of nodes: subscribers of the namespace's request channel.
    /// A node that died has lost its connection, so Redis no longer counts
    /// it and nobody waits for its answer.
    async fn num_serv(&self, chan: &str) -> Result<u16, RedisError> {
        self.ensure_up()?;
        let mut conn = self.conn.clone();
        let res: Result<(String, u16), _> = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(chan)
            .query_async(&mut conn)
            .await;
        match res {
            Ok((_, n)) => Ok(n),
            Err(e) => {
                self.observe(&e);
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use futures::StreamExt;

    use super::*;
    use crate::socket::test_redis::TestRedis;

    async fn until(what: &str, cond: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while !cond() {
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn next(rx: &mut MessageStream<ChanItem>) -> Option<ChanItem> {
        tokio::time::timeout(Duration::from_secs(3), rx.next())
            .await
            .ok()
            .flatten()
    }

    #[tokio::test]
    async fn pubsub_between_nodes_survives_a_redis_restart() {
        let mut redis = TestRedis::start().await;
        let (a, b) = (redis.link().await, redis.link().await);
        let mut rx = a.subscribe("chan".into(), 8).await.expect("subscribe");
        assert_eq!(b.num_serv("chan").await.expect("numsub"), 1);
        b.publish("chan".into(), b"one".to_vec())
            .await
            .expect("publish");
        assert_eq!(next(&mut rx).await, Some(("chan".into(), b"one".to_vec())));

        redis.stop();
        until("both links see Redis down", || !a.is_up() && !b.is_up()).await;
        // Refused at once rather than after a reconnection attempt.
        let started = Instant::now();
        assert!(b.publish("chan".into(), b"lost".to_vec()).await.is_err());
        assert!(b.num_serv("chan").await.is_err());
        assert!(started.elapsed() < Duration::from_millis(100));

        redis.restart().await;
        until("both links see Redis back", || a.is_up() && b.is_up()).await;
        // The subscription was renewed on the new connection.
        assert_eq!(b.num_serv("chan").await.expect("numsub"), 1);
        b.publish("chan".into(), b"two".to_vec())
            .await
            .expect("publish");
        assert_eq!(next(&mut rx).await, Some(("chan".into(), b"two".to_vec())));
    }

    #[tokio::test]
    async fn starts_without_redis_and_joins_when_it_answers() {
        let mut redis = TestRedis::start().await;
        redis.stop();
        let started = Instant::now();
        let a = redis.link().await;
        assert!(!a.is_up());
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "start-up waited for Redis"
        );
        // Accepted now, made once Redis answers.
        let mut rx = a.subscribe("chan".into(), 8).await.expect("subscribe");
        assert!(a.publish("chan".into(), b"lost".to_vec()).await.is_err());

        redis.restart().await;
        until("the link sees Redis", || a.is_up()).await;
        let b = redis.link().await;
        let deadline = Instant::now() + Duration::from_secs(10);
        while b.num_serv("chan").await.unwrap_or(0) != 1 {
            assert!(
                Instant::now() < deadline,
                "the deferred subscription was never made"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        b.publish("chan".into(), b"hello".to_vec())
            .await
            .expect("publish");
        assert_eq!(
            next(&mut rx).await,
            Some(("chan".into(), b"hello".to_vec()))
        );
    }

    #[tokio::test]
    async fn refuses_a_url_that_is_not_redis() {
        let err = RedisLink::connect("http://example.test").await.err();
        assert!(matches!(err, Some(Error::Config(_))), "{err:?}");
    }
}
