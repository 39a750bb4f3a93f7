#!/usr/bin/env bash
# The Postgres suites through a real PgBouncer in transaction mode: installs pgbouncer
# if absent (Debian's package), starts it on a free loopback port in front of the
# Postgres of DATABASE_URL, runs storage-postgres's conformance suite and the
# end-to-end suite with DATABASE_POOLER_URL pointing at it (each test database is
# created directly and reached through the pooler under its own name; migrations and
# the session cache's LISTEN go direct), then stops it.
#
# With arguments it runs that command instead, PgBouncer up and DATABASE_POOLER_URL
# set, e.g. `bash tests/pgbouncer/run.sh bash benches/http-load.sh --mode postgres`.
#
# POOL_SIZE server connections per test database (default 2) serve every client
# connection of that test: the stores' pools hold 4 to 10 and bursts run 20 requests
# at once, so server connections really are shared between clients.
set -euo pipefail
cd "$(dirname "$0")/../.."

database_url="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
pool_size="${POOL_SIZE:-2}"

if ! command -v pgbouncer >/dev/null && [ ! -x /usr/sbin/pgbouncer ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q pgbouncer >/dev/null
fi
pgbouncer="$(command -v pgbouncer || echo /usr/sbin/pgbouncer)"
"$pgbouncer" --version | head -n1

# Where PgBouncer forwards: the host, port and user of DATABASE_URL.
read -r host port user < <(python3 -c '
import sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
print(u.hostname or "127.0.0.1", u.port or 5432, u.username or "postgres")
' "$database_url")
listen_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

work="$(mktemp -d)"
chmod 755 "$work"
stop() {
    if [ -f "$work/pgbouncer.pid" ]; then
        kill "$(cat "$work/pgbouncer.pid")" 2>/dev/null || true
        sleep 1
    fi
    rm -rf "$work"
}
trap stop EXIT

cat >"$work/pgbouncer.ini" <<EOF
[databases]
* = host=$host port=$port

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $listen_port
unix_socket_dir =
auth_type = trust
auth_file = $work/users.txt
pool_mode = transaction
default_pool_size = $pool_size
max_client_conn = 2000
logfile = $work/pgbouncer.log
pidfile = $work/pgbouncer.pid
EOF
printf '"%s" ""\n' "$user" >"$work/users.txt"

# PgBouncer refuses to run as root: as the postgres user then.
run_as=()
if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres "$work"
    run_as=(-u postgres)
fi
"$pgbouncer" -d "${run_as[@]}" "$work/pgbouncer.ini"
for _ in $(seq 1 50); do
    pg_isready -q -h 127.0.0.1 -p "$listen_port" && break
    sleep 0.1
done
pg_isready -h 127.0.0.1 -p "$listen_port"

export DATABASE_URL="$database_url"
export DATABASE_POOLER_URL="postgres://$user@127.0.0.1:$listen_port/postgres"
echo "PgBouncer on 127.0.0.1:$listen_port, pool_mode = transaction, default_pool_size = $pool_size"

status=0
if [ "$#" -gt 0 ]; then
    "$@" || status=$?
else
    cargo test -p storage-postgres --test postgres || status=$?
    if [ "$status" -eq 0 ]; then
        cargo test -p tests --test e2e || status=$?
    fi
fi
if [ "$status" -ne 0 ]; then
    echo "--- pgbouncer.log (last 40 lines)"
    tail -n 40 "$work/pgbouncer.log" || true
fi
exit "$status"
