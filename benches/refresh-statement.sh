#!/usr/bin/env bash
# The refresh rotation's statement alone against the hand-written one, with pgbench:
# a scratch database with the store's migrations (schema auth_exchange), 10,000 users
# with one role and one session each, then rounds of `pgbench -M prepared` on three
# scripts, interleaved: the hand-written `UPDATE ... RETURNING` of the session's
# counter (benches/src/bin/handwritten.rs), the store's rotation as it is without the
# per-address limit (an UPDATE joined with the user, roles from the user's row,
# migration 0013), and the same rotation reading the roles with a subquery of
# user_roles per call (as before 0013). `synchronous_commit = off` for the
# clients, so the disk's flush does not hide the statements' own cost. Prints tps per
# script per round and each round's ratios to the hand-written statement.
# Usage: bash benches/refresh-statement.sh [rounds, default 3] [seconds, default 6]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
secs="${2:-6}"
url="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
url="${url%%\?*}"
db="refresh_statement_$$"
psql -q "$url" -c "CREATE DATABASE $db"
dburl="${url%/*}/$db"
work=$(mktemp -d)
trap 'rm -rf "$work"; psql -q "$url" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"' EXIT
for f in storage-postgres/migrations/*.sql; do
    { echo "CREATE SCHEMA IF NOT EXISTS auth_exchange; SET search_path = auth_exchange;"; cat "$f"; } |
        psql -q -v ON_ERROR_STOP=1 "$dburl" 2>&1 | grep -v 'already exists, skipping' || true
done
psql -q -v ON_ERROR_STOP=1 "$dburl" <<'SQL'
SET search_path = auth_exchange;
INSERT INTO roles (name) VALUES ('user');
INSERT INTO users (id, login, password_hash, created_at)
    SELECT md5('u' || n)::uuid, 'user' || n, 'hash', now() FROM generate_series(1, 10000) n;
INSERT INTO user_roles (user_id, role) SELECT md5('u' || n)::uuid, 'user' FROM generate_series(1, 10000) n;
INSERT INTO sessions (id, user_id, counter, created_at, last_refreshed_at, expires_at)
    SELECT md5(n::text)::uuid, md5('u' || n)::uuid, 0, now(), now(), now() + interval '30 days'
    FROM generate_series(1, 10000) n;
VACUUM ANALYZE;
SQL
# Each client rotates random sessions; the counter comparison always holds, as each
# client follows its own chain in the HTTP load.
pick='\set n random(1, 10000)'
cols="s.id, s.user_id, s.counter, s.created_at, s.last_refreshed_at, s.expires_at, s.revoked, host(s.ip) AS ip, s.user_agent, s.sign_in, s.reauthenticated_at"
live="s.id = md5(:n::text)::uuid AND s.counter = s.counter AND (NOT s.revoked AND s.expires_at > now() AND s.last_refreshed_at > now() - interval '30 days') AND u.id = s.user_id AND u.status = 'active'"
rotation() {
    echo "$pick"
    echo "UPDATE auth_exchange.sessions s SET counter = s.counter + 1, last_refreshed_at = now() FROM auth_exchange.users u WHERE $live RETURNING $cols, $1;"
}
{
    echo "$pick"
    echo "UPDATE auth_exchange.sessions SET counter = counter + 1, last_refreshed_at = now() WHERE id = md5(:n::text)::uuid AND counter = counter AND NOT revoked AND expires_at > now() RETURNING user_id, counter;"
} >"$work/hand.sql"
rotation "u.roles" >"$work/store.sql"
rotation "ARRAY(SELECT r.role FROM auth_exchange.user_roles r WHERE r.user_id = s.user_id ORDER BY r.role) AS roles" >"$work/subquery.sql"
tps() {
    PGOPTIONS='-c synchronous_commit=off' pgbench -n -M prepared -c 4 -j 2 -T "$secs" -f "$work/$1.sql" "$dburl" 2>&1 |
        awk '/^tps =/ {printf "%.0f", $3}'
}
echo "| round | hand-written tps | store tps | store, roles by subquery tps | store / hand | subquery / hand |"
echo "|---|---|---|---|---|---|"
for r in $(seq "$rounds"); do
    h=$(tps hand)
    s=$(tps store)
    q=$(tps subquery)
    awk -v r="$r" -v h="$h" -v s="$s" -v q="$q" \
        'BEGIN {printf "| %d | %d | %d | %d | %.2fx | %.2fx |\n", r, h, s, q, s / h, q / h}'
done
