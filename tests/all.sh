#!/usr/bin/env bash
# Installs every missing prerequisite, then runs every test layer:
#   1. native: engine transcripts and bridge tests (cargo test)
#   2. browser: the wasm engine in headless Chromium through the real bridge to real Dovecot
#   3. end-to-end: the webmail page driven by Playwright against the same bridge and Dovecot
# Servers listen on 127.0.0.1 only and are stopped on exit, pass or fail.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

BRIDGE_PORT=${BRIDGE_PORT:-18080}
RIG="$OUT/rig"
BRIDGE_PID=""

cleanup() {
    [ -n "$BRIDGE_PID" ] && kill "$BRIDGE_PID" 2>/dev/null && wait "$BRIDGE_PID" 2>/dev/null
    "$ROOT/tests/rig/dovecot.sh" stop "$RIG" >/dev/null 2>&1 || true
}
trap cleanup EXIT

install_test_prereqs
mkdir -p "$OUT"

log "starting the Dovecot rig (carol gets 100,000 messages for the relay-fidelity tests)"
"$ROOT/tests/rig/dovecot.sh" start "$RIG" --messages 200 --bulk 100000
# shellcheck disable=SC1091
source "$RIG/rig.env"

log "native tests (cargo test --workspace; the bridge's Dovecot tests use the rig)"
RIG_ENV="$RIG/rig.env" REQUIRE_RIG=1 cargo test --workspace

build_web
cargo build -p bridge

log "starting the bridge on 127.0.0.1:$BRIDGE_PORT"
write_bridge_config "127.0.0.1:$BRIDGE_PORT" "$OUT/bridge.toml"
RUST_LOG=${RUST_LOG:-info} "$ROOT/target/debug/bridge" --config "$OUT/bridge.toml" \
    >"$OUT/bridge.log" 2>&1 &
BRIDGE_PID=$!
wait_http "http://127.0.0.1:$BRIDGE_PORT/healthz" 30

export E2E_BRIDGE_WS="ws://127.0.0.1:$BRIDGE_PORT/imap" E2E_USER="$RIG_USER" \
    E2E_PASS="$RIG_PASS" E2E_MESSAGES="$RIG_MESSAGES"
log "browser tests (wasm-bindgen-test in headless Chromium)"
# A fixed page address, so the bridge's Origin allow-list can name it.
WASM_BINDGEN_TEST_ADDRESS=127.0.0.1:18090 CHROMEDRIVER=/usr/bin/chromedriver \
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
    cargo test -p client-wasm --target wasm32-unknown-unknown --test browser

log "end-to-end tests (Playwright, Debian Chromium)"
E2E_BASE_URL="http://127.0.0.1:$BRIDGE_PORT" E2E_SERVER_ID=dovecot-tls \
E2E_UNREACHABLE_SERVER=closed-port E2E_BAD_CERT_SERVER=wrong-name \
E2E_NEWEST_SUBJECT="Newest test message $RIG_MESSAGES" E2E_OUTPUT="$OUT" \
E2E_IMAP_TLS_PORT="$RIG_TLS_PORT" E2E_IMAP_CA="$RIG_CA" \
E2E_BULK_USER="$RIG_USER3" E2E_BULK_PASS="$RIG_PASS3" E2E_BULK="$RIG_BULK" \
    node --test --test-reporter=spec tests/e2e/

log "checking that no password reached the bridge log"
if grep -F -e "$RIG_PASS" -e "not-the-password" "$OUT/bridge.log"; then
    echo "a password appears in the bridge log" >&2
    exit 1
fi
log "all test layers passed"
