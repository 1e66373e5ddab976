//! Engine.IO messages for the JSON parser: the input is cut at 0x1e (the
//! record separator long-polling uses); UTF-8 pieces are text messages,
//! others binary attachments.
use chat_fuzz::{Frame, frames, json_config};
use socketioxide_parser_common::CommonParser;

fn main() {
    let config = json_config();
    afl::fuzz!(|data: &[u8]| {
        let list = data
            .split(|b| *b == 0x1e)
            .map(|piece| match std::str::from_utf8(piece) {
                Ok(s) => Frame::Text(s.to_string()),
                Err(_) => Frame::Binary(bytes::Bytes::copy_from_slice(piece)),
            })
            .collect();
        frames(CommonParser, &config, list);
    });
}
