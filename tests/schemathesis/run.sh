#!/usr/bin/env bash
# Schema-driven API testing: schemathesis generates requests for every operation of
# /openapi.json of a running server and checks every response against the schema and
# the expected statuses in schemathesis.toml. Runs on each backend in BACKENDS
# (default: postgres and memory), bounded by MAX_EXAMPLES cases per operation and
# phase and TIME_LIMIT seconds per backend. Exits non-zero on any failure, on a
# server panic, or past the time limit.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=tests/schemathesis

backends="${BACKENDS:-postgres memory}"
max_examples="${MAX_EXAMPLES:-100}"
time_limit="${TIME_LIMIT:-600}"
venv="${SCHEMATHESIS_VENV:-target/schemathesis-venv}"
database_url="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

if [ ! -x "$venv/bin/schemathesis" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
fi
cargo build --quiet -p server-example

work="$(mktemp -d)"
server_pid=""
database=""
stop_server() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
    fi
    if [ -n "$database" ]; then
        psql -q "$database_url" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null || true
        database=""
    fi
}
trap 'stop_server; rm -rf "$work"' EXIT

export SCHEMATHESIS_ADMIN_LOGIN=fuzzadmin
export SCHEMATHESIS_ADMIN_PASSWORD="Fuzz-admin-1!"

# Runs schemathesis against a fresh server on backend $1; returns its exit status.
run_backend() {
    local backend="$1" port log="target/schemathesis-$1.log"
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    export SCHEMATHESIS_BASE_URL="http://127.0.0.1:$port"
    export SCHEMATHESIS_STATUS_FILE="$work/seen-$backend.json"
    local server_env=(
        BIND_ADDR="127.0.0.1:$port"
        DATA_DIR="$work/data-$backend"
        ADMIN_LOGIN="$SCHEMATHESIS_ADMIN_LOGIN"
        ADMIN_PASSWORD="$SCHEMATHESIS_ADMIN_PASSWORD"
        # Generated requests fail logins and register by the hundred; the limits have
        # tests of their own.
        LOGIN_MAX_FAILURES=0
        LOGIN_MAX_FAILURES_PER_IP=0
        REGISTER_LIMIT_PER_MINUTE=0
        REFRESH_LIMIT_PER_MINUTE=0
        PASSKEY_SIGN_IN_LIMIT_PER_MINUTE=0
        EMAIL_CHANGE_LIMIT_PER_HOUR=0
        RESEND_COOLDOWN_SECS=0
        RESEND_LIMIT_PER_IP=0
        RESET_LIMIT_PER_EMAIL=0
        RESET_LIMIT_PER_IP=0
        # The auth hook logs in again and again; a session cap would revoke its token.
        MAX_SESSIONS_PER_USER=0
        # Keys in the store, so /admin/keys answers as in a deployment that rotates.
        SIGNING_KEY_ROTATION_DAYS=30
        RUST_LOG=warn
        NO_COLOR=1
    )
    if [ "$backend" = postgres ]; then
        database="schemathesis_$$"
        psql -q "$database_url" -c "CREATE DATABASE $database" >/dev/null
        server_env+=(DATABASE_URL="${database_url%/*}/$database")
    else
        server_env+=(DATABASE_URL=)
    fi
    env "${server_env[@]}" target/debug/server-example >"$log" 2>&1 &
    server_pid=$!
    local ready=""
    for _ in $(seq 1 150); do
        if curl -fsS "$SCHEMATHESIS_BASE_URL/readyz" >/dev/null 2>&1; then
            ready=1
            break
        fi
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.2
    done
    if [ -z "$ready" ]; then
        echo "the server did not start:"
        cat "$log"
        stop_server
        return 1
    fi
    curl -fsS "$SCHEMATHESIS_BASE_URL/openapi.json" >"$work/openapi.json"

    echo "schemathesis on $backend: $max_examples examples per operation, ${time_limit}s limit"
    local status=0
    SCHEMATHESIS_HOOKS=hooks PYTHONPATH="$here" timeout "$time_limit" \
        "$venv/bin/schemathesis" --config-file "$here/schemathesis.toml" run \
        "$SCHEMATHESIS_BASE_URL/openapi.json" \
        --max-examples "$max_examples" \
        --seed "${SEED:-20261123}" \
        --request-timeout 15 \
        --workers 1 \
        --no-color \
        | tee "$work/out-$backend.txt" \
        || status=$?
    stop_server

    if grep -q "panicked" "$log"; then
        echo "the server panicked:"
        grep -A5 "panicked" "$log"
        status=1
    fi
    if [ "$status" -eq 124 ]; then
        echo "over the ${time_limit}s limit"
    fi
    if [ -f "$SCHEMATHESIS_STATUS_FILE" ]; then
        "$venv/bin/python" "$here/statuses.py" "$work/openapi.json" "$SCHEMATHESIS_STATUS_FILE" \
            >"target/schemathesis-$backend-statuses.txt"
    fi
    local cases
    cases="$(grep -E '[0-9]+ generated' "$work/out-$backend.txt" | tail -n1 | sed 's/^ *//')"
    summary+=("schemathesis $backend: ${cases:-no test cases}; $(tail -n1 "target/schemathesis-$backend-statuses.txt" 2>/dev/null); exit $status")
    return "$status"
}

summary=()
failed=0
for backend in $backends; do
    run_backend "$backend" || failed=1
done
echo
printf '%s\n' "${summary[@]}"
exit "$failed"
