"""Compares the statuses the schemathesis run saw with those /openapi.json documents.

Usage: statuses.py OPENAPI_JSON SEEN_JSON. Prints one line per documented status the
run never produced (and no line for those it did), then a one-line summary.
"""

import json
import sys

with open(sys.argv[1]) as f:
    spec = json.load(f)
with open(sys.argv[2]) as f:
    seen = {(m, p, int(s)) for m, p, s in json.load(f)}

documented = []
for path, item in spec["paths"].items():
    for method, op in item.items():
        for status in op.get("responses", {}):
            documented.append((method.upper(), path, int(status)))

missing = [d for d in documented if d not in seen]
for method, path, status in missing:
    print(f"  not produced: {status} {method} {path}")
print(f"documented statuses produced by the run: {len(documented) - len(missing)}/{len(documented)}")
