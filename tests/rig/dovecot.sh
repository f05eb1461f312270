#!/usr/bin/env bash
# Real-server test rig: a private Dovecot 2.3 instance on 127.0.0.1 with a
# test CA, two users and a generated mailbox. It never touches /etc/dovecot
# and installs nothing (dovecot-core, dovecot-imapd, openssl and python3 must
# already be present). Needs root: Dovecot refuses uid 0 for mail, so the
# mail belongs to a system user "vmail" that this script creates if missing.
#
# Usage:
#   tests/rig/dovecot.sh start DIR [--plain-port N] [--tls-port N]
#                                  [--messages N] [--seed S] [--bulk N]
#   tests/rig/dovecot.sh stop DIR
#
# start (re)creates everything in DIR except DIR/certs (re-used when it still
# holds a valid CA + leaf pair), resets the mail to a known state, starts
# Dovecot and writes DIR/rig.env (see write_env). A rig already running in
# DIR is stopped first. stop is safe to call when nothing runs.
#
# --bulk N gives a third user (carol, RIG_USER3/RIG_PASS3) N generated
# messages in her INBOX (default 0: an empty INBOX), for relay-fidelity tests
# and benchmarks of a large header sync; 100000 takes a few seconds.
#
# Layout of DIR:
#   certs/ca.pem ca.key        test CA (trust ca.pem in clients)
#   certs/leaf.pem leaf.key    server certificate signed by the CA
#   dovecot.conf users         private config and passwd-file
#   home/<user>/Maildir        mail (INBOX; .Drafts .Sent .Trash .Archive)
#   run/ state/                Dovecot base_dir and state_dir
#   dovecot.log dovecot.out    Dovecot's log; its stdout/stderr
#   dovecot.pid rig.env        master PID; variables for the tests
set -euo pipefail

readonly HOST=127.0.0.1
readonly MAIL_USER=vmail
readonly DH_FILE=/usr/share/dovecot/dh.pem
readonly MARKER=.dovecot-rig   # marks DIR as ours, so resetting it is safe
readonly USER1=alice PASS1='alice-pass-1'
# A space and a double quote: clients must quote or use a literal.
readonly USER2=bob PASS2='bob pass "2"'
# The big mailbox (--bulk N messages in INBOX).
readonly USER3=carol PASS3='carol-pass-3'
# Messages seeded into alice's other folders (Junk stays empty on purpose).
readonly -A FOLDER_COUNTS=([Drafts]=3 [Sent]=5 [Trash]=4 [Archive]=6)
readonly BOB_MESSAGES=3
readonly START_TIMEOUT=15 STOP_TIMEOUT=10

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly HERE

die() {
    echo "dovecot.sh: $*" >&2
    exit 1
}

usage() {
    sed -n '/^# Usage:/,/^#   tests.*stop DIR/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

# Make DIR absolute without requiring it to exist yet.
abs_path() {
    case $1 in
        /*) printf '%s\n' "$1" ;;
        *) printf '%s/%s\n' "$PWD" "$1" ;;
    esac
}

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

# --- process handling -------------------------------------------------------

# True if PID $1 exists and is not a zombie (which still answers kill -0).
pid_alive() {
    local state
    state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
    [[ -n $state && $state != Z ]]
}

# The PID in DIR/dovecot.pid if it is a live Dovecot master, else nothing.
# Checking the executable guards against a recycled PID.
running_pid() {
    local dir=$1 pid exe
    [[ -f $dir/dovecot.pid ]] || return 0
    pid=$(<"$dir/dovecot.pid")
    is_uint "$pid" || return 0
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 0
    [[ $exe == */dovecot ]] || return 0
    pid_alive "$pid" || return 0
    printf '%s\n' "$pid"
}

# True while a live (non-zombie) process is left in process group $1.
# Dovecot runs in its own session (setsid), so the group holds exactly the
# master and its children; login processes keep the listening sockets open a
# moment after the master is gone. Zombies are skipped: in a container whose
# PID 1 does not reap, they never disappear.
group_alive() {
    local p
    for p in $(pgrep -g "$1"); do
        pid_alive "$p" && return 0
    done
    return 1
}

wait_group_gone() {
    local pgid=$1 tenths=$(($2 * 10))
    while ((tenths-- > 0)); do
        group_alive "$pgid" || return 0
        sleep 0.1
    done
    return 1
}

cmd_stop() {
    local dir pid
    dir=$(abs_path "$1")
    pid=$(running_pid "$dir")
    if [[ -z $pid ]]; then
        rm -f "$dir/dovecot.pid"
        echo "dovecot.sh: not running in $dir"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_group_gone "$pid" "$STOP_TIMEOUT"; then
        echo "dovecot.sh: still running after ${STOP_TIMEOUT}s, killing" >&2
        kill -KILL -- "-$pid" 2>/dev/null || true
        wait_group_gone "$pid" 2 || die "could not stop process group $pid"
    fi
    rm -f "$dir/dovecot.pid"
    echo "dovecot.sh: stopped (pid $pid)"
}

# --- readiness probes -------------------------------------------------------

# Plain port: a TCP connect plus an IMAP greeting; bash's /dev/tcp avoids
# depending on netcat.
greet_plain() {
    local fd line=
    exec {fd}<>"/dev/tcp/$HOST/$1" || return 1
    IFS= read -r -t 2 -u "$fd" line || true
    printf 'r LOGOUT\r\n' 1>&"$fd" 2>/dev/null || true
    exec {fd}>&-
    [[ $line == '* OK'* ]]
}

# TLS port: the greeting must arrive over a handshake that verifies against
# our CA for the name localhost, which also proves the certificates are right.
# LOGOUT makes the server close, so s_client ends without waiting out the
# timeout. Output is captured rather than piped into grep -q, which would
# make pipefail report s_client's SIGPIPE.
greet_tls() {
    local out
    out=$(printf 'r LOGOUT\r\n' |
        timeout 5 openssl s_client -connect "$HOST:$1" -servername localhost \
            -CAfile "$2" -verify_return_error -verify_hostname localhost -quiet \
            2>/dev/null) || true
    [[ $out == '* OK'* ]]
}

port_in_use() {
    local fd
    exec {fd}<>"/dev/tcp/$HOST/$1" || return 1
    exec {fd}>&-
    return 0
}

show_logs() {
    local dir=$1 f
    for f in "$dir/dovecot.out" "$dir/dovecot.log"; do
        [[ -s $f ]] || continue
        echo "----- tail of $f" >&2
        tail -n 30 "$f" >&2
    done
}

# --- setup steps ------------------------------------------------------------

ensure_mail_user() {
    if ! getent passwd "$MAIL_USER" >/dev/null; then
        useradd --system --user-group --no-create-home \
            --home-dir /nonexistent --shell /usr/sbin/nologin "$MAIL_USER"
    fi
}

# Re-use DIR/certs when the leaf still verifies against the CA: generating is
# cheap with EC keys, but keeping the CA stable lets clients cache it.
ensure_certs() {
    local c=$1/certs
    if [[ -s $c/ca.pem && -s $c/ca.key && -s $c/leaf.pem && -s $c/leaf.key ]] &&
        openssl verify -CAfile "$c/ca.pem" -verify_hostname localhost \
            -purpose sslserver "$c/leaf.pem" >/dev/null 2>&1; then
        return 0
    fi
    rm -rf "$c"
    mkdir -m 755 "$c"
    (
        umask 077
        # CA: its own constraints are explicit so strict verifiers
        # (webpki/rustls) accept it as an issuer.
        openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
            -nodes -keyout "$c/ca.key" -out "$c/ca.pem" -days 3650 \
            -subj "/CN=Webmail Test Rig CA" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" \
            -addext "subjectKeyIdentifier=hash" 2>/dev/null
        # Leaf: rustls rejects a CA certificate used as the server's own
        # (CaUsedAsEndEntity), hence a separate CA:FALSE serverAuth leaf. It
        # names only "localhost", so reaching the same server as 127.0.0.1 is
        # a host-name mismatch the tests rely on.
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
            -nodes -keyout "$c/leaf.key" -out "$c/leaf.csr" \
            -subj "/CN=localhost" 2>/dev/null
        printf '%s\n' \
            "basicConstraints=critical,CA:FALSE" \
            "keyUsage=critical,digitalSignature" \
            "extendedKeyUsage=serverAuth" \
            "subjectAltName=DNS:localhost" \
            "subjectKeyIdentifier=hash" \
            "authorityKeyIdentifier=keyid,issuer" >"$c/leaf.ext"
        openssl x509 -req -in "$c/leaf.csr" -CA "$c/ca.pem" -CAkey "$c/ca.key" \
            -CAcreateserial -CAserial "$c/ca.srl" -days 825 \
            -extfile "$c/leaf.ext" -out "$c/leaf.pem" 2>/dev/null
    )
    rm -f "$c/leaf.csr" "$c/leaf.ext" "$c/ca.srl"
    # Certificates are public; keys stay root-only (Dovecot's config process
    # reads them as root).
    chmod 644 "$c/ca.pem" "$c/leaf.pem"
}

# Single-quoted shell words: readable by sh/bash and by dotenv-style parsers.
shq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

write_env() {
    local dir=$1
    {
        echo "# Written by tests/rig/dovecot.sh start; load with: set -a; . $dir/rig.env; set +a"
        echo "RIG_DIR=$(shq "$dir")"
        echo "RIG_HOST=$(shq "$HOST")"
        echo "RIG_PLAIN_PORT=$(shq "$PLAIN_PORT")"
        echo "RIG_TLS_PORT=$(shq "$TLS_PORT")"
        echo "RIG_CA=$(shq "$dir/certs/ca.pem")"
        echo "RIG_USER=$(shq "$USER1")"
        echo "RIG_PASS=$(shq "$PASS1")"
        echo "RIG_USER2=$(shq "$USER2")"
        echo "RIG_PASS2=$(shq "$PASS2")"
        echo "RIG_MESSAGES=$(shq "$MESSAGES")"
        echo "RIG_USER3=$(shq "$USER3")"
        echo "RIG_PASS3=$(shq "$PASS3")"
        echo "RIG_BULK=$(shq "$BULK")"
        echo "RIG_LOG=$(shq "$dir/dovecot.log")"
    } >"$dir/rig.env.tmp"
    mv "$dir/rig.env.tmp" "$dir/rig.env"
}

write_config() {
    local dir=$1 uid=$2
    cat >"$dir/dovecot.conf" <<EOF
# Generated by tests/rig/dovecot.sh: a private test instance; rewritten on
# every start. Only the two IMAP listeners below open TCP ports.
protocols = imap
listen = $HOST
base_dir = $dir/run
state_dir = $dir/state
log_path = $dir/dovecot.log
instance_name = dovecot-rig

default_internal_user = dovecot
default_login_user = dovenull
# Dovecot refuses uid 0 for mail; allow exactly the rig's mail user.
first_valid_uid = $uid
last_valid_uid = $uid

ssl = yes
ssl_cert = <$dir/certs/leaf.pem
ssl_key = <$dir/certs/leaf.key
ssl_dh = <$DH_FILE
ssl_min_protocol = TLSv1.2

# Clients under test may log in without TLS on the plain port.
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes

passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $dir/users
}
userdb {
  driver = passwd-file
  args = username_format=%u $dir/users
}

mail_location = maildir:~/Maildir

namespace inbox {
  inbox = yes
  separator = /
  mailbox Drafts {
    auto = subscribe
    special_use = \\Drafts
  }
  mailbox Sent {
    auto = subscribe
    special_use = \\Sent
  }
  mailbox Trash {
    auto = subscribe
    special_use = \\Trash
  }
  mailbox Junk {
    auto = subscribe
    special_use = \\Junk
  }
  mailbox Archive {
    auto = subscribe
    special_use = \\Archive
  }
}

protocol imap {
  # COMPRESS=DEFLATE
  mail_plugins = \$mail_plugins imap_zlib
  # The default (10) fails parallel tests that all log in as one user.
  mail_max_userip_connections = 500
}

service imap-login {
  inet_listener imap {
    port = $PLAIN_PORT
  }
  inet_listener imaps {
    port = $TLS_PORT
    ssl = yes
  }
  # One long-lived login process serving many connections: logins skip a
  # fork, and TLS sessions are not capped at default_process_limit (100).
  service_count = 0
  process_min_avail = 1
  client_limit = 1000
}
EOF
}

# Fresh mail on every start, so RIG_MESSAGES and the fixed points in
# mailgen.py hold for every test run.
make_mail() {
    local dir=$1 uid=$2 gid=$3 py end folder k=0
    # Resolve the interpreter once: a pyenv shim costs ~50 ms per call.
    py=$(python3 -c 'import sys; print(sys.executable)')
    end=$(date +%s)
    rm -rf "${dir:?}/home"
    mkdir -m 755 "$dir/home"
    for u in "$USER1" "$USER2" "$USER3"; do
        mkdir -m 700 "$dir/home/$u"
        chown "$uid:$gid" "$dir/home/$u"
    done
    local gen=("$py" "$HERE/mailgen.py" --owner "$MAIL_USER" --end "$end")
    "${gen[@]}" --maildir "$dir/home/$USER1/Maildir" --count "$MESSAGES" \
        --seed "$SEED" >/dev/null
    for folder in Drafts Sent Trash Archive; do
        local kind=archive
        case $folder in Drafts) kind=drafts ;; Sent) kind=sent ;; esac
        k=$((k + 1))
        "${gen[@]}" --maildir "$dir/home/$USER1/Maildir/.$folder" --kind "$kind" \
            --count "${FOLDER_COUNTS[$folder]}" --seed "$((SEED + k))" >/dev/null
    done
    "${gen[@]}" --maildir "$dir/home/$USER2/Maildir" --count "$BOB_MESSAGES" \
        --seed "$((SEED + 10))" --me "Bob Builder <bob@example.test>" >/dev/null
    if ((BULK > 0)); then
        "${gen[@]}" --maildir "$dir/home/$USER3/Maildir" --count "$BULK" \
            --seed "$((SEED + 20))" --me "Carol Jones <carol.jones@example.org>" >/dev/null
    fi
}

cmd_start() {
    local dir=$1 uid gid pid
    shift
    PLAIN_PORT=10143 TLS_PORT=10993 MESSAGES=200 SEED=1 BULK=0
    while (($#)); do
        (($# >= 2)) || die "$1 needs a value"
        case $1 in
            --plain-port) PLAIN_PORT=$2 ;;
            --tls-port) TLS_PORT=$2 ;;
            --messages) MESSAGES=$2 ;;
            --seed) SEED=$2 ;;
            --bulk) BULK=$2 ;;
            *) die "unknown option: $1" ;;
        esac
        shift 2
    done
    for v in PLAIN_PORT TLS_PORT MESSAGES SEED BULK; do
        is_uint "${!v}" || die "$v must be a non-negative integer, got '${!v}'"
    done
    ((PLAIN_PORT >= 1 && PLAIN_PORT <= 65535 && TLS_PORT >= 1 && TLS_PORT <= 65535)) ||
        die "ports must be 1-65535"
    ((PLAIN_PORT != TLS_PORT)) || die "plain and TLS ports must differ"

    (($(id -u) == 0)) || die "must run as root (creates user $MAIL_USER, chowns mail)"
    local tool
    for tool in dovecot doveconf openssl python3 setsid timeout useradd runuser pgrep; do
        command -v "$tool" >/dev/null || die "$tool not found; install it first"
    done
    [[ -r $DH_FILE ]] || die "$DH_FILE missing (package dovecot-core)"

    dir=$(abs_path "$dir")
    # The path goes unquoted into dovecot.conf, so keep it to safe characters.
    [[ $dir =~ ^[A-Za-z0-9._/+@-]+$ ]] ||
        die "DIR may only contain letters, digits and . _ / + @ -: $dir"
    if [[ -e $dir && ! -e $dir/$MARKER ]] &&
        [[ -n $(ls -A "$dir" 2>/dev/null) || ! -d $dir ]]; then
        die "$dir exists and is not a rig directory; use an empty or new one"
    fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd -P)
    touch "$dir/$MARKER"
    chmod 755 "$dir"

    pid=$(running_pid "$dir")
    if [[ -n $pid ]]; then
        echo "dovecot.sh: a rig is already running in $dir (pid $pid); stopping it first"
        cmd_stop "$dir" >/dev/null
    fi
    for p in "$PLAIN_PORT" "$TLS_PORT"; do
        ! port_in_use "$p" 2>/dev/null ||
            die "port $p on $HOST is already in use (another rig? pick --plain-port/--tls-port)"
    done
    rm -f "$dir/rig.env" "$dir/dovecot.pid"

    ensure_mail_user
    uid=$(id -u "$MAIL_USER")
    gid=$(id -g "$MAIL_USER")
    # Every ancestor of DIR must be searchable by the unprivileged Dovecot
    # users (e.g. not under /root), or logins fail with obscure errors.
    runuser -u "$MAIL_USER" -- test -x "$dir" ||
        die "user $MAIL_USER cannot reach $dir (a parent directory is not searchable); use e.g. /tmp/..."

    ensure_certs "$dir"

    # passwd-file: user:password:uid:gid:gecos:home:shell:extra. Passwords may
    # hold spaces and quotes but no ':'. Read by the auth process as dovecot.
    printf '%s:{PLAIN}%s:%s:%s::%s::\n' \
        "$USER1" "$PASS1" "$uid" "$gid" "$dir/home/$USER1" \
        "$USER2" "$PASS2" "$uid" "$gid" "$dir/home/$USER2" \
        "$USER3" "$PASS3" "$uid" "$gid" "$dir/home/$USER3" >"$dir/users"
    chown root:dovecot "$dir/users"
    chmod 640 "$dir/users"

    make_mail "$dir" "$uid" "$gid"
    write_config "$dir" "$uid"
    rm -rf "$dir/run" "$dir/state"
    mkdir -m 755 "$dir/state"
    : >"$dir/dovecot.log"
    : >"$dir/dovecot.out"
    doveconf -c "$dir/dovecot.conf" -n >/dev/null 2>"$dir/dovecot.out" || {
        show_logs "$dir"
        die "dovecot.conf rejected"
    }

    # cd as its own statement, then "prog & echo \$!": that records the
    # program's own PID, not a subshell's. setsid (which does not fork here,
    # as a background job is no group leader) gives Dovecot its own process
    # group, so stop can wait for every child, and a Ctrl-C aimed at the
    # caller's group does not hit it.
    cd "$dir"
    setsid dovecot -F -c "$dir/dovecot.conf" </dev/null >>"$dir/dovecot.out" 2>&1 &
    echo $! >"$dir/dovecot.pid"
    cd - >/dev/null

    pid=$(<"$dir/dovecot.pid")
    local deadline=$((SECONDS + START_TIMEOUT)) plain_ok='' tls_ok=''
    while :; do
        # Not running_pid: right after the fork the PID may still be setsid
        # on its way to exec'ing dovecot.
        if ! pid_alive "$pid"; then
            show_logs "$dir"
            rm -f "$dir/dovecot.pid"
            die "dovecot exited during start-up"
        fi
        [[ -n $plain_ok ]] || { greet_plain "$PLAIN_PORT" 2>/dev/null && plain_ok=1; } || true
        [[ -n $tls_ok ]] || { greet_tls "$TLS_PORT" "$dir/certs/ca.pem" && tls_ok=1; } || true
        [[ -n $plain_ok && -n $tls_ok ]] && break
        if ((SECONDS >= deadline)); then
            show_logs "$dir"
            cmd_stop "$dir" >/dev/null || true
            die "no IMAP greeting within ${START_TIMEOUT}s (plain ok: ${plain_ok:-no}, tls ok: ${tls_ok:-no})"
        fi
        sleep 0.1
    done

    write_env "$dir"
    echo "dovecot.sh: running (pid $(<"$dir/dovecot.pid")) on $HOST:$PLAIN_PORT (plain/STARTTLS)" \
        "and $HOST:$TLS_PORT (TLS); $MESSAGES messages for $USER1, $BULK for $USER3;" \
        "env in $dir/rig.env"
}

main() {
    local cmd=${1:-}
    case $cmd in
        start | stop)
            (($# >= 2)) || {
                usage >&2
                exit 2
            }
            ;;
        -h | --help | help)
            usage
            exit 0
            ;;
        *)
            usage >&2
            exit 2
            ;;
    esac
    shift
    if [[ $cmd == start ]]; then
        cmd_start "$@"
    else
        (($# == 1)) || die "stop takes only DIR"
        cmd_stop "$1"
    fi
}

main "$@"
