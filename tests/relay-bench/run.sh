#!/usr/bin/env bash
# Relay benchmark: direct TCP vs the bridge vs websockify, side by side in one run.
#
#   bash tests/relay-bench/run.sh
#
# Starts a private Dovecot rig with a 100,000-message mailbox (tests/output/bench-rig),
# the release bridge, two websockify instances and two minimal reference relays
# (`relay-bench ws-relay`; of each, one in front of Dovecot, one in front of the driver's
# 1 GiB bulk source), runs target/release/relay-bench, and writes
# docs/benchmarks.md (plus tests/output/bench/report.md and the logs there). Everything
# listens on 127.0.0.1 and is stopped on exit. Bounded: the driver has a 15-minute limit,
# each of its steps its own.
#
# Ports (override with the environment): BENCH_PLAIN_PORT=13143 BENCH_TLS_PORT=13993
# BENCH_BRIDGE_PORT=19080 BENCH_WS_IMAP_PORT=19081 BENCH_WS_BULK_PORT=19082
# BENCH_BULK_PORT=19083 BENCH_IDLE_PORT=19084 BENCH_MIN_IMAP_PORT=19085
# BENCH_MIN_BULK_PORT=19086. BENCH_SECTIONS (default
# idle,bulk,latency,sync,wsidle) selects parts; BENCH_REPORT (default docs/benchmarks.md).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$ROOT"

PLAIN_PORT=${BENCH_PLAIN_PORT:-13143}
TLS_PORT=${BENCH_TLS_PORT:-13993}
BRIDGE_PORT=${BENCH_BRIDGE_PORT:-19080}
WS_IMAP_PORT=${BENCH_WS_IMAP_PORT:-19081}
WS_BULK_PORT=${BENCH_WS_BULK_PORT:-19082}
BULK_PORT=${BENCH_BULK_PORT:-19083}
IDLE_PORT=${BENCH_IDLE_PORT:-19084}
MIN_IMAP_PORT=${BENCH_MIN_IMAP_PORT:-19085}
MIN_BULK_PORT=${BENCH_MIN_BULK_PORT:-19086}
SECTIONS=${BENCH_SECTIONS:-idle,bulk,latency,sync,wsidle}
REPORT=${BENCH_REPORT:-$ROOT/docs/benchmarks.md}
IDLE_SESSIONS=${BENCH_IDLE_SESSIONS:-10000}
BULK_MESSAGES=100000

BENCH_OUT="$OUT/bench"
RIG="$OUT/bench-rig"
BRIDGE_PID=""
RELAY_PIDS=()

# Stops what this script started: by PID, plus websockify's forked children (by parent PID).
cleanup() {
    local pid child
    for pid in "${RELAY_PIDS[@]}"; do
        for child in $(pgrep -P "$pid" 2>/dev/null); do kill "$child" 2>/dev/null || true; done
        kill "$pid" 2>/dev/null || true
    done
    if [ -n "$BRIDGE_PID" ]; then
        kill "$BRIDGE_PID" 2>/dev/null || true
        wait "$BRIDGE_PID" 2>/dev/null || true
    fi
    for pid in "${RELAY_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    "$ROOT/tests/rig/dovecot.sh" stop "$RIG" >/dev/null 2>&1 || true
}
trap cleanup EXIT

wait_port() {
    local port=$1 limit=${2:-30} i
    for ((i = 0; i < limit * 10; i++)); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing listens on 127.0.0.1:$port after ${limit}s" >&2
    return 1
}

# 10,000 relayed sessions need 20,000 sockets in the bridge: raise the soft fd limit to the
# hard one (raising the hard limit needs CAP_SYS_RESOURCE, which a container may lack).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
FD_LIMIT=$(ulimit -n)
if [ "$FD_LIMIT" != unlimited ] && [ "$FD_LIMIT" -lt $((2 * IDLE_SESSIONS + 64)) ]; then
    # Each relayed session holds two sockets in the bridge.
    IDLE_SESSIONS=$(((FD_LIMIT - 64) / 2))
    IDLE_NOTE="the fd limit here is $FD_LIMIT per process (hard limit, not raisable in this container), so the bridge can hold at most $IDLE_SESSIONS two-socket sessions: the idle test uses $IDLE_SESSIONS instead of 10,000"
else
    IDLE_NOTE=""
fi

apt_install dovecot-core dovecot-imapd openssl
if ! command -v websockify >/dev/null 2>&1; then
    log "pip install websockify==0.13.*"
    python3 -m pip install --quiet 'websockify==0.13.*'
fi
command -v websockify >/dev/null 2>&1 || { echo "websockify not on PATH after pip install" >&2; exit 1; }
WEBSOCKIFY_VERSION=$(python3 -m pip show websockify 2>/dev/null | awk '/^Version:/ {print $2}')

log "building the release bridge and relay-bench"
cargo build --release -p bridge -p relay-bench

mkdir -p "$BENCH_OUT"
log "starting the Dovecot rig ($BULK_MESSAGES messages for the header sync)"
"$ROOT/tests/rig/dovecot.sh" start "$RIG" --plain-port "$PLAIN_PORT" --tls-port "$TLS_PORT" \
    --messages 50 --bulk "$BULK_MESSAGES"
# shellcheck disable=SC1091
source "$RIG/rig.env"

# Bridge config: everything is on loopback, hence internal = true; session limits raised for
# the idle-session measurement.
server_entry() {
    printf '\n[[servers]]\nid = "%s"\nname = "Bench %s"\nhost = "%s"\nport = %s\nsecurity = "%s"\ninternal = true\n' \
        "$1" "$1" "$2" "$3" "$4"
}
{
    printf 'listen = "127.0.0.1:%s"\nweb_dir = "%s"\nextra_ca = "%s"\n' \
        "$BRIDGE_PORT" "$ROOT/web" "$RIG_CA"
    server_entry plain localhost "$RIG_PLAIN_PORT" plain
    server_entry plain-ip 127.0.0.1 "$RIG_PLAIN_PORT" plain
    server_entry starttls localhost "$RIG_PLAIN_PORT" starttls
    server_entry tls localhost "$RIG_TLS_PORT" tls
    server_entry bulk 127.0.0.1 "$BULK_PORT" plain
    server_entry idle-fake 127.0.0.1 "$IDLE_PORT" plain
    printf '\n[limits]\nmax_sessions = 20000\nmax_sessions_per_ip = 20000\n'
} >"$BENCH_OUT/bridge.toml"

log "starting the release bridge on 127.0.0.1:$BRIDGE_PORT"
RUST_LOG=${RUST_LOG:-warn} "$ROOT/target/release/bridge" --config "$BENCH_OUT/bridge.toml" \
    >"$BENCH_OUT/bridge.log" 2>&1 &
BRIDGE_PID=$!
if ! wait_http "http://127.0.0.1:$BRIDGE_PORT/healthz" 30 || ! kill -0 "$BRIDGE_PID" 2>/dev/null; then
    cat "$BENCH_OUT/bridge.log" >&2
    exit 1
fi

log "starting websockify $WEBSOCKIFY_VERSION on 127.0.0.1:$WS_IMAP_PORT (→ Dovecot) and :$WS_BULK_PORT (→ bulk source)"
websockify "127.0.0.1:$WS_IMAP_PORT" "127.0.0.1:$RIG_PLAIN_PORT" >"$BENCH_OUT/websockify-imap.log" 2>&1 &
WS_IMAP_PID=$!
RELAY_PIDS+=("$WS_IMAP_PID")
websockify "127.0.0.1:$WS_BULK_PORT" "127.0.0.1:$BULK_PORT" >"$BENCH_OUT/websockify-bulk.log" 2>&1 &
RELAY_PIDS+=("$!")
log "starting the minimal reference relays on 127.0.0.1:$MIN_IMAP_PORT (→ Dovecot) and :$MIN_BULK_PORT (→ bulk source)"
"$ROOT/target/release/relay-bench" ws-relay "$MIN_IMAP_PORT" "$RIG_PLAIN_PORT" >"$BENCH_OUT/minimal-imap.log" 2>&1 &
RELAY_PIDS+=("$!")
"$ROOT/target/release/relay-bench" ws-relay "$MIN_BULK_PORT" "$BULK_PORT" >"$BENCH_OUT/minimal-bulk.log" 2>&1 &
RELAY_PIDS+=("$!")
for port in "$WS_IMAP_PORT" "$WS_BULK_PORT" "$MIN_IMAP_PORT" "$MIN_BULK_PORT"; do
    wait_port "$port"
done

ARGS=(--rig-env "$RIG/rig.env"
    --bridge "127.0.0.1:$BRIDGE_PORT" --bridge-pid "$BRIDGE_PID"
    --websockify-imap "127.0.0.1:$WS_IMAP_PORT" --websockify-bulk "127.0.0.1:$WS_BULK_PORT"
    --websockify-pid "$WS_IMAP_PID"
    --minimal-imap "127.0.0.1:$MIN_IMAP_PORT" --minimal-bulk "127.0.0.1:$MIN_BULK_PORT"
    --bulk-port "$BULK_PORT" --idle-port "$IDLE_PORT" --idle-sessions "$IDLE_SESSIONS"
    --sections "$SECTIONS" --report "$BENCH_OUT/report.md"
    --command "bash tests/relay-bench/run.sh"
    --note "Dovecot $(dovecot --version | awk '{print $1}'), websockify $WEBSOCKIFY_VERSION (default mode: a process per session), bridge built with --release from $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD -- bridge 2>/dev/null || echo ' plus uncommitted changes')"
    --note "the bridge, websockify, Dovecot and the driver share the machine's cores")
if [ -n "$IDLE_NOTE" ]; then ARGS+=(--note "$IDLE_NOTE"); fi

log "running relay-bench (sections: $SECTIONS)"
status=0
timeout 900 "$ROOT/target/release/relay-bench" "${ARGS[@]}" 2>&1 | tee "$BENCH_OUT/driver.log" || status=$?
if [ -s "$BENCH_OUT/report.md" ]; then
    cp "$BENCH_OUT/report.md" "$REPORT"
    log "results written to $REPORT"
fi
exit "$status"
