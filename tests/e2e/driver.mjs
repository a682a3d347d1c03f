// Starts tauri-driver (which starts WebKitWebDriver and the app) and opens a WebDriver session
// on the real Pitchbar Admin window, each with its own data dir.
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { remote } from "webdriverio";
import { freePort } from "./helpers.mjs";

const app = process.env.PITCHBAR_APP;
const driverBin = process.env.TAURI_DRIVER;
const scratch = process.env.PITCHBAR_E2E_SCRATCH;
export const screenshots = process.env.PITCHBAR_SCREENSHOTS;

async function waitForPort(port, child, ms = 20000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`tauri-driver exited with ${child.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/status`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`tauri-driver did not listen on ${port} within ${ms} ms`);
}

/**
 * Opens the app on a fresh data dir (or the one given) and returns the WebDriver session.
 * Screenshots need WebKit's compositing (WebKitWebDriver's can hang without it), which the app
 * turns off on a machine without a GPU; the benchmarks pass `screenshots: false` to measure
 * the app as it runs; `args` start the app with a command line (a link, as the OS would).
 */
export async function launch(name, { dataDir, screenshots = true, args } = {}) {
  dataDir ??= join(scratch, `data-${name}`);
  mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const nativePort = await freePort();
  const child = spawn(
    driverBin,
    ["--port", String(port), "--native-port", String(nativePort)],
    {
      env: {
        ...process.env,
        PITCHBAR_DATA_DIR: dataDir,
        // The window's remembered size and place (and other config) per data dir: a launch
        // does not start at the size another test left.
        XDG_CONFIG_HOME: join(dataDir, "config"),
        ...(screenshots && { WEBKIT_DISABLE_DMABUF_RENDERER: "0" }),
      },
      stdio: ["ignore", "inherit", "inherit"],
      // Its own process group (tauri-driver, WebKitWebDriver and the app), so closing ends
      // them all: an app left running would take the next launch over (single instance).
      detached: true,
    },
  );
  await waitForPort(port, child);
  const browser = await remote({
    hostname: "127.0.0.1",
    port,
    logLevel: "error",
    connectionRetryTimeout: 60000,
    capabilities: {
      // No browserName: WebKitWebDriver refuses one it does not know.
      // `args`: the app's command line (a pitchbar:// link that starts it).
      "tauri:options": { application: app, ...(args && { args }) },
      "wdio:enforceWebDriverClassic": true,
    },
  });
  const close = async () => {
    await browser.deleteSession().catch(() => {});
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      // Already gone.
    }
    // Give the app its clean exit (pending log writes) before the next launch.
    await new Promise((r) => setTimeout(r, 500));
  };
  return { browser, close, dataDir };
}

/** Saves a PNG of the window under the build output. */
export async function screenshot(browser, name) {
  mkdirSync(screenshots, { recursive: true });
  // Let the UI's short transitions (≤ 200 ms) finish, then wait for two painted frames: under
  // load WebKit can otherwise hand back a frame from several steps earlier.
  await new Promise((r) => setTimeout(r, 250));
  await browser.executeAsync((done) =>
    requestAnimationFrame(() => requestAnimationFrame(() => done())),
  );
  const png = await browser.takeScreenshot();
  writeFileSync(join(screenshots, `${name}.png`), Buffer.from(png, "base64"));
}
