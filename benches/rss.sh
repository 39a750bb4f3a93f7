#!/usr/bin/env bash
# Memory of the release server in memory mode: resident set once idle after start (an
# admin created, so one password was hashed), its peak during a storm of parallel
# logins (bounded by the hashing semaphore: one Argon2 buffer per core), and once idle
# again. "Idle" is 12 s without requests: tokio lets idle blocking threads (where
# hashes run) exit after 10 s.
# Usage: bash benches/rss.sh [parallel logins, default 64]
set -euo pipefail
cd "$(dirname "$0")/.."
storm="${1:-64}"
cargo build --release -p server-example
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
data=$(mktemp -d)
BIND_ADDR="127.0.0.1:$port" DATA_DIR="$data" ADMIN_LOGIN=root ADMIN_PASSWORD='Adm1n-pass!' \
    LOGIN_MAX_FAILURES=0 LOGIN_MAX_FAILURES_PER_IP=0 RUST_LOG=warn \
    target/release/server-example >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
    sleep 0.1
done
kib() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$pid/status"; }
sleep 12
idle=$(kib VmRSS)
for _ in $(seq "$storm"); do
    curl -s -o /dev/null -X POST -H 'content-type: application/json' \
        -d '{"login":"root","password":"Adm1n-pass!"}' "http://127.0.0.1:$port/auth/login" &
done
wait $(jobs -p | grep -v "^$pid$") 2>/dev/null || true
sleep 12
after=$(kib VmRSS)
peak=$(kib VmHWM)
echo "idle after start: $((idle / 1024)) MiB ($idle KiB)"
echo "peak during $storm parallel logins: $((peak / 1024)) MiB ($peak KiB); cores: $(nproc)"
echo "idle after the storm: $((after / 1024)) MiB ($after KiB)"
