//! What a message shows besides its own row, looked up when it is read (so
//! an edit or delete of the replied-to message shows in every reply): the
//! reply's excerpt and the reactions. Two batch lookups per page, whatever
//! its size.

use std::collections::HashMap;

use super::Messages;
use crate::error::Result;
use crate::model::{Message, ReplyRef};
use crate::text::excerpt;

impl Messages {
    pub(crate) async fn decorate(&self, mut messages: Vec<Message>) -> Result<Vec<Message>> {
        if messages.is_empty() {
            return Ok(messages);
        }
        let mut targets: Vec<String> = messages.iter().filter_map(|m| m.reply_to.clone()).collect();
        targets.sort();
        targets.dedup();
        let replied: HashMap<String, Message> = self
            .store
            .get_many(&targets)
            .await?
            .into_iter()
            .map(|m| (m.id.clone(), m))
            .collect();
        let ids: Vec<String> = messages.iter().map(|m| m.id.clone()).collect();
        let mut reactions = self.store.reactions(&ids).await?;
        for m in &mut messages {
            m.reply = m
                .reply_to
                .as_ref()
                .and_then(|id| replied.get(id))
                .map(reply_ref);
            m.reactions = if m.deleted {
                Vec::new()
            } else {
                reactions.remove(&m.id).unwrap_or_default()
            };
        }
        Ok(messages)
    }

    pub(crate) async fn decorate_one(&self, message: Message) -> Result<Message> {
        let mut list = self.decorate(vec![message]).await?;
        Ok(list.remove(0))
    }
}

/// How a reply shows the message it replies to.
pub(crate) fn reply_ref(r: &Message) -> ReplyRef {
    ReplyRef {
        id: r.id.clone(),
        sender: r.sender.clone(),
        excerpt: if r.deleted {
            String::new()
        } else {
            excerpt(&r.content)
        },
    }
}
