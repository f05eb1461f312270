# Shared by tests/all.sh and tests/demo.sh: prerequisites, builds, and process helpers.
# Sourced, not run. Everything here must work on a fresh Debian 12 machine of the project's
# kind, so every tool the project needs is installed from the package registries here.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT="$ROOT/tests/output"

log() { printf '\n==> %s\n' "$*"; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs the Debian packages in "$@" that are missing.
apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "apt-get install ${missing[*]}"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# The wasm-bindgen CLI must equal the crate version in Cargo.lock, or the generated glue
# and the test runner refuse the module.
wasm_bindgen_version() {
    awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

install_rust_tools() {
    export PATH="$HOME/.cargo/bin:$PATH"
    if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
        log "rustup target add wasm32-unknown-unknown"
        rustup target add wasm32-unknown-unknown
    fi
    local want
    want=$(wasm_bindgen_version)
    if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$want" ]; then
        log "cargo install wasm-bindgen-cli $want"
        # Not --locked: its lockfile pins a webpki-roots version the registry no longer has.
        cargo install wasm-bindgen-cli --version "$want"
    fi
}

install_wasm_pack() {
    if ! command -v wasm-pack >/dev/null 2>&1; then
        log "cargo install wasm-pack"
        cargo install wasm-pack
    fi
}

# What the demo needs: Dovecot, openssl for its certificates, wasm-opt, the wasm toolchain.
install_demo_prereqs() {
    apt_install dovecot-core dovecot-imapd openssl binaryen ca-certificates curl
    command -v npm >/dev/null 2>&1 || apt_install nodejs npm
    install_rust_tools
    log "npm ci (tests/e2e: binaryen's wasm-opt and esbuild for build_web, playwright-core)"
    (cd "$ROOT/tests/e2e" && npm ci --no-audit --no-fund --loglevel=error)
    install_web_deps
}

# The page's vendored libraries (web/package.json), installed outside web/ so that no
# node_modules tree ever sits next to the page's files.
install_web_deps() {
    local dir="$ROOT/target/web-npm"
    log "npm ci (web/package.json: the page's vendored libraries)"
    mkdir -p "$dir"
    cp "$ROOT/web/package.json" "$ROOT/web/package-lock.json" "$dir/"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
}

# Everything: the demo's needs plus the browsers and test drivers.
install_test_prereqs() {
    apt_install dovecot-core dovecot-imapd openssl binaryen ca-certificates curl procps \
        chromium chromium-driver
    # The machine's own Node.js is newer than Debian's; only a machine without one gets it.
    command -v npm >/dev/null 2>&1 || apt_install nodejs npm
    install_rust_tools
    install_wasm_pack
    log "npm ci (tests/e2e: build_web's tools, playwright-core, no browser download)"
    (cd "$ROOT/tests/e2e" && npm ci --no-audit --no-fund --loglevel=error)
    install_web_deps
}

# Builds the engine for the browser into web/pkg, as small as it goes without source changes:
# the `release-wasm` profile (root Cargo.toml: opt-level "z", fat LTO, one codegen unit),
# wasm-bindgen, then `wasm-opt -Oz` (which also drops the name section).
# wasm-opt is npm's binaryen (tests/e2e/package.json, installed by `npm ci` there), never
# Debian's: binaryen 108 corrupts wasm-bindgen's externref table (the module then fails in
# Chromium 156 with "WebAssembly.Table.set(): Argument 1 is invalid for table"). The features
# are the ones rustc 1.95 emits for wasm32-unknown-unknown (its target_features section), plus
# SIMD, which .cargo/config.toml turns on for every wasm build. Then the page as served: web/
# holds the readable sources, build-page.mjs writes them minified into web/dist (gitignored),
# the directory the bridge serves (bridge/src/config.rs DEFAULT_WEB_DIR).
build_web() {
    local pkg="$ROOT/web/pkg" wasm_opt="$ROOT/tests/e2e/node_modules/.bin/wasm-opt"
    local wasm="$ROOT/web/pkg/client_wasm_bg.wasm" f raw gz gz_f page=0
    if [ ! -x "$wasm_opt" ]; then
        echo "build_web: $wasm_opt is missing: run 'npm ci' in tests/e2e" \
            "(install_demo_prereqs / install_test_prereqs do)" >&2
        return 1
    fi
    log "building client-wasm for the browser into web/pkg"
    # The root crate client-wasm/browser is the engine at its build's opt-levels (its lib.rs);
    # the files keep the engine's name, client_wasm*.
    cargo build --profile release-wasm -p client-wasm-browser --target wasm32-unknown-unknown --lib
    wasm-bindgen --target web --no-typescript --out-dir "$pkg" --out-name client_wasm \
        "$ROOT/target/wasm32-unknown-unknown/release-wasm/client_wasm_browser.wasm"
    # The HTML sanitizer (install_web_deps), minified (11 KB gzipped where the ES build is 21),
    # as web/vendor/purify.min.js; its source-map comment dropped (no request for a .map).
    log "copying DOMPurify into web/vendor"
    mkdir -p "$ROOT/web/vendor"
    rm -f "$ROOT/web/vendor/purify.es.mjs"
    sed '/^\/\/# sourceMappingURL=/d' \
        "$ROOT/target/web-npm/node_modules/dompurify/dist/purify.min.js" \
        >"$ROOT/web/vendor/purify.min.js"
    log "wasm-opt -Oz (binaryen $("$wasm_opt" --version | awk '{print $3}'), npm)"
    "$wasm_opt" -Oz --converge \
        --enable-bulk-memory --enable-bulk-memory-opt --enable-call-indirect-overlong \
        --enable-multivalue --enable-mutable-globals --enable-nontrapping-float-to-int \
        --enable-reference-types --enable-sign-ext --enable-simd \
        --strip-debug --strip-producers --strip-target-features \
        "$wasm" -o "$wasm.opt"
    mv "$wasm.opt" "$wasm"
    log "esbuild: the page as served into web/dist (tests/e2e/build-page.mjs)"
    node "$ROOT/tests/e2e/build-page.mjs" "$ROOT/web"
    raw=$(stat -c %s "$wasm")
    gz=$(gzip -9 -c "$wasm" | wc -c)
    # The whole page as the browser fetches it, each file gzipped on its own.
    while IFS= read -r -d '' f; do
        gz_f=$(gzip -9 -c "$f" | wc -c)
        page=$((page + gz_f))
        printf '%8d B gzip -9  %s\n' "$gz_f" "${f#"$ROOT/"}"
    done < <(find "$ROOT/web/dist" -type f -print0 | sort -z)
    log "engine: $((raw / 1024)) KB raw, $((gz / 1024)) KB gzip -9 (goal <= 250 KB);" \
        "whole page (HTML+JS+CSS+wasm): $((page / 1024)) KB gzip -9 (goal <= 300 KB)"
}

# Waits until an HTTP URL answers, for at most $2 seconds.
wait_http() {
    local url=$1 limit=${2:-30} i
    for ((i = 0; i < limit * 10; i++)); do
        curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "timed out waiting for $url" >&2
    return 1
}

# Writes a bridge config for the rig in $1 (its rig.env sourced) to file $2.
write_bridge_config() {
    local listen=$1 file=$2
    cat >"$file" <<CONF
listen = "$listen"
web_dir = "$ROOT/web/dist"
extra_ca = "$RIG_CA"
# The browser tests' page (wasm-bindgen-test-runner) and the bridge's own page (Playwright).
allowed_origins = ["http://127.0.0.1:18090", "http://$listen"]

# Every test server is on loopback: "internal" lifts the deny ranges for it.
[[servers]]
id = "dovecot-tls"
name = "Test Dovecot (TLS)"
host = "localhost"
port = $RIG_TLS_PORT
security = "tls"
internal = true

[[servers]]
id = "dovecot-starttls"
name = "Test Dovecot (STARTTLS)"
host = "localhost"
port = $RIG_PLAIN_PORT
security = "starttls"
internal = true

[[servers]]
id = "dovecot-plain"
name = "Test Dovecot (cleartext, loopback only)"
host = "localhost"
port = $RIG_PLAIN_PORT
security = "plain"
internal = true

# The rig's certificate names only "localhost": asking for 127.0.0.1 must fail verification.
[[servers]]
id = "wrong-name"
name = "Wrong certificate name"
host = "127.0.0.1"
port = $RIG_TLS_PORT
security = "tls"
internal = true

# Nothing listens on port 1: a refused connection.
[[servers]]
id = "closed-port"
name = "Unreachable server"
host = "127.0.0.1"
port = 1
security = "tls"
internal = true
CONF
}
