// The tray icon's menu as a desktop's panel sees it: libayatana-appindicator exports it on the
// session bus as a com.canonical.dbusmenu object, which we read (GetLayout) and click (Event)
// with gdbus, as a panel would. Needs gdbus (libglib2.0-bin, scripts/setup.sh --test).
import { execFileSync } from "node:child_process";

const MENU = "/org/ayatana/NotificationItem/tray_icon_tray_app_main/Menu";

function gdbus(dest, path, method, ...args) {
  return execFileSync(
    "gdbus",
    [
      "call",
      "--session",
      "--dest",
      dest,
      "--object-path",
      path,
      "--method",
      method,
      "--",
      ...args,
    ],
    // Some connections never answer a call they do not serve: give up on them quickly.
    { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 2000 },
  );
}

const BUS = ["org.freedesktop.DBus", "/org/freedesktop/DBus"];

/** The process on the other end of a bus connection, as the bus daemon says; 0 for one
 *  gone meanwhile (the listing names the asking gdbus itself). */
function pidOf(name) {
  try {
    const answer = gdbus(
      ...BUS,
      "org.freedesktop.DBus.GetConnectionUnixProcessID",
      name,
    );
    return Number(answer.match(/uint32 (\d+)/)[1]);
  } catch {
    return 0;
  }
}

/** The app's bus connection that serves its tray menu. Only the app's own connections are
 *  asked (found by process through the bus daemon): others may never answer a call. */
let found = { app: 0, name: "" };

function owner() {
  const app = pidOf("com.pitchbar.admin.SingleInstance");
  if (found.app === app) return found.name;
  const names =
    gdbus(...BUS, "org.freedesktop.DBus.ListNames").match(/':[0-9.]+'/g) ?? [];
  for (const quoted of names) {
    const name = quoted.slice(1, -1);
    if (pidOf(name) !== app) continue;
    try {
      gdbus(name, MENU, "com.canonical.dbusmenu.GetLayout", "0", "0", "@as []");
      found = { app, name };
      return name;
    } catch {
      // Another of the app's connections.
    }
  }
  throw new Error(
    "no tray menu on the session bus (is libayatana-appindicator3 installed?)",
  );
}

/** The menu's items, top to bottom: `{ id, label, enabled }` (separators left out). */
export function trayMenu() {
  const layout = gdbus(
    owner(),
    MENU,
    "com.canonical.dbusmenu.GetLayout",
    "0",
    "-1",
    "@as []",
  );
  const items = [];
  for (const [, id, props] of layout.matchAll(
    /<\((\d+), \{([^{}]*)\}, @av \[\]\)>/g,
  )) {
    const label = props.match(/'label': <'([^']*)'>/);
    if (!label) continue;
    items.push({
      id: Number(id),
      label: label[1],
      enabled: !/'enabled': <false>/.test(props),
    });
  }
  return items;
}

export const trayLabels = () => trayMenu().map((i) => i.label);

/** Clicks the item labelled `label`, as the panel does when a person picks it. */
export function clickTray(label) {
  const item = trayMenu().find((i) => i.label === label);
  if (!item)
    throw new Error(
      `no tray item "${label}" in ${JSON.stringify(trayLabels())}`,
    );
  if (!item.enabled) throw new Error(`the tray item "${label}" is disabled`);
  gdbus(
    owner(),
    MENU,
    "com.canonical.dbusmenu.Event",
    String(item.id),
    "clicked",
    "<0>",
    "0",
  );
}
