#!/usr/bin/env bash
# Where the server's CPU goes under load: runs the fan-out scenario against
# our release `chat` at a fixed rate, samples it with `perf` (DWARF call
# graphs) and writes a flamegraph plus a per-component summary.
#
#   bench/profile.sh [rate-per-user]   (default 10: 2,000 msgs/s sent,
#                                       20,000 delivered)
#
# Needs perf (apt-get install linux-perf) and inferno
# (cargo install inferno); run as root or with perf_event_paranoid <= 1.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/chat-target}"
RATE="${1:-10}"
OUT="${OUT:-bench-results/profile}"
mkdir -p "$OUT"

for tool in perf inferno-collapse-perf inferno-flamegraph; do
  command -v "$tool" >/dev/null || { echo "profile.sh: $tool is missing" >&2; exit 1; }
done
cargo build --release -p chat-standalone -p chat-bench

"$CARGO_TARGET_DIR/release/chat-bench" --systems ours --scenarios fanout \
  --rate "$RATE" --duration-secs 25 --out-dir "$OUT" >"$OUT/bench.log" 2>&1 &
BENCH_PID=$!
# Past connecting and joining, into steady sending.
sleep 12
SERVER_PID="$(pgrep -n -f "$CARGO_TARGET_DIR/release/chat\$")"
perf record -F 199 --call-graph dwarf,32768 -p "$SERVER_PID" -o "$OUT/perf.data" -- sleep 8
wait "$BENCH_PID"

perf script -i "$OUT/perf.data" 2>/dev/null | inferno-collapse-perf >"$OUT/folded.txt"
inferno-flamegraph --title "chat under fan-out, ${RATE} msgs/s per user" \
  <"$OUT/folded.txt" >"$OUT/flamegraph.svg"

# Share of samples whose stack passes through each component (a sample can
# count for several: e.g. tonic calls h2).
python3 - "$OUT/folded.txt" <<'PY'
import collections, re, sys
parts = {
    "socket.io (socketioxide + engineioxide)": r"socketioxide|engineioxide",
    "websocket frames (tungstenite)": r"tungstenite",
    "gRPC (tonic + h2)": r"tonic::|h2::",
    "SQLite": r"sqlite3",
    "JSON (serde_json)": r"serde_json",
    "kernel: TCP send": r"tcp_sendmsg",
    "malloc/free": r"malloc|_int_free|cfree",
}
total, seen = 0, collections.Counter()
for line in open(sys.argv[1]):
    stack, n = line.rsplit(" ", 1)
    total += int(n)
    for name, pat in parts.items():
        if re.search(pat, stack):
            seen[name] += int(n)
for name, n in seen.most_common():
    print(f"{100 * n / max(total, 1):5.1f} %  {name}")
PY
grep -E "latency p99|CPU s per" "$OUT/bench.log" || true
echo "flamegraph: $OUT/flamegraph.svg"
