//! `chat_gateway::fuzzing::token` on the raw input.
fn main() {
    afl::fuzz!(|data: &[u8]| chat_gateway::fuzzing::token(data));
}
