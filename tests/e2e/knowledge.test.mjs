// Knowledge sources through the real window, as a new user would: connect Notion (the real
// OAuth server over TLS), pick two pages in Add source (the fake Notion API of
// tests/fixtures/knowledge-fake on loopback), watch them become ready, search a sentence;
// disconnect Notion and still find it (orphaned sources); reconnect and reindex.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { launch, screenshot } from "./driver.mjs";
import { sel, visible, gone, textOf, type, resize, setUp } from "./helpers.mjs";
import {
  connectThroughWindow,
  makeCa,
  oauthProvider,
  startFixture,
  startOAuthServer,
  writeProviders,
} from "./oauth.mjs";

const row = (title) => `${sel("source-row")}[data-title="${title}"]`;

async function waitStatus(browser, title, status, timeout = 30000) {
  await browser.waitUntil(
    async () =>
      (await (await browser.$(row(title))).getAttribute("data-status")) ===
      status,
    {
      timeout,
      timeoutMsg: `“${title}” did not become ${status}`,
    },
  );
}

/** Checks the picker item titled `title` after searching for `query`. */
async function pick(browser, query, title) {
  await type(browser, sel("picker-search"), query);
  const item = `${sel("picker-item")}[data-title="${title}"]`;
  const el = await visible(browser, item, 15000);
  await (await el.$("input")).click();
}

async function search(browser, query) {
  await type(browser, sel("knowledge-search"), query);
  await visible(browser, sel("search-hit"), 10000);
}

describe("knowledge sources", () => {
  let session;
  let oauth;
  let fake;
  let tls;
  let ca;
  before(async () => {
    tls = makeCa(join(process.env.PITCHBAR_E2E_SCRATCH, "knowledge-ca"));
    ca = readFileSync(tls.ca);
    oauth = await startOAuthServer(tls);
    fake = await startFixture("knowledge-fake", ["--port", "0"]);
    const dataDir = writeProviders(
      join(process.env.PITCHBAR_E2E_SCRATCH, "data-knowledge"),
      tls,
      {
        providers: {
          notion: oauthProvider(oauth, "/notion/v1/oauth/revoke", {
            api_base_url: `http://127.0.0.1:${fake.port}/notion`,
          }),
        },
      },
    );
    session = await launch("knowledge", { dataDir });
    await resize(session.browser, 1280, 800);
    await setUp(
      session.browser,
      "Knowledge Co",
      "Kira Owner",
      "kira@knowledge.test",
    );
  });
  after(async () => {
    await session?.close();
    oauth?.child.kill();
    fake?.child.kill();
  });

  test("connect Notion, pick two pages, see them indexed, search a sentence; disconnect and still find it; reconnect and reindex", async () => {
    const { browser, dataDir } = session;

    // Nothing connected yet: the page and Add source say what to do.
    await (await visible(browser, sel("nav-knowledge"))).click();
    await visible(browser, sel("sources-empty"));
    await (await visible(browser, sel("add-source"))).click();
    await textOf(
      browser,
      sel("add-source-empty"),
      /Connect Notion or Google Docs first/,
    );
    await screenshot(browser, "knowledge-1-nothing-connected");
    await browser.keys("Escape");
    await gone(browser, sel("add-source-modal"));

    await connectThroughWindow(browser, "notion", {
      ca,
      dataDir,
      user: "alice",
    });

    // Add source from the connected Notion card: two pages.
    await (await visible(browser, sel("tab-connected"))).click();
    const card = await visible(
      browser,
      `${sel("connection-card")}[data-id=notion]`,
    );
    await (await card.$(sel("configure"))).click();
    await visible(browser, sel("add-source-modal"));
    await visible(browser, sel("picker-item"), 15000);
    await visible(browser, sel("picker-more"));
    await screenshot(browser, "knowledge-2-picker");
    // Slow pages of blocks, so the progress can be seen.
    await fetch(`http://127.0.0.1:${fake.port}/_test/script`, {
      method: "POST",
      body: JSON.stringify({
        path: "000000000002/children$",
        delay_ms: 1200,
        times: 3,
      }),
    });
    await pick(browser, "handbook", "Pitchbar Handbook");
    await pick(browser, "release", "Release Notes Archive");
    await textOf(browser, sel("add-sources"), /Add 2 sources/);
    await (await browser.$(sel("add-sources"))).click();
    await gone(browser, sel("add-source-modal"));

    // On the Knowledge page, both become ready (pushed by the sourcesChanged event, never polled).
    await visible(browser, row("Pitchbar Handbook"), 20000);
    await textOf(
      browser,
      `${row("Release Notes Archive")} ${sel("source-status")}`,
      /Indexing · \d+ blocks/,
    );
    await screenshot(browser, "knowledge-2b-indexing");
    await waitStatus(browser, "Pitchbar Handbook", "ready");
    await waitStatus(browser, "Release Notes Archive", "ready");
    await textOf(browser, `${row("Pitchbar Handbook")}`, /Ready/);
    await textOf(browser, `${row("Pitchbar Handbook")}`, /KB/);

    await search(browser, "saffron lighthouse");
    await textOf(browser, sel("hit-source"), /Pitchbar Handbook/);
    await textOf(
      browser,
      sel("hit-snippet"),
      /Nested deep inside the toggle lives the saffron lighthouse/,
    );
    const marked = await browser.execute(
      (s) =>
        [...document.querySelectorAll(`${s} mark`)].map((m) => m.textContent),
      sel("hit-snippet"),
    );
    assert.deepEqual(marked.slice(0, 2), ["saffron", "lighthouse"]);
    await screenshot(browser, "knowledge-3-ready-and-search");

    // Disconnect Notion: the sources are orphaned, still searchable, not reindexable.
    await (await visible(browser, sel("nav-integrations"))).click();
    await (await visible(browser, sel("tab-connected"))).click();
    const notion = await visible(
      browser,
      `${sel("connection-card")}[data-id=notion]`,
    );
    await (await notion.$(sel("disconnect"))).click();
    await visible(browser, sel("disconnect-modal"));
    await (await browser.$(sel("confirm-disconnect"))).click();
    await gone(browser, sel("disconnect-modal"), 20000);

    await (await visible(browser, sel("nav-knowledge"))).click();
    await textOf(
      browser,
      `${row("Pitchbar Handbook")} ${sel("source-status")}`,
      /Orphaned/,
    );
    await textOf(
      browser,
      `${row("Pitchbar Handbook")} ${sel("source-reason")}`,
      /Notion is disconnected/,
    );
    assert.equal(
      await (
        await browser.$(`${row("Pitchbar Handbook")} ${sel("reindex")}`)
      ).isEnabled(),
      false,
    );
    await search(browser, "purple walrus");
    await textOf(browser, sel("hit-source"), /Pitchbar Handbook/);
    await screenshot(browser, "knowledge-4-orphaned-still-searchable");

    // Reconnect: the same sources, reindexable again; an edit in Notion shows after Reindex.
    await connectThroughWindow(browser, "notion", {
      ca,
      dataDir,
      user: "alice",
    });
    await fetch(
      `http://127.0.0.1:${fake.port}/_test/notion/pages/1a000000-0000-4000-8000-000000000001`,
      {
        method: "PATCH",
        body: JSON.stringify({
          replace: { from: "purple walrus", to: "green narwhal" },
        }),
      },
    );
    await (await visible(browser, sel("nav-knowledge"))).click();
    await textOf(
      browser,
      `${row("Pitchbar Handbook")} ${sel("source-status")}`,
      /Ready/,
    );
    const reindex = await browser.$(
      `${row("Pitchbar Handbook")} ${sel("reindex")}`,
    );
    await browser.waitUntil(() => reindex.isEnabled(), {
      timeout: 5000,
      timeoutMsg: "Reindex stayed off after reconnecting",
    });
    await reindex.click();
    await waitStatus(browser, "Pitchbar Handbook", "ready");
    await search(browser, "green narwhal");
    await textOf(browser, sel("hit-source"), /Pitchbar Handbook/);
    await screenshot(browser, "knowledge-5-reconnected-reindexed");

    // A phone-sized window.
    await resize(browser, 390, 844);
    await screenshot(browser, "knowledge-6-narrow");
    await (await browser.$(sel("knowledge-search"))).scrollIntoView();
    await screenshot(browser, "knowledge-7-narrow-search");
    await (await browser.$(sel("add-source"))).click();
    await visible(browser, sel("picker-item"), 15000);
    await screenshot(browser, "knowledge-8-narrow-picker");
    await browser.keys("Escape");
    await gone(browser, sel("add-source-modal"));
    await resize(browser, 1280, 800);
  });
});
