#!/usr/bin/env bash
# Builds the release server and the load tool, then runs a bounded load over loopback
# against the server in memory mode and on Postgres (DATABASE_URL or the default).
# Flags are passed to the tool: --mode memory|postgres, --concurrency N, --requests N,
# --login-requests N, --time-limit-secs N.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p server-example -p benches --bins
exec target/release/http_load --server target/release/server-example "$@"
