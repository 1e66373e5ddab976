//! The `/notifications` namespace: `sendNotification` broadcasts; mentions
//! and direct messages arrive here from `sendMessage`.

use serde_json::{Value, json};
use socketioxide::adapter::Adapter;

use super::event::{Cx, Outcome};
use super::fanout::notify_all;
use super::input::Input;

/// `sendNotification {message}` → `notification {type: "broadcast", message,
/// user, timestamp}` to every `/notifications` socket.
pub async fn send_notification<A: Adapter>(cx: Cx<A>, data: Value) -> Outcome {
    let message =
        Input::new(&data)?.content("message", cx.st.app.config.limits.max_message_chars)?;
    cx.st.limits.notification(&cx.me.lower).await?;
    let note = json!({
        "type": "broadcast",
        "message": message,
        "user": cx.me.username,
        "timestamp": chat_common::time::millis_to_rfc3339(chat_common::time::now_millis()),
    });
    notify_all(&cx.io, &note).await;
    Ok(json!({ "ok": true }))
}
