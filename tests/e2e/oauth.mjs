// The OAuth side of whole-app tests: a test CA (openssl), the real OAuth server
// (tests/fixtures/oauth-server, oidc-provider over TLS) and the other Node fixtures, the
// providers file pointing the app at them, a person signing in at it, and the pitchbar://
// link handed to the running app by a second launch.
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync, openSync } from "node:fs";
import { request } from "node:https";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { sel, visible, gone, dismissToasts } from "./helpers.mjs";

const here = dirname(fileURLToPath(import.meta.url));
export const CLIENT_ID = "pitchbar-admin-test";
export const CLIENT_SECRET = "test-client-secret-0123456789";

/** A CA and a leaf for 127.0.0.1 signed by it, with the openssl CLI. */
export function makeCa(dir) {
  mkdirSync(dir, { recursive: true });
  const p = (name) => join(dir, name);
  const ssl = (...args) => execFileSync("openssl", args, { stdio: "pipe" });
  ssl(
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    p("ca.key"),
    "-out",
    p("ca.pem"),
    "-days",
    "2",
    "-subj",
    "/CN=Pitchbar e2e OAuth CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  );
  ssl(
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    p("leaf.key"),
    "-out",
    p("leaf.csr"),
    "-subj",
    "/CN=127.0.0.1",
  );
  writeFileSync(
    p("leaf.ext"),
    "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
  );
  ssl(
    "x509",
    "-req",
    "-in",
    p("leaf.csr"),
    "-CA",
    p("ca.pem"),
    "-CAkey",
    p("ca.key"),
    "-CAcreateserial",
    "-out",
    p("leaf.pem"),
    "-days",
    "2",
    "-extfile",
    p("leaf.ext"),
  );
  return { dir, ca: p("ca.pem"), cert: p("leaf.pem"), key: p("leaf.key") };
}

/** Runs tests/fixtures/<name>/server.mjs; resolves with the child and the port it printed. */
export async function startFixture(name, args, log) {
  const child = spawn(
    "node",
    [join(here, "../fixtures", name, "server.mjs"), ...args],
    { stdio: ["ignore", "pipe", log ? openSync(log, "a") : "ignore"] },
  );
  const line = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once("line", resolve);
    child.once("exit", (code) =>
      reject(new Error(`the ${name} fixture exited with ${code}`)),
    );
  });
  return { child, port: JSON.parse(line).port };
}

/** Starts the server (on `port`, to come back where the app expects it after a stop). */
export async function startOAuthServer(tls, port = 0) {
  const { child, port: listening } = await startFixture(
    "oauth-server",
    [
      "--cert",
      tls.cert,
      "--key",
      tls.key,
      "--state",
      join(tls.dir, "state.json"),
      "--port",
      String(port),
    ],
    join(tls.dir, "oauth-server.log"),
  );
  return {
    child,
    port: listening,
    url: (path) => `https://127.0.0.1:${listening}${path}`,
  };
}

/** A providers-file entry signing in at the OAuth server; `extra` adds keys. */
export function oauthProvider(server, revocationPath, extra = {}) {
  return {
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    authorize_url: server.url("/auth"),
    token_url: server.url("/token"),
    revocation_url: server.url(revocationPath),
    userinfo_url: server.url("/me"),
    scopes: ["openid", "email", "profile"],
    ...extra,
  };
}

/** Writes `<dataDir>/providers.json`, trusting the test CA, and returns `dataDir`. */
export function writeProviders(dataDir, tls, body) {
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(
    join(dataDir, "providers.json"),
    JSON.stringify({ ca_certificates: [tls.ca], ...body }),
  );
  return dataDir;
}

/** Connects integration `id` from the Available tab, signing in as `user` at the OAuth server. */
export async function connectThroughWindow(browser, id, { ca, dataDir, user }) {
  await (await visible(browser, sel("nav-integrations"))).click();
  await (await visible(browser, sel("tab-available"))).click();
  const card = await visible(
    browser,
    `${sel("integration-card")}[data-id=${id}]`,
  );
  await card.scrollIntoView({ block: "center" });
  await card.click();
  await (await visible(browser, sel("modal-connect"))).click();
  await (await visible(browser, sel("connect-continue"))).click();
  await visible(browser, sel("connect-waiting"));
  const link = await browser.execute(
    (selector) => document.querySelector(selector)?.textContent?.trim() ?? "",
    sel("authorization-link"),
  );
  const callback = await signIn(ca, link, user);
  // A deep link reaches the app by a second launch; a loopback redirect (HubSpot, Zendesk) is
  // the browser's request to the app's listener.
  if (callback.startsWith("pitchbar:")) await deliver(callback, dataDir);
  else
    assert.equal(
      (await fetch(callback)).status,
      200,
      "the app's loopback listener",
    );
  await visible(browser, sel("connect-success"), 20000);
  await (await browser.$(sel("connect-done"))).click();
  await gone(browser, sel("connect-modal"));
  await dismissToasts(browser);
}

/** One HTTPS request trusting only the test CA; redirects are returned, not followed. */
function fetchTls(ca, url, { method = "GET", body, cookies }) {
  return new Promise((resolve, reject) => {
    const headers = {};
    if (cookies.size)
      headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    if (body) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      headers["content-length"] = Buffer.byteLength(body);
    }
    const req = request(url, { method, headers, ca }, (res) => {
      for (const c of res.headers["set-cookie"] ?? []) {
        const [pair] = c.split(";");
        const at = pair.indexOf("=");
        cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
      }
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () =>
        resolve({
          status: res.statusCode,
          location: res.headers.location,
          text,
        }),
      );
    });
    req.on("error", reject);
    if (body) req.write(body);
    req.end();
  });
}

/** Logs in as `user` and consents, as a person in the browser would; returns the callback (a
 * `pitchbar://` link or the app's loopback URL). */
export async function signIn(
  ca,
  authorizationUrl,
  user,
  { deny = false } = {},
) {
  const cookies = new Map();
  let next = new URL(authorizationUrl);
  let post = false;
  for (let i = 0; i < 12; i++) {
    const res = await fetchTls(
      ca,
      next.href,
      post
        ? {
            method: "POST",
            body: new URLSearchParams(
              deny ? { decision: "deny" } : { login: user },
            ).toString(),
            cookies,
          }
        : { cookies },
    );
    assert.ok(
      res.status >= 300 && res.status < 400,
      `${next} answered ${res.status}: ${res.text}`,
    );
    if (
      res.location.startsWith("pitchbar:") ||
      res.location.startsWith("http://127.0.0.1:")
    )
      return res.location;
    next = new URL(res.location, next);
    post = next.pathname.startsWith("/interaction/");
  }
  throw new Error("the OAuth server never redirected back to the app");
}

/** Launches the app a second time with `url`; the running one receives it and this one exits. */
export function deliver(url, dataDir) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.env.PITCHBAR_APP, [url], {
      env: { ...process.env, PITCHBAR_DATA_DIR: dataDir },
      stdio: ["ignore", "inherit", "inherit"],
    });
    const timer = setTimeout(() => {
      child.kill();
      reject(
        new Error("the second launch did not hand the link over and exit"),
      );
    }, 30000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}
