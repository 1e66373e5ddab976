#!/usr/bin/env bash
# Bench smoke test: a small configuration of every scenario against all
# five systems (ours, ours-distributed, the floor, the split floor, the
# reference; a few hundred connections, seconds per phase). Checks that the
# bench runs end to end and that no acknowledged message is missing from
# stored history; exits non-zero otherwise. Takes well under 2 minutes.
#
# The soak runs 10 s per system here: long enough to check it works, far
# too short for its memory-growth verdict (Node's heap is still warming
# up), so that bound is lifted; the full 20-minute run applies it.
#
# Uses the debug `chat` binary and, for ours-distributed, the service and
# gateway binaries beside it (scripts/test runs this right after
# `cargo build --workspace --bins`), or $CHAT_BIN.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/chat-target}"

BENCH="$CARGO_TARGET_DIR/debug/chat-bench"
if [[ ! -x "$BENCH" ]]; then
  cargo build -p chat-bench
fi
if [[ ! -d bench/reference/node_modules ]]; then
  npm ci --prefix bench/reference --no-audit --no-fund
fi

OUT="$(mktemp -d -t chat-bench-smoke.XXXXXX)"
trap 'rm -rf "$OUT"' EXIT

# The debug binary is the one scripts/test has just built from this tree; a
# release binary may be left over from an older checkout.
CHAT_BIN="${CHAT_BIN:-$CARGO_TARGET_DIR/debug/chat}"
[[ -x "$CHAT_BIN" ]] || cargo build --workspace --bins

started=$SECONDS
set +e
"$BENCH" \
  --chat-bin "$CHAT_BIN" \
  --users 20 \
  --idle-connections 300 --idle-hold-secs 1 \
  --storm-connections 200 --storm-concurrency 32 \
  --rooms 4 --users-per-room 5 --rate 2 --duration-secs 3 \
  --ramp-start 50 --ramp-factor 2 --ramp-max 200 --ramp-step-secs 2 --ramp-p99-ms 1000 \
  --scenarios idle,storm,fanout,ramp,soak \
  --soak-secs 10 --soak-sample-secs 1 --soak-clients 5 --soak-max-growth-mib 512 \
  --out-dir "$OUT" 2>&1 | grep -v '^\s*$' | tail -40
rc=${PIPESTATUS[0]}
set -e

if [[ $rc -eq 0 ]]; then
  echo "bench smoke: PASS in $((SECONDS - started)) s (all five systems, every scenario, no acknowledged message missing)"
else
  echo "bench smoke: FAIL (chat-bench exited $rc) after $((SECONDS - started)) s"
fi
exit "$rc"
