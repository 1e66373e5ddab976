//! The `/notifications` namespace: `sendNotification` broadcasts; mentions
//! and direct messages arrive here from `sendMessage`.

use serde_json::{Value, json};
use socketioxide::adapter::Adapter;

use super::event::{Cx, Outcome};
use super::fanout::NOTIFICATIONS;
use super::input::Input;

/// `sendNotification {message}` → `notification {type: "broadcast", message,
/// user, timestamp}` to every `/notifications` socket.
pub async fn send_notification<A: Adapter>(cx: Cx<A>, data: Value) -> Outcome {
    let message =
        Input::new(&data)?.content("message", cx.st.app.config.limits.max_message_chars)?;
    cx.st.limits.notification(&cx.me.lower)?;
    let note = json!({
        "type": "broadcast",
        "message": message,
        "user": cx.me.username,
        "timestamp": chat_common::time::millis_to_rfc3339(chat_common::time::now_millis()),
    });
    if let Some(op) = cx.io.of(NOTIFICATIONS)
        && let Err(e) = op.emit("notification", &note).await
    {
        tracing::warn!(error = %e, "notification broadcast failed");
    }
    Ok(json!({ "ok": true }))
}
