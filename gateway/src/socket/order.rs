//! One node's decisions about one user in one room, one at a time. Whether
//! a join is the user's first in the room, or a leave their last (what
//! `userJoined` and `userLeft` announce), is read from the sockets in the
//! room and then changed by the join or leave itself. Two sockets of one
//! user joining or leaving the same room at once (two tabs closing
//! together) must not interleave those steps, or both see themselves first,
//! or both last. With Redis the roster's update is one of the steps.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::LazyLock;

use tokio::sync::{Mutex, MutexGuard};

/// Striped: distinct (room, user) pairs rarely share a lock, and the table
/// stays this size whatever the number of rooms (about 40 KiB). Wide, so a
/// `rooms: "all"` socket's joins, which run together, seldom queue behind
/// one another's Redis round trip.
static LOCKS: LazyLock<Vec<Mutex<()>>> =
    LazyLock::new(|| (0..1024).map(|_| Mutex::new(())).collect());

/// Held while deciding about user `lower` in room `key` on this node.
pub async fn lock(key: &str, lower: &str) -> MutexGuard<'static, ()> {
    let mut h = DefaultHasher::new();
    (key, lower).hash(&mut h);
    LOCKS[(h.finish() % LOCKS.len() as u64) as usize]
        .lock()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_decision_about_a_user_in_a_room_at_a_time() {
        let held = lock("r:x", "bob").await;
        let waiting = tokio::spawn(async {
            let _second = lock("r:x", "bob").await;
        });
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(
            !waiting.is_finished(),
            "a second decision ran beside the first"
        );
        drop(held);
        waiting.await.unwrap();
    }
}
