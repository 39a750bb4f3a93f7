"""PyJWT's PyJWKClient verifies server-example's access tokens from before and after
a signing-key rotation, with one client (its cached JWK Set fetched again for the
new key). Usage: verify.py BASE_URL LOGIN PASSWORD"""

import json
import sys
import time
import urllib.request

import jwt

base, login, password = sys.argv[1:4]


def token():
    body = json.dumps({"login": login, "password": password}).encode()
    req = urllib.request.Request(f"{base}/auth/login", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)["access_token"]


def verify(client, t):
    key = client.get_signing_key_from_jwt(t)
    claims = jwt.decode(t, key.key, algorithms=["EdDSA"], audience="server-example", issuer="server-example")
    assert claims["sub"], claims


client = jwt.PyJWKClient(f"{base}/.well-known/jwks.json")
before = token()
verify(client, before)
kid = jwt.get_unverified_header(before)["kid"]
deadline = time.time() + 30
after = token()
while jwt.get_unverified_header(after)["kid"] == kid:
    assert time.time() < deadline, "no rotation within 30 s"
    time.sleep(0.2)
    after = token()
verify(client, after)
verify(client, before)
print(f"PyJWT {jwt.__version__}: tokens of {kid} and {jwt.get_unverified_header(after)['kid']} verified")
