// The real OAuth server of tests/fixtures/oauth-server for whole-app tests: a test CA made with
// openssl, the server on loopback TLS, a person signing in "in the browser", and the
// pitchbar:// callback handed to the running app by a second launch.
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync, openSync } from "node:fs";
import { request } from "node:https";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";

const here = dirname(fileURLToPath(import.meta.url));
const fixture = join(here, "../fixtures/oauth-server/server.mjs");
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

/** Starts the server (on `port`, to come back where the app expects it after a stop). */
export async function startOAuthServer(tls, port = 0) {
  const child = spawn(
    "node",
    [
      fixture,
      "--cert",
      tls.cert,
      "--key",
      tls.key,
      "--state",
      join(tls.dir, "state.json"),
      "--port",
      String(port),
    ],
    {
      stdio: [
        "ignore",
        "pipe",
        openSync(join(tls.dir, "oauth-server.log"), "a"),
      ],
    },
  );
  const line = await new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once("line", resolve);
    child.once("exit", (code) =>
      reject(new Error(`the OAuth server exited with ${code}`)),
    );
  });
  const listening = JSON.parse(line).port;
  return {
    child,
    port: listening,
    url: (path) => `https://127.0.0.1:${listening}${path}`,
  };
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

/** Logs in as `user` and consents, as a person in the browser would; returns the callback. */
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
    if (res.location.startsWith("pitchbar:")) return res.location;
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
