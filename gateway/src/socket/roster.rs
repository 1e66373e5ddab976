//! Who is in which room across gateway nodes, kept in Redis so that
//! `userJoined` and `userLeft` are announced exactly once cluster-wide:
//!
//! - per (room, user) the set of nodes holding a socket of that user in that
//!   room, changed by one atomic script per join or leave — of two nodes
//!   joining the same user at once, one sees itself first;
//! - per node, the (room, user) entries it holds, and a heartbeat key that
//!   expires when the node stops refreshing it (killed, frozen, cut off).
//!
//! Every node looks for nodes whose heartbeat expired and reaps them: each of
//! their entries is removed atomically, and whoever leaves a (room, user)
//! set empty announces `userLeft` — within [`ALIVE_FOR`] plus a tick of the
//! node's death. With Redis away, callers fall back to the adapter's view
//! (see `membership`); a node whose own heartbeat vanished (Redis restarted,
//! or it was frozen and reaped) writes its entries back.

use std::collections::HashSet;
use std::time::Duration;

use redis::{AsyncCommands, RedisError, Script};
use serde_json::json;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;

use super::auth::identity;
use super::cluster::RedisLink;
use super::fanout::{CHAT_NAMESPACES, to_room};
use super::order;
use super::rooms::{room_name_of_key, user_key};

/// How long a node counts as alive after its last heartbeat, and how often
/// it beats (and looks for dead nodes).
const ALIVE_FOR: Duration = Duration::from_millis(3000);
const BEAT_EVERY: Duration = Duration::from_millis(1000);
/// How long one node has to reap a dead one before another may retry.
const REAP_CLAIM: Duration = Duration::from_secs(15);

const NODES: &str = "chat:roster:nodes";
const ENTRIES_PREFIX: &str = "chat:roster:node:";
const ENTRIES_SUFFIX: &str = ":entries";

/// Adds this node to the (room, user) set; 1 when it made the set non-empty.
const ARRIVE: &str = r"
local added = redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
if added == 1 and redis.call('SCARD', KEYS[1]) == 1 then return 1 end
return 0";

/// Removes a node from the (room, user) set; 1 when it left the set empty.
/// KEYS[2]/ARGV[2] (the node's own entry) may be absent, for a reap.
const DEPART: &str = r"
local removed = redis.call('SREM', KEYS[1], ARGV[1])
if KEYS[2] then redis.call('SREM', KEYS[2], ARGV[2]) end
if removed == 1 and redis.call('SCARD', KEYS[1]) == 0 then return 1 end
return 0";

/// Empties a (room, user) set and takes its entry out of the entries of
/// every node in it: the user was evicted from the room on every node.
/// ARGV[1] and ARGV[2] frame a node's entries key around its name.
const FORGET: &str = r"
local nodes = redis.call('SMEMBERS', KEYS[1])
for _, node in ipairs(nodes) do
  redis.call('SREM', ARGV[1] .. node .. ARGV[2], ARGV[3])
end
redis.call('DEL', KEYS[1])
return 0";

/// A user in a room: the internal room key, the lower-cased name (the set's
/// identity) and the name as registered (what `userLeft` carries).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Entry {
    key: String,
    lower: String,
    username: String,
}

impl Entry {
    fn encode(&self) -> String {
        json!([self.key, self.lower, self.username]).to_string()
    }

    fn decode(raw: &str) -> Option<Entry> {
        let [key, lower, username]: [String; 3] = serde_json::from_str(raw).ok()?;
        Some(Entry {
            key,
            lower,
            username,
        })
    }

    fn set_key(&self) -> String {
        format!("chat:roster:room:{}:{}", self.key, self.lower)
    }
}

#[derive(Clone)]
pub struct Roster {
    link: RedisLink,
    node: String,
}

impl Roster {
    pub fn new(link: RedisLink) -> Self {
        Roster {
            link,
            node: uuid::Uuid::new_v4().simple().to_string(),
        }
    }

    pub fn is_up(&self) -> bool {
        self.link.is_up()
    }

    fn entries_key(&self, node: &str) -> String {
        format!("{ENTRIES_PREFIX}{node}{ENTRIES_SUFFIX}")
    }

    fn alive_key(node: &str) -> String {
        format!("chat:roster:node:{node}:alive")
    }

    /// This node now holds `username` in room `key`; `true` when no node
    /// held them there (announce `userJoined`).
    pub async fn arrived(
        &self,
        key: &str,
        lower: &str,
        username: &str,
    ) -> Result<bool, RedisError> {
        let e = entry(key, lower, username);
        self.script(
            ARRIVE,
            &[e.set_key(), self.entries_key(&self.node)],
            &[self.node.clone(), e.encode()],
        )
        .await
    }

    /// This node no longer holds the user in room `key`; `true` when no node
    /// does (announce `userLeft`).
    pub async fn departed(
        &self,
        key: &str,
        lower: &str,
        username: &str,
    ) -> Result<bool, RedisError> {
        let e = entry(key, lower, username);
        self.script(
            DEPART,
            &[e.set_key(), self.entries_key(&self.node)],
            &[self.node.clone(), e.encode()],
        )
        .await
    }

    /// The user was taken out of room `key` on every node at once (a
    /// removal): no node holds them there any more, silently — the room
    /// hears `memberLeft` instead. Without this, the next join would find
    /// the user still listed and announce no `userJoined`, and a reap of
    /// one of those nodes would announce a `userLeft` long after.
    pub async fn forget(&self, key: &str, lower: &str, username: &str) -> Result<(), RedisError> {
        let e = entry(key, lower, username);
        let args = [ENTRIES_PREFIX.into(), ENTRIES_SUFFIX.into(), e.encode()];
        self.script(FORGET, &[e.set_key()], &args).await?;
        Ok(())
    }

    async fn script(
        &self,
        src: &str,
        keys: &[String],
        args: &[String],
    ) -> Result<bool, RedisError> {
        self.link.ensure_up()?;
        let script = Script::new(src);
        let mut inv = script.prepare_invoke();
        for k in keys {
            inv.key(k);
        }
        for a in args {
            inv.arg(a);
        }
        let res: Result<i64, RedisError> = inv.invoke_async(&mut self.link.connection()).await;
        if let Err(e) = &res {
            self.link.observe(e);
        }
        Ok(res? == 1)
    }

    /// Beats, and reaps dead nodes, every [`BEAT_EVERY`] for as long as the
    /// process lives.
    pub fn spawn<A: Adapter>(&self, io: SocketIo<A>) {
        let this = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(BEAT_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if !this.link.is_up() {
                    continue;
                }
                if let Err(e) = this.beat(&io).await {
                    this.link.observe(&e);
                    tracing::debug!(error = %e, "roster heartbeat failed");
                }
            }
        });
    }

    async fn beat<A: Adapter>(&self, io: &SocketIo<A>) -> Result<(), RedisError> {
        let mut conn = self.link.connection();
        let alive = Self::alive_key(&self.node);
        let was_alive: bool = conn.exists(&alive).await?;
        let ms = ALIVE_FOR.as_millis() as u64;
        let _: () = conn.pset_ex(&alive, 1, ms).await?;
        let _: () = conn.sadd(NODES, &self.node).await?;
        if !was_alive {
            self.write_back(io).await?;
        }
        let nodes: Vec<String> = conn.smembers(NODES).await?;
        for node in nodes.into_iter().filter(|n| *n != self.node) {
            let alive: bool = conn.exists(Self::alive_key(&node)).await?;
            if !alive {
                self.reap(io, &node).await?;
            }
        }
        Ok(())
    }

    /// Makes Redis hold exactly this node's entries again, silently: they
    /// were lost (a Redis restart) or reaped (this node was frozen).
    async fn write_back<A: Adapter>(&self, io: &SocketIo<A>) -> Result<(), RedisError> {
        let mut held = HashSet::new();
        for ns in CHAT_NAMESPACES {
            let Some(op) = io.of(ns) else { continue };
            for s in op.local().sockets() {
                let Some(me) = identity(&s) else { continue };
                for room in s.rooms() {
                    if room_name_of_key(&room).is_some() {
                        held.insert(entry(&room, &me.lower, &me.username));
                    }
                }
            }
        }
        let mut conn = self.link.connection();
        let listed: Vec<String> = conn.smembers(self.entries_key(&self.node)).await?;
        for stale in listed.iter().filter_map(|r| Entry::decode(r)) {
            if !held.contains(&stale) {
                let _guard = order::lock(&stale.key, &stale.lower).await;
                self.departed(&stale.key, &stale.lower, &stale.username)
                    .await?;
            }
        }
        for e in &held {
            let _guard = order::lock(&e.key, &e.lower).await;
            self.arrived(&e.key, &e.lower, &e.username).await?;
        }
        if !held.is_empty() {
            tracing::info!(
                entries = held.len(),
                "roster: wrote this node's room members back to Redis"
            );
        }
        Ok(())
    }

    /// Takes a dead node's entries out, announcing `userLeft` for each user
    /// it leaves in no room anywhere. One node reaps a given node at a time.
    async fn reap<A: Adapter>(&self, io: &SocketIo<A>, dead: &str) -> Result<(), RedisError> {
        let mut conn = self.link.connection();
        let claim = format!("chat:roster:node:{dead}:reaper");
        let claimed: Option<String> = redis::cmd("SET")
            .arg(&claim)
            .arg(&self.node)
            .arg("NX")
            .arg("PX")
            .arg(REAP_CLAIM.as_millis() as u64)
            .query_async(&mut conn)
            .await?;
        if claimed.is_none() {
            return Ok(());
        }
        let entries_key = self.entries_key(dead);
        let listed: Vec<String> = conn.smembers(&entries_key).await?;
        let mut left = 0;
        for e in listed.iter().filter_map(|r| Entry::decode(r)) {
            let emptied = self
                .script(DEPART, &[e.set_key()], &[dead.to_string()])
                .await?;
            if emptied && let Some(room) = room_name_of_key(&e.key) {
                left += 1;
                let data = json!({ "room": room, "user": e.username });
                to_room(io, &e.key, "userLeft", &data).await;
            }
        }
        let _: () = conn.del(&entries_key).await?;
        let _: () = conn.srem(NODES, dead).await?;
        tracing::warn!(
            node = dead,
            entries = listed.len(),
            announced = left,
            "reaped a gateway node that stopped beating"
        );
        Ok(())
    }
}

fn entry(key: &str, lower: &str, username: &str) -> Entry {
    Entry {
        key: key.to_string(),
        lower: lower.to_string(),
        username: username.to_string(),
    }
}

/// Whether a chat socket of the user on this node is in room `key`.
pub fn user_in_room_here<A: Adapter>(io: &SocketIo<A>, lower: &str, key: &str) -> bool {
    CHAT_NAMESPACES
        .into_iter()
        .filter_map(|ns| io.of(ns))
        .any(|op| {
            op.local()
                .within(user_key(lower))
                .sockets()
                .iter()
                .any(|s| s.rooms().iter().any(|r| r == key))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_whatever_the_names() {
        let e = entry("r:a\"b", "bob", "Bob");
        assert_eq!(Entry::decode(&e.encode()), Some(e));
        assert_eq!(Entry::decode("not json"), None);
    }

    #[tokio::test]
    async fn announces_once_per_room_and_user_across_nodes() {
        let redis = crate::socket::test_redis::TestRedis::start().await;
        let (a, b) = (
            Roster::new(redis.link().await),
            Roster::new(redis.link().await),
        );
        // Joins racing on two nodes: exactly one is first.
        let (ja, jb) = tokio::join!(
            a.arrived("r:x", "bob", "Bob"),
            b.arrived("r:x", "bob", "Bob")
        );
        assert_eq!([ja.unwrap(), jb.unwrap()].iter().filter(|f| **f).count(), 1);
        // Leaving on one node while the other holds the user: not last.
        assert!(!a.departed("r:x", "bob", "Bob").await.unwrap());
        assert!(b.departed("r:x", "bob", "Bob").await.unwrap());
        // Arriving again after everyone left is first again.
        assert!(a.arrived("r:x", "bob", "Bob").await.unwrap());
        assert!(!a.arrived("r:x", "bob", "Bob").await.unwrap());
    }

    #[tokio::test]
    async fn a_user_forgotten_everywhere_arrives_first_again() {
        let redis = crate::socket::test_redis::TestRedis::start().await;
        let (a, b) = (
            Roster::new(redis.link().await),
            Roster::new(redis.link().await),
        );
        a.arrived("r:x", "bob", "Bob").await.unwrap();
        b.arrived("r:x", "bob", "Bob").await.unwrap();
        a.arrived("r:y", "bob", "Bob").await.unwrap();
        a.forget("r:x", "bob", "Bob").await.unwrap();
        // Gone from both nodes' entries, so no reap or write-back of
        // either brings the user back; other rooms are untouched.
        let mut conn = redis.link().await.connection();
        for node in [&a.node, &b.node] {
            let listed: Vec<String> = conn.smembers(a.entries_key(node)).await.unwrap();
            assert!(listed.iter().all(|e| !e.contains("r:x")), "{listed:?}");
        }
        assert!(b.arrived("r:x", "bob", "Bob").await.unwrap());
        // r:y still lists node a: leaving it there is the last departure.
        assert!(a.departed("r:y", "bob", "Bob").await.unwrap());
    }
}
