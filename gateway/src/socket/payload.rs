//! The message object clients see (PROTOCOL.md § Message object), built from
//! the message service's `Message`.

use chat_common::time::timestamp_to_rfc3339;
use chat_proto::message::v1 as pb;
use serde::Serialize;
use serde_json::value::RawValue;

use crate::config::Parser;
use crate::error::Error;
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MessageJson {
    pub id: String,
    pub room: String,
    pub sender: String,
    pub content: String,
    pub avatar: Option<String>,
    pub timestamp: String,
    pub client_id: Option<String>,
    pub attachments: Vec<AttachmentJson>,
    pub edited_at: Option<String>,
    pub deleted: bool,
    /// v1.2: the message this one answers, as it reads now.
    pub reply_to: Option<ReplyJson>,
    /// v1.2: in the order each emoji first appeared.
    pub reactions: Vec<ReactionJson>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ReplyJson {
    pub id: String,
    pub sender: String,
    pub excerpt: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ReactionJson {
    pub emoji: String,
    pub count: u32,
    pub users: Vec<String>,
}

/// A message's reactions as clients see them.
pub fn reactions(list: Vec<pb::Reaction>) -> Vec<ReactionJson> {
    list.into_iter()
        .map(|r| ReactionJson {
            emoji: r.emoji,
            count: r.count,
            users: r.users,
        })
        .collect()
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentJson {
    pub id: String,
    pub url: String,
    pub content_type: String,
    pub size: u64,
    pub name: String,
}

/// Turns media ids into URLs under one base (`PUBLIC_URL`, or empty for
/// relative links).
#[derive(Clone)]
pub struct Links<'a> {
    pub state: &'a AppState,
    pub base: &'a str,
}

impl Links<'_> {
    pub fn media(&self, id: &str) -> String {
        self.state.media_url(self.base, id)
    }

    pub fn message(&self, m: pb::Message) -> MessageJson {
        MessageJson {
            avatar: m
                .avatar_media_id
                .filter(|a| !a.is_empty())
                .map(|a| self.media(&a)),
            timestamp: m
                .timestamp
                .as_ref()
                .map(timestamp_to_rfc3339)
                .unwrap_or_default(),
            edited_at: m.edited_at.as_ref().map(timestamp_to_rfc3339),
            client_id: m.client_id.filter(|c| !c.is_empty()),
            attachments: m
                .attachments
                .into_iter()
                .map(|a| AttachmentJson {
                    url: self.media(&a.id),
                    id: a.id,
                    content_type: a.content_type,
                    size: a.size,
                    name: a.name,
                })
                .collect(),
            reply_to: m.reply_to.map(|r| ReplyJson {
                id: r.id,
                sender: r.sender,
                excerpt: r.excerpt,
            }),
            reactions: reactions(m.reactions),
            id: m.id,
            room: m.room,
            sender: m.sender,
            content: m.content,
            deleted: m.deleted,
        }
    }

    pub fn messages(&self, ms: Vec<pb::Message>) -> Vec<MessageJson> {
        ms.into_iter().map(|m| self.message(m)).collect()
    }
}

/// A message serialised once, for an event that sends it several times (a
/// room's `message` to both chat namespaces, then the sender's ack).
///
/// With the JSON parser it is the JSON text itself: socketioxide's parser
/// copies a `RawValue` through verbatim. The msgpack parser would write a
/// `RawValue` as a map holding a string, so there it stays the object and
/// is serialised each time.
#[derive(Serialize)]
#[serde(untagged)]
pub enum Rendered {
    Json(Box<RawValue>),
    Object(Box<MessageJson>),
}

impl Rendered {
    pub fn new(message: &MessageJson, parser: Parser) -> Result<Self, Error> {
        match parser {
            Parser::Json => serde_json::value::to_raw_value(message)
                .map(Rendered::Json)
                .map_err(|e| Error::Internal(format!("a message could not be serialised: {e}"))),
            Parser::Msgpack => Ok(Rendered::Object(Box::new(message.clone()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use chat_common::time::millis_to_timestamp;
    use serde_json::json;

    use crate::config::Config;

    fn state(public_url: Option<&str>) -> AppState {
        let mut config = Config::from_lookup(|_| None).unwrap();
        config.public_url = public_url.map(str::to_string);
        AppState::new(config).unwrap()
    }

    fn stored() -> pb::Message {
        pb::Message {
            id: "m1".into(),
            room: "general".into(),
            sender: "Alice".into(),
            content: "hi".into(),
            avatar_media_id: Some("av1".into()),
            timestamp: Some(millis_to_timestamp(1_795_716_000_123)),
            client_id: Some("c-42".into()),
            attachments: vec![pb::Attachment {
                id: "f1".into(),
                content_type: "image/png".into(),
                size: 1234,
                name: "cat.png".into(),
            }],
            edited_at: None,
            deleted: false,
            reply_to: Some(pb::ReplyRef {
                id: "m0".into(),
                sender: "bob".into(),
                excerpt: "hello".into(),
            }),
            reactions: vec![pb::Reaction {
                emoji: "👍".into(),
                count: 2,
                users: vec!["bob".into(), "carol".into()],
            }],
        }
    }

    #[tokio::test]
    async fn maps_every_field_in_the_protocol_shape() {
        let st = state(Some("https://chat.example:8080"));
        let base = st.public_base().to_string();
        let links = Links {
            state: &st,
            base: &base,
        };
        let got = serde_json::to_value(links.message(stored())).unwrap();
        assert_eq!(
            got,
            json!({
                "id": "m1", "room": "general", "sender": "Alice", "content": "hi",
                "avatar": "https://chat.example:8080/media/av1",
                "timestamp": "2026-11-26T18:00:00.123Z",
                "clientId": "c-42",
                "attachments": [{"id": "f1", "url": "https://chat.example:8080/media/f1",
                                 "contentType": "image/png", "size": 1234, "name": "cat.png"}],
                "editedAt": null,
                "deleted": false,
                "replyTo": {"id": "m0", "sender": "bob", "excerpt": "hello"},
                "reactions": [{"emoji": "👍", "count": 2, "users": ["bob", "carol"]}],
            })
        );
    }

    /// What a client receives is the same packet, rendered once or not.
    #[tokio::test]
    async fn a_rendered_message_encodes_as_the_message_in_both_parsers() {
        use socketioxide_core::parser::Parse;
        let st = state(None);
        let links = Links {
            state: &st,
            base: st.public_base(),
        };
        let message = links.message(stored());
        let json = socketioxide_parser_common::CommonParser;
        let direct = json.encode_value(&message, Some("message")).unwrap();
        let rendered = Rendered::new(&message, Parser::Json).unwrap();
        assert!(matches!(rendered, Rendered::Json(_)));
        assert_eq!(
            json.encode_value(&rendered, Some("message")).unwrap(),
            direct
        );
        let msgpack = socketioxide_parser_msgpack::MsgPackParser;
        let direct = msgpack.encode_value(&message, Some("message")).unwrap();
        let rendered = Rendered::new(&message, Parser::Msgpack).unwrap();
        assert_eq!(
            msgpack.encode_value(&rendered, Some("message")).unwrap(),
            direct
        );
    }

    #[tokio::test]
    async fn absent_optionals_are_null_and_public_url_wins() {
        let st = state(Some("https://chat.example.org"));
        let base = st.public_base().to_string();
        let links = Links {
            state: &st,
            base: &base,
        };
        let mut m = stored();
        m.avatar_media_id = None;
        m.client_id = None;
        m.attachments.clear();
        m.reply_to = None;
        m.reactions.clear();
        m.edited_at = Some(millis_to_timestamp(1_795_716_001_000));
        m.deleted = true;
        m.content.clear();
        let got = serde_json::to_value(links.message(m)).unwrap();
        assert_eq!(got["avatar"], json!(null));
        assert_eq!(got["clientId"], json!(null));
        assert_eq!(got["attachments"], json!([]));
        assert_eq!(got["editedAt"], json!("2026-11-26T18:00:01.000Z"));
        assert_eq!(got["deleted"], json!(true));
        assert_eq!(got["replyTo"], json!(null));
        assert_eq!(got["reactions"], json!([]));
        let mut m = stored();
        m.avatar_media_id = Some(String::new());
        assert_eq!(links.message(m).avatar, None);
        assert_eq!(links.media("x"), "https://chat.example.org/media/x");
        let st = state(None);
        let links = Links {
            state: &st,
            base: st.public_base(),
        };
        assert_eq!(links.media("x"), "/media/x");
    }
}
