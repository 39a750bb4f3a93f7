// The passkey page in a real browser: headless Chromium with a virtual authenticator
// (WebAuthn domain of the DevTools protocol). The page creates an account, signs in
// with the password, registers a passkey, signs out, signs in with the passkey alone,
// and shows /users/me; then a fresh page signs in through autofill (conditional UI). Usage: node passkeys.mjs <base URL> <chromium binary>
import { chromium } from "playwright-core";

const [base, executablePath] = process.argv.slice(2);
if (!base || !executablePath) {
  console.error("usage: node passkeys.mjs <base URL> <chromium binary>");
  process.exit(2);
}

const login = `browser${Date.now()}`;
const password = "Browser-pass1!";
const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
let failed = false;
try {
  const page = await browser.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message));
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });

  const step = async (button, expected) => {
    await page.click(button);
    await page.waitForFunction(
      (text) => document.getElementById("status").textContent.startsWith(text),
      expected,
      { timeout: 15000 },
    ).catch(async () => {
      throw new Error(`after ${button}: expected "${expected}", status is "${await page.textContent("#status")}"`);
    });
    console.log(`ok: ${button} -> ${await page.textContent("#status")}`);
  };

  await page.goto(`${base}/passkeys`);
  await page.fill("#login", login);
  await page.fill("#password", password);
  await step("#create-account", "Account created");
  await step("#signin", `Signed in as ${login} (password)`);
  await page.fill("#passkey-name", "virtual authenticator");
  await step("#add-passkey", 'Passkey "virtual authenticator" added');

  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  if (credentials.length !== 1 || !credentials[0].isResidentCredential) {
    throw new Error(`expected one discoverable credential, got ${JSON.stringify(credentials)}`);
  }

  await step("#signout", "Signed out");
  // Nothing typed: the passkey names the account.
  await page.fill("#login", "");
  await page.fill("#password", "");
  await step("#passkey-signin", `Signed in as ${login} (passkey)`);
  const me = JSON.parse(await page.textContent("#me"));
  if (me.login !== login) throw new Error(`/users/me answered ${JSON.stringify(me)}`);
  console.log(`ok: /users/me answers ${me.login} (${me.id})`);

  await step("#list-passkeys", "1 passkey(s)");

  // Autofill (conditional mediation): a fresh page offers the passkey in the login
  // field, and picking it (the virtual authenticator picks the one it holds) signs in
  // with nothing typed and no button.
  await page.reload();
  await page.focus("#login");
  await page.waitForFunction(
    (text) => document.getElementById("status").textContent.startsWith(text),
    `Signed in as ${login} (passkey, from autofill)`,
    { timeout: 15000 },
  ).catch(async () => {
    throw new Error(`autofill: status is "${await page.textContent("#status")}"`);
  });
  const again = JSON.parse(await page.textContent("#me"));
  if (again.login !== login) throw new Error(`/users/me after autofill answered ${JSON.stringify(again)}`);
  console.log(`ok: autofill -> ${await page.textContent("#status")}`);
} catch (e) {
  console.error("FAILED:", e.message);
  failed = true;
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
