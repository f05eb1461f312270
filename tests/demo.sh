#!/usr/bin/env bash
# Builds everything and runs the webmail.
#   tests/demo.sh                  local demo: a private Dovecot with a generated mailbox and
#                                  a bridge that offers only that server
#   tests/demo.sh --config FILE    the bridge with your own config (real servers, see
#                                  docs/bridge-protocol.md and bridge --help)
# Extra arguments after the options go to the bridge. Stops everything on Ctrl-C.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

CONFIG=""
LISTEN=${DEMO_LISTEN:-127.0.0.1:8080}
BRIDGE_ARGS=()
MESSAGES=${DEMO_MESSAGES:-2000}
while [ $# -gt 0 ]; do
    case $1 in
        --config) CONFIG=$2; shift 2 ;;
        --listen) LISTEN=$2; BRIDGE_ARGS+=(--listen "$2"); shift 2 ;;
        --messages) MESSAGES=$2; shift 2 ;;
        -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
        *) break ;;
    esac
done

RIG="$OUT/demo"
OWN_RIG=""
BRIDGE_PID=""
cleanup() {
    [ -n "$BRIDGE_PID" ] && kill "$BRIDGE_PID" 2>/dev/null && wait "$BRIDGE_PID" 2>/dev/null
    [ -n "$OWN_RIG" ] && "$ROOT/tests/rig/dovecot.sh" stop "$RIG" >/dev/null 2>&1
    return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Runs the bridge in the background so a signal reaches this script at once and the
# EXIT trap stops the bridge and the demo Dovecot.
run_bridge() {
    "$ROOT/target/release/bridge" "$@" &
    BRIDGE_PID=$!
    wait "$BRIDGE_PID"
}

install_demo_prereqs
build_web
log "building the bridge"
cargo build --release -p bridge

if [ -z "$CONFIG" ]; then
    log "starting the demo Dovecot with $MESSAGES messages"
    OWN_RIG=1
    "$ROOT/tests/rig/dovecot.sh" start "$RIG" --plain-port 11143 --tls-port 11993 \
        --messages "$MESSAGES"
    # shellcheck disable=SC1091
    source "$RIG/rig.env"
    CONFIG="$RIG/bridge.toml"
    cat >"$CONFIG" <<CONF
listen = "$LISTEN"
web_dir = "$ROOT/web/dist"
extra_ca = "$RIG_CA"

[[servers]]
id = "demo"
name = "Demo mailbox"
host = "localhost"
port = $RIG_TLS_PORT
security = "tls"
# The demo Dovecot is on loopback.
internal = true
CONF
    cat <<MSG

  Webmail:   http://$LISTEN/
  User:      $RIG_USER
  Password:  $RIG_PASS
  ($RIG_MESSAGES messages in INBOX; Ctrl-C stops the bridge and Dovecot)

MSG
    run_bridge --config "$CONFIG" "$@"
else
    log "starting the bridge with $CONFIG"
    run_bridge --config "$CONFIG" --web-dir "$ROOT/web/dist" "${BRIDGE_ARGS[@]}" "$@"
fi
