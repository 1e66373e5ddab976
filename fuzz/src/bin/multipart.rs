//! `chat_gateway::fuzzing::multipart` on the raw input.
fn main() {
    afl::fuzz!(|data: &[u8]| chat_gateway::fuzzing::multipart(data));
}
