//! `chat_gateway::fuzzing::origin_header` on the raw input.
fn main() {
    afl::fuzz!(|data: &[u8]| chat_gateway::fuzzing::origin_header(data));
}
