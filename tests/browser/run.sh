#!/usr/bin/env bash
# Real-browser tests of the pages server-example serves: headless Chromium (Debian's
# `chromium`, installed here if absent) driven over the DevTools protocol by
# playwright-core (npm, installed here at the version package-lock.json pins), with a
# virtual WebAuthn authenticator. Starts its own in-memory server on a free port and
# stops it. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=tests/browser

browser="${CHROMIUM:-$(command -v chromium || true)}"
if [ -z "$browser" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    browser="$(command -v chromium)"
fi
if [ ! -d "$here/node_modules/playwright-core" ]; then
    npm ci --prefix "$here" --no-audit --no-fund --silent
fi
cargo build --quiet -p server-example

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
# Browsers take no IP address as a relying party id: the page runs at localhost.
base="http://localhost:$port"
work="$(mktemp -d)"
server_pid=""
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT

env -u DATABASE_URL \
    BIND_ADDR="127.0.0.1:$port" \
    DATA_DIR="$work/data" \
    WEBAUTHN_RP_ID=localhost \
    WEBAUTHN_ORIGIN="$base" \
    RUST_LOG=warn \
    target/debug/server-example >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
    curl -fsS "$base/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done

status=0
node "$here/passkeys.mjs" "$base" "$browser" || status=$?
if [ "$status" -ne 0 ]; then
    echo "server log:" >&2
    tail -n 50 "$work/server.log" >&2
fi
exit "$status"
