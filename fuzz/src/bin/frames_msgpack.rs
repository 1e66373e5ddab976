//! One binary Engine.IO message for the msgpack parser.
use chat_fuzz::{Frame, frames};
use socketioxide_core::parser::ParseConfig;
use socketioxide_parser_msgpack::MsgPackParser;

fn main() {
    let config = ParseConfig::default();
    afl::fuzz!(|data: &[u8]| {
        let frame = Frame::Binary(bytes::Bytes::copy_from_slice(data));
        frames(MsgPackParser, &config, vec![frame]);
    });
}
