# Shared by the test scripts that run server-example as a process (source it).

# A free loopback TCP port.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts target/debug/server-example in memory mode with the given VAR=value settings,
# its output in $1, and waits (up to 10 s) until $2/healthz answers. Sets server_pid.
start_server() {
    local log="$1" base="$2"
    shift 2
    env -u DATABASE_URL RUST_LOG=warn "$@" target/debug/server-example >"$log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 100); do
        curl -fsS "$base/healthz" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "server-example did not start:" >&2
    tail -n 50 "$log" >&2
    return 1
}

# Installs the npm packages pinned by $1/package-lock.json unless $1/node_modules/$2 exists.
npm_packages() {
    [ -d "$1/node_modules/$2" ] || npm ci --prefix "$1" --no-audit --no-fund --silent
}
