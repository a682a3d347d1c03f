// Memory benchmark (not part of the test command): the app's proportional set size (PSS: the
// app process and the WebKit processes it started) with the full UI and 100,000 logged
// delivery attempts, on the API & Webhooks tab with the log loaded and scrolled.
// The design's budget: at most 1.3 × a blank Tauri 2 window.
//
//     PITCHBAR_E2E_CMD="node memory.mjs" tests/e2e/run.sh
//
// One real delivery is made through the window, then copied 99,999 times in the database
// (sqlite3) with new delivery IDs and times; the app is started again on that data.
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, readlinkSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { launch } from "./driver.mjs";
import { addEndpoint, sel, setUp, startReceiver, visible } from "./helpers.mjs";

const ATTEMPTS = Number(process.env.MEMORY_ATTEMPTS ?? 100000);

/** PSS in KiB of a process, from /proc (0 when it is gone). */
function pssKib(pid) {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
    return Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

function processes() {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .map((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
        const ppid = Number(
          stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1],
        );
        return { pid: Number(pid), ppid, comm };
      } catch {
        return null;
      }
    })
    .filter(Boolean);
}

/** The app's process and every process below it (WebKit's web and network processes). */
function appMemory() {
  const all = processes();
  // The process running this build's binary (not another app a test left running).
  const exe = realpathSync(process.env.PITCHBAR_APP);
  const app = all.find((p) => {
    try {
      return readlinkSync(`/proc/${p.pid}/exe`) === exe;
    } catch {
      return false;
    }
  });
  if (!app) throw new Error("the app's process was not found");
  const tree = [app];
  for (let i = 0; i < tree.length; i++) {
    tree.push(...all.filter((p) => p.ppid === tree[i].pid));
  }
  return tree.map((p) => ({ ...p, pss: pssKib(p.pid) }));
}

async function settle(browser) {
  await new Promise((r) => setTimeout(r, 3000));
  await browser.executeAsync((done) =>
    requestAnimationFrame(() => requestAnimationFrame(() => done())),
  );
}

function report(label, tree) {
  const total = tree.reduce((s, p) => s + p.pss, 0);
  const parts = tree
    .map((p) => `${p.comm} ${(p.pss / 1024).toFixed(1)}`)
    .join(", ");
  console.log(`${label}: ${(total / 1024).toFixed(1)} MB PSS (${parts})`);
  return total;
}

const receiver = await startReceiver();
let { browser, close, dataDir } = await launch("memory", {
  screenshots: false,
});
try {
  await setUp(browser, "Memory Co", "Mia Owner", "mia@memory.test");
  await settle(browser);
  report("first screen, empty workspace", appMemory());

  await addEndpoint(browser, receiver.url("/hook"), "Memory receiver");
  await (await browser.$(sel("endpoint-test"))).click();
  await visible(browser, "#test-payload");
  await (await browser.$(sel("send-test-submit"))).click();
  await visible(browser, `${sel("attempt-row")}[data-status="200"]`);
  await close();

  const db = join(dataDir, "pitchbar.db");
  execFileSync("sqlite3", [
    db,
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${ATTEMPTS - 1})
     INSERT INTO webhook_attempt (delivery_id, endpoint_id, event_type, trigger, attempt_no,
         attempted_at, url, request_headers, request_body, response_status, response_headers,
         response_body, response_truncated, duration_us, ok, error_class, error_message,
         next_attempt_at)
     SELECT printf('01MEMORY%018d', i), a.endpoint_id, a.event_type, a.trigger, a.attempt_no,
         a.attempted_at - i * 1000, a.url, a.request_headers, a.request_body,
         a.response_status, a.response_headers, a.response_body, a.response_truncated,
         a.duration_us, a.ok, a.error_class, a.error_message, a.next_attempt_at
     FROM n, (SELECT * FROM webhook_attempt ORDER BY id LIMIT 1) a;`,
  ]);
  const count = execFileSync("sqlite3", [
    db,
    "SELECT count(*) FROM webhook_attempt",
  ])
    .toString()
    .trim();
  console.log(`logged attempts: ${count}`);

  ({ browser, close } = await launch("memory", {
    dataDir,
    screenshots: false,
  }));
  await (await visible(browser, sel("nav-integrations"))).click();
  await (await visible(browser, sel("tab-webhooks"))).click();
  await visible(browser, sel("attempt-row"));
  await settle(browser);
  report(
    `API & Webhooks tab, ${count} attempts logged, first page shown`,
    appMemory(),
  );
  // Page through the log as a person would, then back to the top.
  for (let i = 0; i < 10; i++) {
    const more = await browser.$("button.older");
    if (!(await more.isExisting())) break;
    await more.scrollIntoView();
    await more.click();
    await new Promise((r) => setTimeout(r, 300));
  }
  await browser.execute(() => document.getElementById("main").scrollTo(0, 0));
  await settle(browser);
  // The log keeps only the rows near the view in the DOM; aria-rowcount counts them all.
  const rows =
    Number(
      await (
        await browser.$(sel("attempt-table"))
      ).getAttribute("aria-rowcount"),
    ) - 1;
  const inDom = (await browser.$$(sel("attempt-row"))).length;
  report(
    `API & Webhooks tab, ${count} attempts logged, ${rows} rows loaded (${inDom} in the DOM)`,
    appMemory(),
  );
  await (await browser.$(sel("tab-connected"))).click();
  await (await browser.$(sel("tab-available"))).click();
  await settle(browser);
  report("after visiting every tab", appMemory());
} finally {
  await close();
  receiver.close();
}
