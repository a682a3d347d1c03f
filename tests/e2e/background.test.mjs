// The app with its window closed: the window's close button (a real WM_DELETE_WINDOW from the
// X server) hides it, deliveries fired through the local API meanwhile still arrive and are
// logged, and the tray's Open (clicked over D-Bus, as a panel does) or starting the app again
// brings the window back with them. The tray's menu says what runs; pausing deliveries there
// or on the tab holds them until resumed. With Settings → Desktop off, closing quits; started
// again, the window has the size it had; the tray's Quit quits.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { launch, screenshot } from "./driver.mjs";
import { clickTray, trayLabels, trayMenu } from "./tray.mjs";
import {
  sel,
  visible,
  innerText,
  textOf,
  resize,
  setUp,
  startReceiver,
  addEndpoint,
  dismissToasts,
} from "./helpers.mjs";

const TITLE = "Pitchbar Admin";
const KEY_SHAPE = /^sk_live_[A-Za-z0-9_-]{40,}$/;
const x11 = fileURLToPath(new URL("./x11.py", import.meta.url));

/** The window as the X server sees it: viewable, unmapped or missing. Debian's python3, which
 *  has python3-xlib (scripts/setup.sh --test). */
function windowState() {
  return execFileSync("/usr/bin/python3", [x11, "state", TITLE], {
    encoding: "utf8",
  }).trim();
}

async function windowBecomes(state, timeout = 10000) {
  let last;
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    last = windowState();
    if (last === state) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(last, state, "the window's state");
}

/** The close button, as a window manager sends it. */
function closeWindow() {
  execFileSync("/usr/bin/python3", [x11, "close", TITLE]);
}

/** Waits until the tray's labels match `expected` (strings or patterns, in order). */
async function trayReads(expected, timeout = 10000) {
  let last;
  const deadline = Date.now() + timeout;
  const matches = (labels) =>
    labels.length === expected.length &&
    expected.every((e, i) =>
      e instanceof RegExp ? e.test(labels[i]) : e === labels[i],
    );
  while (Date.now() < deadline) {
    last = trayLabels();
    if (matches(last)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`the tray reads ${JSON.stringify(last)}, not ${expected}`);
}

/** Every Notify call on the session bus, as dbus-monitor prints it (started in `before`). */
let bus = "";

async function until(check, what, timeout = 10000) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out: ${what}`);
}

describe("the app with its window closed", () => {
  let session;
  let receiver;
  let api;
  let key;
  let size;
  let dunst;
  let monitor;
  before(async () => {
    // The desktop's notification server, as a desktop session has one.
    dunst = spawn("dunst", [], { stdio: "ignore" });
    monitor = spawn(
      "dbus-monitor",
      [
        "--session",
        "interface='org.freedesktop.Notifications',member='Notify'",
      ],
      { stdio: ["ignore", "pipe", "ignore"] },
    );
    monitor.stdout.on("data", (d) => (bus += d.toString()));
    session = await launch("background");
    receiver = await startReceiver();
  });
  after(async () => {
    dunst?.kill();
    monitor?.kill();
    await session?.close();
    receiver?.close();
  });

  const postLead = (name) =>
    fetch(`${api}/leads`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${key}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ name, email: "lead@example.com" }),
    });

  test("closing the window keeps deliveries going; starting the app again shows them", async () => {
    const { browser, dataDir } = session;
    await resize(browser, 1280, 800);
    await setUp(browser, "Acme Background", "Ada Owner", "ada@acme.test");
    await addEndpoint(browser, receiver.url("/hook"), "Background hook");
    await dismissToasts(browser);
    await textOf(browser, sel("api-endpoint"), /^http:\/\/127/);
    api = (
      await innerText(browser, await browser.$(sel("api-endpoint")))
    ).trim();
    await (await browser.$(sel("api-key-show"))).click();
    await textOf(browser, sel("api-key-value"), KEY_SHAPE);
    key = (
      await innerText(browser, await browser.$(sel("api-key-value")))
    ).trim();

    await trayReads([
      "Deliveries: all sent",
      "Receiver off",
      /^Local API on 127\.0\.0\.1:\d+$/,
      "Open Pitchbar Admin",
      "Pause deliveries",
      "Quit",
    ]);
    assert.ok(
      trayMenu().find((i) => i.label === "Pause deliveries").enabled,
      "the Owner may pause from the tray",
    );

    assert.equal(windowState(), "viewable");
    closeWindow();
    await windowBecomes("unmapped");

    const res = await postLead("Closed Window");
    assert.equal(res.status, 201, await res.text());
    await until(
      () => receiver.received.length === 1,
      "the delivery fired with the window closed arrives",
    );
    assert.match(receiver.received[0].body.toString(), /Closed Window/);

    await visible(browser, sel("attempt-row"));
    clickTray("Open Pitchbar Admin");
    await windowBecomes("viewable");

    // Closed again, a second start hands over to the running app, which shows its window
    // (the way back on a desktop without a tray), and exits.
    closeWindow();
    await windowBecomes("unmapped");
    const second = spawn(process.env.PITCHBAR_APP, [], {
      env: {
        ...process.env,
        PITCHBAR_DATA_DIR: dataDir,
        XDG_CONFIG_HOME: join(dataDir, "config"),
      },
      stdio: "ignore",
    });
    const code = await new Promise((r) => second.on("exit", r));
    assert.equal(code, 0, "the second start exits once it handed over");
    await windowBecomes("viewable");
    await visible(browser, sel("attempt-row"));
    await textOf(browser, sel("attempt-table"), /lead\.captured/);
  });

  test("paused from the tray, deliveries wait, shown on the tab and the tray, and go out on resume", async () => {
    const { browser } = session;
    await visible(browser, sel("pause-deliveries"));
    clickTray("Pause deliveries");
    await visible(browser, sel("deliveries-paused"));
    await trayReads([
      "Deliveries paused · 0 deliveries waiting",
      "Receiver off",
      /^Local API on/,
      "Open Pitchbar Admin",
      "Resume deliveries",
      "Quit",
    ]);

    const res = await postLead("While Paused");
    assert.equal(res.status, 201);
    await textOf(browser, sel("deliveries-paused"), /1 delivery waits/);
    await trayReads([
      "Deliveries paused · 1 delivery waiting",
      "Receiver off",
      /^Local API on/,
      "Open Pitchbar Admin",
      "Resume deliveries",
      "Quit",
    ]);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(receiver.received.length, 1, "nothing is sent while paused");
    const banner = await browser.$(sel("deliveries-paused"));
    await banner.scrollIntoView({ block: "center" });
    await screenshot(browser, "desktop-deliveries-paused");
    await resize(browser, 390, 844);
    await banner.scrollIntoView({ block: "center" });
    await screenshot(browser, "mobile-deliveries-paused");
    await resize(browser, 1280, 800);

    await (await browser.$(sel("resume-deliveries"))).click();
    await until(
      () => receiver.received.length === 2,
      "the held delivery goes out on resume",
    );
    assert.match(receiver.received[1].body.toString(), /While Paused/);
    await browser.waitUntil(
      async () =>
        !(await (await browser.$(sel("deliveries-paused"))).isExisting()),
      { timeout: 5000, timeoutMsg: "the paused banner stays after resume" },
    );
    await trayReads([
      "Deliveries: all sent",
      "Receiver off",
      /^Local API on/,
      "Open Pitchbar Admin",
      "Pause deliveries",
      "Quit",
    ]);
  });

  test("dark mode: chosen in Settings, applied at once, looked at on both sizes; the keyboard's way around", async () => {
    const { browser } = session;
    await dismissToasts(browser);
    // Ctrl+, opens Settings; Ctrl+1/2/3 the Integrations tabs (below).
    await browser.keys(["Control", ","]);
    await visible(browser, sel("close-to-background"));
    const theme = () =>
      browser.execute(() => document.documentElement.dataset.theme);
    assert.equal(await theme(), "light", "Xvfb's GTK theme is light");
    await (await visible(browser, sel("theme-dark"))).click();
    assert.equal(await theme(), "dark");
    const bg = await browser.execute(
      () => getComputedStyle(document.documentElement).backgroundColor,
    );
    assert.equal(bg, "rgb(15, 15, 21)", "the page takes the dark tokens");
    const desktop = await browser.$(sel("close-to-background"));
    await desktop.scrollIntoView({ block: "center" });
    await screenshot(browser, "desktop-dark-settings");
    await browser.keys(["Control", "1"]);
    await visible(browser, `${sel("tab-connected")}[aria-selected=true]`);
    await browser.keys(["Control", "3"]);
    await visible(browser, `${sel("tab-webhooks")}[aria-selected=true]`);
    await visible(browser, sel("attempt-row"));
    await screenshot(browser, "desktop-dark-webhooks");
    await resize(browser, 390, 844);
    await screenshot(browser, "mobile-dark-webhooks");
    await resize(browser, 1280, 800);
    // Back to the system's look, for the screenshots after this one.
    await (await browser.$(sel("nav-settings"))).click();
    await (await visible(browser, sel("theme-system"))).click();
    assert.equal(await theme(), "light");
  });

  test("an endpoint that starts failing: a notice in the bell and in the desktop's notifications", async () => {
    const { browser } = session;
    const failing = await startReceiver(() => 500);
    try {
      await addEndpoint(browser, failing.url("/down"), "Down hook");
      await dismissToasts(browser);
      const res = await postLead("Failing Lead");
      assert.equal(res.status, 201);
      await until(
        () => failing.received.length >= 1,
        "the failing endpoint is tried",
      );

      // The desktop's notification server (dunst, started for this test) was asked to show it.
      await until(
        () => bus.includes('string "A webhook endpoint is failing"'),
        "the notice reaches the notification server",
      );
      assert.match(
        bus,
        /string "Deliveries to http:\/\/127\.0\.0\.1:\d+\/down fail/,
      );

      await (await browser.$(sel("notifications-dot"))).waitForExist();
      await (await browser.$("button[title=Notifications]")).click();
      const notice = await visible(
        browser,
        `${sel("notice")}[data-kind=endpoint_failing]`,
      );
      assert.match(
        await innerText(browser, notice),
        /A webhook endpoint is failing/,
      );
      await visible(browser, sel("notices-mark-read"));
      await screenshot(browser, "desktop-notices");
      await notice.click();
      await visible(browser, sel("tab-webhooks"));
      await (await browser.$("button[title=Notifications]")).click();
      await browser.waitUntil(
        async () =>
          !(await (await browser.$(sel("notices-mark-read"))).isExisting()),
        {
          timeout: 5000,
          timeoutMsg: "the notice stays unread after it was opened",
        },
      );
      await browser.keys("Escape");
    } finally {
      failing.close();
    }
  });

  test("start at login comes and goes; with close-to-tray off, closing the window quits", async () => {
    const { browser } = session;
    await dismissToasts(browser);
    await (await browser.$(sel("nav-settings"))).click();
    const toggle = await visible(browser, sel("close-to-background"));
    assert.equal(await toggle.isSelected(), true, "on by default");
    await toggle.scrollIntoView({ block: "center" });
    await screenshot(browser, "desktop-settings-desktop");

    // Start at login: the desktop's autostart entry appears and goes (in ~/.config/autostart,
    // where the auto-launch crate writes it; HOME is the run's own, see run.sh).
    const autostart = join(process.env.HOME, ".config", "autostart");
    const entries = () =>
      existsSync(autostart)
        ? readdirSync(autostart).filter((f) => f.endsWith(".desktop"))
        : [];
    assert.deepEqual(entries(), [], "off by default");
    const login = await browser.$(sel("start-at-login"));
    await login.click();
    await textOf(browser, sel("toast"), /starts when you log in/);
    assert.equal(entries().length, 1);
    const entry = readFileSync(join(autostart, entries()[0]), "utf8");
    assert.match(
      entry,
      new RegExp(`Exec=.*${process.env.PITCHBAR_APP.split("/").pop()}`),
    );
    await dismissToasts(browser);
    await login.click();
    await textOf(browser, sel("toast"), /no longer starts at login/);
    assert.deepEqual(entries(), []);
    await dismissToasts(browser);

    await toggle.click();
    await textOf(browser, sel("toast"), /quits the app/);
    await browser.setWindowSize(1100, 720);
    size = await browser.getWindowSize();
    closeWindow();
    await windowBecomes("missing");
  });

  test("started again, the window has its last size; Quit in the tray quits", async () => {
    const again = await launch("background-again", {
      dataDir: session.dataDir,
    });
    try {
      const { browser } = again;
      await visible(browser, sel("workspace-name"));
      assert.deepEqual(
        await browser.getWindowSize(),
        size,
        "the window comes back at the size it was closed at",
      );
      clickTray("Quit");
      await windowBecomes("missing");
    } finally {
      await again.close();
    }
  });
});
