//! Command-line options (clap), parsed once in `main`.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scenario {
    /// Hold N authenticated connections; server memory per connection.
    Idle,
    /// Authenticated handshakes per second.
    Storm,
    /// R rooms × U users sending at a fixed rate: throughput, latency, history check.
    Fanout,
    /// Raise the send rate step by step until p99 exceeds the bound.
    Ramp,
    /// Connect/join/send/disconnect churn for a long time; RSS over time.
    /// Not in the default list: it takes `--soak-secs` (20 minutes).
    Soak,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SystemKind {
    /// Our `chat` binary (persistence on: SQLite in a temp DATA_DIR).
    Ours,
    /// Our split layout, as compose runs it: chat-auth, chat-message,
    /// chat-media and one chat-gateway as separate processes talking gRPC
    /// (mutual TLS) over loopback; figures are the sum over the four.
    OursDistributed,
    /// `chat-bench-floor` (src/bin/floor/main.rs): the reference's server written
    /// on our gateway's crates (axum, socketioxide), messages in memory.
    /// What those crates cost on their own, below any server built on them.
    Floor,
    /// The floor with one gRPC round trip per send (`PostMessages` over
    /// mutual TLS, src/bin/floor/hop.rs) to a second process that answers
    /// at once: the least the split layout on these crates can cost,
    /// whatever its services do.
    FloorDistributed,
    /// The tutorial's Node.js stack in bench/reference (messages in memory).
    Reference,
}

impl SystemKind {
    pub fn name(self) -> &'static str {
        match self {
            SystemKind::Ours => "ours",
            SystemKind::OursDistributed => "ours-distributed",
            SystemKind::Floor => "floor",
            SystemKind::FloorDistributed => "floor-distributed",
            SystemKind::Reference => "reference",
        }
    }
}

/// Load generator comparing our chat server with the tutorial's Node.js
/// stack. Starts each system itself, one after the other, runs the chosen
/// scenarios, prints a table (ours ÷ reference) and writes JSON + an SVG chart.
#[derive(Debug, Clone, Parser, serde::Serialize)]
#[command(name = "chat-bench", version)]
pub struct Args {
    /// Scenarios to run, in this order.
    #[arg(long, value_delimiter = ',', default_values = ["idle", "storm", "fanout", "ramp"])]
    pub scenarios: Vec<Scenario>,
    /// Systems to run, in this order.
    #[arg(long, value_delimiter = ',', default_values = ["ours", "ours-distributed", "floor", "floor-distributed", "reference"])]
    pub systems: Vec<SystemKind>,
    /// Our server binary; default: $CARGO_TARGET_DIR/release/chat, else …/debug/chat.
    #[arg(long)]
    pub chat_bin: Option<PathBuf>,
    /// Directory of the reference server (server.js + node_modules).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/reference"))]
    pub reference_dir: PathBuf,
    /// Where the JSON results and the SVG chart go.
    #[arg(long, default_value = "bench-results")]
    pub out_dir: PathBuf,
    /// Users registered per system (sockets reuse their tokens round-robin).
    #[arg(long, default_value_t = 100)]
    pub users: usize,
    /// Generator worker threads (1 = a single-threaded runtime, leanest).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Pin the server to these CPUs (taskset list, e.g. "0"); the same for
    /// both systems.
    #[arg(long)]
    pub pin_server: Option<String>,
    /// Run our processes under valgrind's callgrind and count the
    /// instructions of the fan-out window and of the storm (figures that
    /// repeat from run to run; see `callgrind.rs`). Use a small load:
    /// valgrind is ~50× slower.
    #[arg(long)]
    pub callgrind: bool,
    /// The floors commit each send to SQLite before they broadcast and
    /// acknowledge it (`floor`: inline; `floor-distributed`: in the echo,
    /// before it answers): one row, one transaction, the stores' pragmas
    /// (src/bin/floor/journal.rs). What storing every message costs at the
    /// least, beside our server, which does.
    #[arg(long)]
    pub durable_floors: bool,
    /// Pin this generator to these CPUs (taskset list, e.g. "1").
    #[arg(long)]
    pub pin_bench: Option<String>,
    /// Loopback source addresses to spread client sockets over (127.0.0.1..=N).
    #[arg(long, default_value_t = 4)]
    pub source_ips: u8,
    /// Handshakes in flight while opening connections (idle, fan-out, ramp).
    #[arg(long, default_value_t = 256)]
    pub connect_concurrency: usize,

    /// idle: connections to hold.
    #[arg(long, default_value_t = 15_000)]
    pub idle_connections: usize,
    /// idle: seconds to hold them before reading the server's memory.
    #[arg(long, default_value_t = 5)]
    pub idle_hold_secs: u64,

    /// storm: connections to open as fast as possible.
    #[arg(long, default_value_t = 3000)]
    pub storm_connections: usize,
    /// storm: handshakes in flight.
    #[arg(long, default_value_t = 128)]
    pub storm_concurrency: usize,

    /// fan-out and ramp: rooms.
    #[arg(long, default_value_t = 20)]
    pub rooms: usize,
    /// fan-out and ramp: users (sockets) per room; each sends and receives.
    #[arg(long, default_value_t = 10)]
    pub users_per_room: usize,
    /// Receivers per room whose send→receive latency is timed.
    #[arg(long, default_value_t = 3)]
    pub sampled_per_room: usize,
    /// fan-out: messages per second each user sends.
    #[arg(long, default_value_t = 1.0)]
    pub rate: f64,
    /// fan-out: seconds of sending.
    #[arg(long, default_value_t = 20)]
    pub duration_secs: u64,

    /// ramp: first total send rate (messages/s over all users).
    #[arg(long, default_value_t = 50.0)]
    pub ramp_start: f64,
    /// ramp: each step multiplies the rate by this.
    #[arg(long, default_value_t = 1.25)]
    pub ramp_factor: f64,
    /// ramp: stop above this total send rate even if p99 still holds.
    #[arg(long, default_value_t = 50_000.0)]
    pub ramp_max: f64,
    /// ramp: seconds per step (the first second is warm-up, not measured).
    #[arg(long, default_value_t = 6)]
    pub ramp_step_secs: u64,
    /// ramp: the p99 bound in milliseconds.
    #[arg(long, default_value_t = 50.0)]
    pub ramp_p99_ms: f64,
    /// ramp: keep raising past the bound (to draw the curve) until p99
    /// exceeds this many milliseconds or the system stops keeping up.
    #[arg(long, default_value_t = 1000.0)]
    pub ramp_stop_p99_ms: f64,

    /// soak: seconds of churn.
    #[arg(long, default_value_t = 1200)]
    pub soak_secs: u64,
    /// soak: clients churning at once (each: connect, join, 5 sends, gone).
    #[arg(long, default_value_t = 50)]
    pub soak_clients: usize,
    /// soak: seconds between two readings of the server's RSS.
    #[arg(long, default_value_t = 10)]
    pub soak_sample_secs: u64,
    /// soak: the run fails when the median RSS of the last quarter exceeds
    /// that of the second quarter by more than this many MiB.
    #[arg(long, default_value_t = 16)]
    pub soak_max_growth_mib: u64,

    /// Exit non-zero when a target is missed, not only on lost messages.
    #[arg(long)]
    pub require_targets: bool,
}
