//! Property-based fuzzing of raw Socket.IO frames through the two parsers
//! the gateway runs (`CHAT_PARSER=json`: socketioxide's common parser with
//! the gateway's attachment limits; `msgpack`: socket.io-msgpack-parser's
//! framing), then through what the handlers do with a decoded event: the
//! event name, the payload as JSON, and every `Input` reading
//! (`fuzz::check_input`). Truncated, corrupted, placeholder-laden and
//! length-lying frames must be refused or decoded, never panic or allocate
//! what they claim. `PROPTEST_CASES` sets the inputs per target.

use bytes::Bytes;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Value as Json, json};
use socketioxide_core::Value;
use socketioxide_core::packet::{Packet, PacketData};
use socketioxide_core::parser::{Parse, ParseConfig, ParserState};
use socketioxide_parser_common::CommonParser;
use socketioxide_parser_msgpack::MsgPackParser;

use crate::config::Limits;

use super::MAX_BINARY_ATTACHMENTS;
use super::fuzz::check_input;

/// One Engine.IO message as the transport hands it over.
#[derive(Debug, Clone)]
enum Frame {
    Text(String),
    Binary(Vec<u8>),
}

/// The JSON parser's limits exactly as `socket::configure` sets them.
fn json_config() -> ParseConfig {
    let max = usize::try_from(Limits::default().max_packet_bytes).unwrap_or(usize::MAX);
    ParseConfig {
        max_incoming_binary_buf_size: max,
        max_incoming_binaries: MAX_BINARY_ATTACHMENTS,
        ..ParseConfig::default()
    }
}

/// Payloads close to what the handlers read.
fn payload() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(Json::from),
        any::<f64>().prop_map(Json::from),
        "[a-z0-9 _:-]{0,12}".prop_map(Json::String),
        any::<String>().prop_map(Json::String),
        (0u64..40).prop_map(|n| json!({"_placeholder": true, "num": n})),
    ];
    let key = prop_oneof![
        Just("room".to_string()),
        Just("content".to_string()),
        Just("attachments".to_string()),
        Just("_placeholder".to_string()),
        Just("num".to_string()),
        Just("__proto__".to_string()),
        "[a-z]{0,6}",
    ];
    leaf.prop_recursive(3, 32, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Json::Array),
            prop::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|kv| Json::Object(kv.into_iter().collect())),
        ]
    })
}

/// An event's arguments: usually `[name, payload]`, sometimes not.
fn args() -> impl Strategy<Value = Json> {
    let name = prop_oneof![
        Just(json!("sendMessage")),
        Just(json!("joinRoom")),
        Just(json!("typing")),
        "[a-zA-Z]{0,10}".prop_map(Json::String),
        payload(),
    ];
    (name, prop::collection::vec(payload(), 0..3)).prop_map(|(n, rest)| {
        let mut all = vec![n];
        all.extend(rest);
        Json::Array(all)
    })
}

/// JSON-parser text frames: near-valid packets (type, attachment count,
/// namespace, ack id, arguments) cut or corrupted anywhere, and noise.
fn text_frame() -> impl Strategy<Value = String> {
    let head = (
        prop_oneof![6 => Just(2u8), 1 => 0u8..8],
        prop::option::weighted(0.15, 0u64..40),
        prop_oneof![
            1 => Just(""),
            4 => Just("/chat,"),
            1 => Just("/notifications,"),
            1 => Just("/nope,"),
            1 => Just("/"),
        ],
        prop::option::of(prop_oneof![0i64..100, Just(i64::MAX), Just(-1)]),
    );
    let packet = (
        head,
        args(),
        any::<prop::sample::Index>(),
        prop::bool::weighted(0.25),
    )
        .prop_map(|((t, n, nsp, id), args, cut, truncate)| {
            let mut s = t.to_string();
            if let Some(n) = n {
                s.push_str(&format!("{n}-"));
            }
            s.push_str(nsp);
            if let Some(id) = id {
                s.push_str(&id.to_string());
            }
            s.push_str(&args.to_string());
            if truncate {
                let mut at = cut.index(s.len() + 1);
                while !s.is_char_boundary(at) {
                    at -= 1;
                }
                s.truncate(at);
            }
            s
        });
    prop_oneof![
        4 => packet,
        1 => any::<String>(),
        1 => "[0-9/,\\-\\[\\]{}\"a-z:]{0,40}",
    ]
}

/// Bytes that claim a msgpack container or string far longer than what
/// follows (array32, map32, str32, bin32 headers), alone or inside a map.
fn lying_lengths() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(vec![0xdcu8, 0xdd, 0xde, 0xdf, 0xdb, 0xc6, 0xc5]),
        any::<u32>(),
        prop::collection::vec(any::<u8>(), 0..16),
        any::<bool>(),
    )
        .prop_map(|(tag, len, rest, in_map)| {
            let mut out = Vec::new();
            if in_map {
                // {type: 2, nsp: "/chat", data: <lie>}
                out.extend_from_slice(b"\x83\xa4type\x02\xa3nsp\xa5/chat\xa4data");
            }
            out.push(tag);
            match tag {
                0xdc | 0xde | 0xc5 => out.extend_from_slice(&(len as u16).to_be_bytes()),
                _ => out.extend_from_slice(&len.to_be_bytes()),
            }
            out.extend_from_slice(&rest);
            out
        })
}

/// Msgpack binary frames: real encodings of events, acks and connects,
/// then cut or corrupted; length-lying headers; noise.
fn msgpack_frame() -> impl Strategy<Value = Vec<u8>> {
    let encoded = (
        0u8..3,
        prop::option::weighted(
            0.9,
            prop_oneof![Just("sendMessage".to_string()), "[a-zA-Z]{0,10}"],
        ),
        payload(),
        prop_oneof![Just("/chat"), Just("/"), Just("/nope")],
        prop::option::of(any::<i64>()),
    )
        .prop_map(|(kind, event, payload, nsp, id)| {
            let p = MsgPackParser;
            // As the official client sends it: `[event, payload]`.
            let data = p
                .encode_value(&payload, event.as_deref())
                .unwrap_or(Value::Bytes(Bytes::new()));
            let packet = match (kind, id) {
                (0, Some(id)) => Packet::ack(nsp, data, id),
                (0 | 1, _) => {
                    let mut e = Packet::event(nsp, data);
                    if let Some(id) = id {
                        e.inner.set_ack_id(id);
                    }
                    e
                }
                _ => Packet::connect(nsp, Some(data)),
            };
            match p.encode(packet) {
                Value::Bytes(b) => b.to_vec(),
                Value::Str(s, _) => s.as_str().as_bytes().to_vec(),
            }
        });
    let mangled = (encoded, any::<prop::sample::Index>(), any::<u8>(), 0u8..6).prop_map(
        |(mut b, at, byte, how)| {
            // Half are sent intact.
            if !b.is_empty() {
                let i = at.index(b.len());
                match how {
                    0 => b.truncate(i),
                    1 => b[i] = byte,
                    2 => b.insert(i, byte),
                    _ => {}
                }
            }
            b
        },
    );
    prop_oneof![
        3 => mangled,
        2 => lying_lengths(),
        1 => prop::collection::vec(any::<u8>(), 0..128),
    ]
}

/// Feeds `frames` to one connection's parser state, as engineioxide would,
/// and does with every decoded packet what the gateway does with it.
fn feed<P: Parse>(
    parser: P,
    config: &ParseConfig,
    frames: Vec<Frame>,
) -> Result<(), TestCaseError> {
    let state = ParserState::default();
    for frame in frames {
        let decoded = match frame {
            Frame::Text(s) => parser.decode_str(config, &state, s.into()),
            Frame::Binary(b) => parser.decode_bin(config, &state, Bytes::from(b)),
        };
        let Ok(packet) = decoded else { continue };
        handle(parser, packet)?;
    }
    Ok(())
}

fn handle<P: Parse>(parser: P, packet: Packet) -> Result<(), TestCaseError> {
    match packet.inner {
        PacketData::Event(mut v, _) | PacketData::BinaryEvent(mut v, _) => {
            // `event::serve` reads the name, `TryData<Value>` the rest.
            if let Ok(name) = parser.read_event(&v) {
                prop_assert!(name.len() <= Limits::default().max_packet_bytes as usize);
            }
            if let Ok(data) = parser.decode_value::<Json>(&mut v, true) {
                check_input(&data)?;
            }
        }
        PacketData::Connect(v) => {
            // The handshake's `auth` payload (`socket::auth`).
            if let Ok(auth) = parser.decode_default::<Json>(v.as_ref()) {
                check_input(&auth)?;
            }
        }
        _ => {}
    }
    Ok(())
}

proptest! {
    #[test]
    fn fuzz_json_frames(frames in prop::collection::vec(
        prop_oneof![
            4 => text_frame().prop_map(Frame::Text),
            1 => prop::collection::vec(any::<u8>(), 0..64).prop_map(Frame::Binary),
        ],
        1..6,
    )) {
        feed(CommonParser, &json_config(), frames)?;
    }

    #[test]
    fn fuzz_msgpack_frames(frames in prop::collection::vec(
        prop_oneof![
            6 => msgpack_frame().prop_map(Frame::Binary),
            1 => any::<String>().prop_map(Frame::Text),
        ],
        1..4,
    )) {
        feed(MsgPackParser, &ParseConfig::default(), frames)?;
    }
}

#[test]
fn the_frame_targets_reach_the_handlers_input() {
    // Guards the targets above: a well-formed event must decode all the way
    // to an object payload under both parsers.
    let args = json!(["sendMessage", {"room": "general", "content": "hi"}]);
    let text = format!("2/chat,{args}");
    let json = CommonParser
        .decode_str(&json_config(), &ParserState::default(), text.into())
        .map(|p| p.inner);
    let Ok(PacketData::Event(mut v, None)) = json else {
        panic!("not an event: {json:?}");
    };
    let data: Json = CommonParser.decode_value(&mut v, true).unwrap();
    assert_eq!(data["content"], "hi");

    let value = MsgPackParser
        .encode_value(&args[1], args[0].as_str())
        .unwrap();
    let Value::Bytes(bin) = MsgPackParser.encode(Packet::event("/chat", value)) else {
        panic!("msgpack frames are binary");
    };
    let packet = MsgPackParser
        .decode_bin(&ParseConfig::default(), &ParserState::default(), bin)
        .map(|p| p.inner);
    let Ok(PacketData::Event(mut v, None)) = packet else {
        panic!("not an event: {packet:?}");
    };
    let data: Json = MsgPackParser.decode_value(&mut v, true).unwrap();
    assert_eq!(data["room"], "general");
}
