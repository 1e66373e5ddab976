//! `chat_gateway::fuzzing::text` on the raw input.
fn main() {
    afl::fuzz!(|data: &[u8]| chat_gateway::fuzzing::text(data));
}
