// What every whole-app test does to the window: find, wait, type, read; and a receiver on
// 127.0.0.1 that records what the app sends.
import { createServer } from "node:http";
import { createServer as createTcpServer } from "node:net";

export const sel = (id) => `[data-testid=${id}]`;

export async function visible(browser, selector, timeout = 10000) {
  const el = await browser.$(selector);
  await el.waitForDisplayed({
    timeout,
    timeoutMsg: `${selector} did not appear`,
  });
  return el;
}

export async function gone(browser, selector, timeout = 5000) {
  await browser.waitUntil(
    async () => !(await (await browser.$(selector)).isDisplayed()),
    {
      timeout,
      timeoutMsg: `${selector} did not go away`,
    },
  );
}

export async function cardIds(browser) {
  const cards = await browser.$$(sel("integration-card"));
  const ids = [];
  for (const card of cards) {
    if (await card.isDisplayed()) ids.push(await card.getAttribute("data-id"));
  }
  return ids;
}

export async function type(browser, selector, text) {
  const el = await visible(browser, selector);
  await el.clearValue();
  // clearValue fires no input event: type a character and delete it so the UI sees "".
  await el.addValue(text || " ");
  if (!text) await browser.keys("Backspace");
}

// WebKitWebDriver's getText returns "" for text clipped with `overflow: hidden` and an
// ellipsis, so read what the page renders instead.
export const innerText = (browser, el) =>
  browser.execute((e) => e.innerText, el);

export async function textOf(browser, selector, expected) {
  const el = await visible(browser, selector);
  await browser.waitUntil(
    async () => expected.test(await innerText(browser, el)),
    {
      timeout: 5000,
      timeoutMsg: `${selector} never read ${expected}: "${await innerText(browser, el)}"`,
    },
  );
}

export async function resize(browser, width, height) {
  await browser.setWindowSize(width, height);
  await browser.waitUntil(
    async () => (await browser.execute(() => window.innerWidth)) <= width,
    {
      timeout: 5000,
      timeoutMsg: `the window did not resize to ${width}px`,
    },
  );
}

/** A webhook receiver on 127.0.0.1:0 answering `respond()`'s status; records each request. */
export async function startReceiver(respond = () => 200) {
  const received = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(respond(), { "content-type": "application/json" });
      res.end('{"ok":true}');
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    received,
    url: (path) => `http://127.0.0.1:${server.address().port}${path}`,
    close: () => server.close(),
  };
}

/** First run: the workspace and its first member (the Owner). */
export async function setUp(browser, workspace, name, email) {
  await visible(browser, "#setup-workspace");
  await type(browser, "#setup-workspace", workspace);
  await type(browser, "#setup-name", name);
  await type(browser, "#setup-email", email);
  await (await browser.$(sel("setup-submit"))).click();
  await textOf(browser, sel("workspace-name"), new RegExp(`^${workspace}$`));
}

/** Adds a webhook endpoint in the API & Webhooks tab; returns its signing secret. */
export async function addEndpoint(
  browser,
  url,
  description,
  events = ["lead.captured"],
) {
  await (await browser.$(sel("nav-integrations"))).click();
  await (await visible(browser, sel("tab-webhooks"))).click();
  await (await visible(browser, sel("add-endpoint"))).click();
  await type(browser, "#endpoint-url", url);
  await type(browser, "#endpoint-description", description);
  for (const event of events) {
    await (
      await browser.$(`${sel("endpoint-event")}[data-event="${event}"]`)
    ).click();
  }
  await (await browser.$(sel("endpoint-submit"))).click();
  const secretEl = await visible(browser, sel("endpoint-secret"));
  await browser.waitUntil(async () =>
    /^whsec_/.test(await innerText(browser, secretEl)),
  );
  const secret = (await innerText(browser, secretEl)).trim();
  await (await browser.$(sel("endpoint-secret-done"))).click();
  await gone(browser, "[role=dialog]");
  return secret;
}

/** A port nothing listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createTcpServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Dismisses every toast: they sit above dialogs (bottom right) for seconds and would take a
 *  click meant for a dialog's button under them. */
export async function dismissToasts(browser) {
  await browser.execute((s) => {
    for (const b of document.querySelectorAll(`${s} button`)) b.click();
  }, sel("toast"));
  await gone(browser, sel("toast"));
}
