//! `chat_gateway::fuzzing::json_body` on the raw input.
fn main() {
    afl::fuzz!(|data: &[u8]| chat_gateway::fuzzing::json_body(data));
}
