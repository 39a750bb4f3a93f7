// npm jose's createRemoteJWKSet verifies server-example's access tokens from before and
// after a signing-key rotation, with one key set (fetched again for the new kid).
// Usage: node verify.mjs BASE_URL LOGIN PASSWORD
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";

const [base, login, password] = process.argv.slice(2);

async function token() {
  const r = await fetch(`${base}/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ login, password }),
  });
  if (r.status !== 200) throw new Error(`login answered ${r.status}`);
  return (await r.json()).access_token;
}

const jwks = createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`), { cooldownDuration: 100 });
const options = { issuer: "server-example", audience: "server-example", typ: "at+jwt", algorithms: ["EdDSA"] };
const verify = async (t) => {
  const { payload } = await jwtVerify(t, jwks, options);
  if (!payload.sub) throw new Error("no sub");
};

const before = await token();
await verify(before);
const kid = decodeProtectedHeader(before).kid;
const deadline = Date.now() + 30_000;
let after = await token();
while (decodeProtectedHeader(after).kid === kid) {
  if (Date.now() > deadline) throw new Error("no rotation within 30 s");
  await new Promise((resolve) => setTimeout(resolve, 200));
  after = await token();
}
await verify(after);
await verify(before);
console.log(`jose: tokens of ${kid} and ${decodeProtectedHeader(after).kid} verified`);
