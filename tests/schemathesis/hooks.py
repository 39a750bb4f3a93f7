"""Schemathesis hooks: every request carries a fresh-enough admin access token.

The token comes from logging in as the configured admin. A fuzzed logout with
`scope: global` (or a password change) revokes it; the next 401 drops the cached token
and the following request logs in again.
"""

import atexit
import json
import os
import threading
import urllib.request

import schemathesis

BASE_URL = os.environ["SCHEMATHESIS_BASE_URL"]
LOGIN = os.environ["SCHEMATHESIS_ADMIN_LOGIN"]
PASSWORD = os.environ["SCHEMATHESIS_ADMIN_PASSWORD"]


@schemathesis.auth(refresh_interval=600, retry_on=[401])
class AdminToken:
    def get(self, case, context):
        body = json.dumps({"login": LOGIN, "password": PASSWORD}).encode()
        request = urllib.request.Request(
            f"{BASE_URL}/auth/login",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)["access_token"]

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


# Which (operation, status) pairs the run saw, for the documented-but-never-produced
# report that run.sh prints.
_SEEN = set()
_SEEN_LOCK = threading.Lock()


@schemathesis.hook
def after_call(context, case, response):
    with _SEEN_LOCK:
        _SEEN.add((case.operation.method.upper(), case.operation.path, response.status_code))


@atexit.register
def _write_seen():
    path = os.environ.get("SCHEMATHESIS_STATUS_FILE")
    if path:
        with open(path, "w") as f:
            json.dump(sorted(_SEEN), f)
