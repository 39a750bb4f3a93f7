#!/usr/bin/env bash
# Third-party JWKS clients against server-example rotating its signing keys every two
# seconds: PyJWT's PyJWKClient (PyPI, in a virtualenv made here) and npm jose's
# createRemoteJWKSet (installed here at the version package-lock.json pins) each
# verify a token from before a rotation and one from after it with one client. Starts
# its own in-memory server on a free port and stops it. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=tests/jwks-clients
venv="${JWKS_CLIENTS_VENV:-target/jwks-clients-venv}"

if ! "$venv/bin/python" -c 'import jwt, cryptography' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
fi
. tests/lib.sh
npm_packages "$here" jose
cargo build --quiet -p server-example

port="$(free_port)"
base="http://127.0.0.1:$port"
work="$(mktemp -d)"
server_pid=""
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT

start_server "$work/server.log" "$base" \
    BIND_ADDR="127.0.0.1:$port" \
    DATA_DIR="$work/data" \
    SIGNING_KEY_ROTATION_SECS=2 \
    JWKS_MAX_AGE_SECS=1 \
    SIGNING_KEY_POLL_MS=100

login=jwksclient
password='Passw0rd!'
curl -fsS -o /dev/null -H 'content-type: application/json' \
    -d "{\"login\":\"$login\",\"password\":\"$password\"}" "$base/auth/register"

status=0
"$venv/bin/python" "$here/verify.py" "$base" "$login" "$password" || status=$?
node "$here/verify.mjs" "$base" "$login" "$password" || status=$?
if [ "$status" -ne 0 ]; then
    echo "server log:" >&2
    tail -n 50 "$work/server.log" >&2
fi
exit "$status"
