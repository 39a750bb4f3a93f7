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
. tests/lib.sh
npm_packages "$here" playwright-core
cargo build --quiet -p server-example

port="$(free_port)"
# Browsers take no IP address as a relying party id: the page runs at localhost.
base="http://localhost:$port"
work="$(mktemp -d)"
server_pid=""
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT

start_server "$work/server.log" "$base" \
    BIND_ADDR="127.0.0.1:$port" \
    DATA_DIR="$work/data" \
    WEBAUTHN_RP_ID=localhost \
    WEBAUTHN_ORIGIN="$base"

status=0
node "$here/passkeys.mjs" "$base" "$browser" || status=$?
if [ "$status" -ne 0 ]; then
    echo "server log:" >&2
    tail -n 50 "$work/server.log" >&2
fi
exit "$status"
