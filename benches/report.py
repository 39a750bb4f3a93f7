#!/usr/bin/env python3
"""Prints the micro-bench ratios (ours / baseline, by mean time) from criterion's output.

Run after `cargo bench -p benches --bench micro`; reads target/criterion/.
"""
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent / "target" / "criterion"

# group, our function, what the baseline is, the target ratio (ours/baseline <= target)
ROWS = [
    ("token_issue_eddsa", "ours", "jsonwebtoken::encode, same key and claims", 1.10),
    ("token_issue_hs256", "ours", "jsonwebtoken::encode, same key and claims", 1.10),
    ("token_verify_eddsa", "ours", "jsonwebtoken::decode, same key and validation", 1.10),
    ("token_verify_hs256", "ours", "jsonwebtoken::decode, same key and validation", 1.10),
    ("authenticate_memory", "ours", "our verify", 1.25),
    ("authenticate_memory", "ours_cache_off", "our verify", 1.25),
    ("refresh_token_decode", "ours", "one HMAC-SHA256 of the same bytes", 1.5),
    ("convert_memory", "direct", "amount * rate, rounded", 5.0),
    ("convert_memory", "inverse", "amount * rate, rounded", 10.0),
    ("convert_memory", "cross", "amount * rate, rounded", 10.0),
    ("convert_memory", "direct_snapshot", "amount * rate, rounded", 5.0),
    ("convert_memory", "inverse_snapshot", "amount * rate, rounded", 10.0),
    ("convert_memory", "cross_snapshot", "amount * rate, rounded", 10.0),
    ("password_hash", "ours", "raw argon2, same parameters", 1.05),
    ("password_verify", "ours", "raw argon2, same parameters", 1.05),
]


def mean_ns(group, function):
    path = ROOT / group / function / "new" / "estimates.json"
    return json.loads(path.read_text())["mean"]["point_estimate"]


def fmt(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.0f} ns"


def main():
    print("| path | baseline | baseline time | ours | ratio | target | met |")
    print("|---|---|---|---|---|---|---|")
    missing = 0
    for group, fn, baseline, target in ROWS:
        try:
            base = mean_ns(group, "baseline")
            ours = mean_ns(group, fn)
        except FileNotFoundError:
            missing += 1
            continue
        ratio = ours / base
        name = f"{group}/{fn}"
        print(f"| {name} | {baseline} | {fmt(base)} | {fmt(ours)} | {ratio:.2f}x | <= {target:.2f}x | {'yes' if ratio <= target else 'no'} |")
    if missing:
        print(f"\n{missing} rows have no data yet: run `cargo bench -p benches --bench micro`.", file=sys.stderr)


if __name__ == "__main__":
    main()
