"""Schemathesis hooks: every request carries a fresh-enough admin access token.

The token comes from logging in as the configured admin, and its session is
re-authenticated at once, so the operations that need a recent re-authentication (a
new email, enrolling a second factor) are reached too; a new token is fetched before
that proof expires. A fuzzed logout with `scope: global` (or a password change)
revokes it; the next 401 drops the cached token and the following request logs in
again.
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


def _post(path, body, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        f"{BASE_URL}{path}", data=json.dumps(body).encode(), headers=headers, method="POST"
    )
    return urllib.request.urlopen(request, timeout=10)


# Re-authentication lasts 5 minutes (AuthConfig::reauthentication_ttl).
@schemathesis.auth(refresh_interval=240, retry_on=[401])
class AdminToken:
    def get(self, case, context):
        with _post("/auth/login", {"login": LOGIN, "password": PASSWORD}) as response:
            token = json.load(response)["access_token"]
        _post("/auth/reauthenticate", {"password": PASSWORD}, token).close()
        return token

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
