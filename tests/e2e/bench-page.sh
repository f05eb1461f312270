#!/usr/bin/env bash
# Page timing on a 100,000-message INBOX (docs/benchmarks-web.md): starts a private Dovecot rig
# and a bridge on their own ports, runs tests/e2e/bench-page.mjs, stops both.
# Needs what tests/all.sh installs and a built page (web/dist; build_web in tests/lib.sh).
#   bash tests/e2e/bench-page.sh [runs]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$ROOT"

RUNS=${1:-5}
BRIDGE_PORT=${BENCH_BRIDGE_PORT:-18380}
DIR="$OUT/bench-page"
RIG="$DIR/rig"
BRIDGE_PID=""
cleanup() {
    [ -n "$BRIDGE_PID" ] && kill "$BRIDGE_PID" 2>/dev/null && wait "$BRIDGE_PID" 2>/dev/null
    "$ROOT/tests/rig/dovecot.sh" stop "$RIG" >/dev/null 2>&1 || true
}
trap cleanup EXIT

[ -f "$ROOT/web/dist/pkg/client_wasm_bg.wasm" ] || build_web
[ -x "$ROOT/target/debug/bridge" ] || cargo build -p bridge
mkdir -p "$DIR"
"$ROOT/tests/rig/dovecot.sh" start "$RIG" --plain-port "${BENCH_PLAIN_PORT:-15143}" \
    --tls-port "${BENCH_TLS_PORT:-15993}" --messages 20 --bulk 100000
# shellcheck disable=SC1091
source "$RIG/rig.env"
write_bridge_config "127.0.0.1:$BRIDGE_PORT" "$DIR/bridge.toml"
"$ROOT/target/debug/bridge" --config "$DIR/bridge.toml" >"$DIR/bridge.log" 2>&1 &
BRIDGE_PID=$!
wait_http "http://127.0.0.1:$BRIDGE_PORT/healthz" 30

# A first visit (nothing cached), then reopening with the IndexedDB cache.
for cache in off on; do
    BENCH_BASE_URL="http://127.0.0.1:$BRIDGE_PORT" BENCH_USER="$RIG_USER3" BENCH_PASS="$RIG_PASS3" \
    BENCH_RUNS="$RUNS" BENCH_CACHE="$cache" node "$ROOT/tests/e2e/bench-page.mjs"
done
