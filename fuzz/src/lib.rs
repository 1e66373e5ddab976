//! Shared by the afl targets in `src/bin/`: raw Socket.IO frames through the
//! two parsers the gateway runs, then into the gateway's own decoders.

use bytes::Bytes;
use serde_json::Value as Json;
use socketioxide_core::packet::{Packet, PacketData};
use socketioxide_core::parser::{Parse, ParseConfig, ParserState};

/// Feeds `frames` to one connection's parser state, as engineioxide would,
/// and hands every decoded event and handshake payload to the gateway.
pub fn frames<P: Parse>(parser: P, config: &ParseConfig, frames: Vec<Frame>) {
    let state = ParserState::default();
    for frame in frames {
        let decoded = match frame {
            Frame::Text(s) => parser.decode_str(config, &state, s.into()),
            Frame::Binary(b) => parser.decode_bin(config, &state, b),
        };
        if let Ok(packet) = decoded {
            handle(parser, packet);
        }
    }
}

pub enum Frame {
    Text(String),
    Binary(Bytes),
}

fn handle<P: Parse>(parser: P, packet: Packet) {
    match packet.inner {
        PacketData::Event(mut v, _) | PacketData::BinaryEvent(mut v, _) => {
            let _ = parser.read_event(&v);
            if let Ok(data) = parser.decode_value::<Json>(&mut v, true) {
                chat_gateway::fuzzing::event_payload(&data);
            }
        }
        PacketData::Connect(v) => {
            if let Ok(auth) = parser.decode_default::<Json>(v.as_ref()) {
                chat_gateway::fuzzing::event_payload(&auth);
            }
        }
        _ => {}
    }
}

/// The JSON parser's config exactly as the gateway sets it.
pub fn json_config() -> ParseConfig {
    let (max, binaries) = chat_gateway::fuzzing::parser_limits();
    ParseConfig {
        max_incoming_binary_buf_size: max,
        max_incoming_binaries: binaries,
        ..ParseConfig::default()
    }
}
