#!/usr/bin/env bash
# Cold dev builds of two small axum applications, one bare (axum + sqlx) and one with
# the crates added, each in a target directory of its own; prints seconds for each and
# the time of aws-lc-sys's build script. Versions come from the workspace's Cargo.lock.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for app in bare ours; do
  cp -r "$here/build-cost/$app" "$work/$app"
  cp "$here/../Cargo.lock" "$work/$app/Cargo.lock"
  sed -i "s|\.\./\.\./\.\./|$here/../|g" "$work/$app/Cargo.toml"
  start=$(date +%s)
  (cd "$work/$app" && cargo build --timings --quiet)
  echo "$app: $(( $(date +%s) - start )) s"
done
python3 - "$work/ours/target/cargo-timings" <<'PY'
import glob, json, re, sys
page = open(glob.glob(sys.argv[1] + "/cargo-timing-*.html")[0]).read()
units = json.loads(re.search(r"const UNIT_DATA = (\[.*?\]);", page, re.S).group(1))
print("aws-lc-sys build script: %.0f s" % sum(u["duration"] for u in units if u["name"] == "aws-lc-sys" and "build-script" in u.get("target", "")))
PY
