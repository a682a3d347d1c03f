// A destination through the real window, against the Freshdesk fake of
// tests/fixtures/provider-fakes: connect Freshdesk with its API key, Configure it (the ticket
// group "Sales", read live from the fake), Save, Send a test lead (a sample routed conversation
// becomes a ticket in the fake, in that group), then the Sync log shows the test's calls.
// Screenshots of the Configure dialog and the sync log at 1280×800 and 390×844.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { launch, screenshot } from "./driver.mjs";
import {
  sel,
  visible,
  gone,
  textOf,
  resize,
  setUp,
  type,
  dismissToasts,
} from "./helpers.mjs";
import { startFixture } from "./oauth.mjs";

const KEY = "fd-test-key-0001"; // tests/fixtures/provider-fakes/providers/freshdesk.mjs
const SALES = "43000000202";

describe("a destination: Freshdesk", () => {
  let session;
  let fake;
  before(async () => {
    fake = await startFixture("provider-fakes", ["--port", "0"]);
    const dataDir = join(process.env.PITCHBAR_E2E_SCRATCH, "data-destinations");
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(
      join(dataDir, "providers.json"),
      JSON.stringify({
        api_keys: {
          freshdesk: {
            base_url: `http://127.0.0.1:${fake.port}/freshdesk/{subdomain}`,
          },
        },
      }),
    );
    session = await launch("destinations", { dataDir });
    await resize(session.browser, 1280, 800);
    await setUp(session.browser, "Dest Co", "Dee Owner", "dee@dest.test");
  });
  after(async () => {
    await session?.close();
    fake?.child.kill();
  });

  async function state() {
    const res = await fetch(
      `http://127.0.0.1:${fake.port}/_test/state/freshdesk`,
    );
    assert.equal(res.status, 200);
    return res.json();
  }

  test("Configure the ticket group, send a test lead, and see its calls in the sync log", async () => {
    const { browser } = session;
    await (await browser.$(sel("nav-integrations"))).click();
    await (await visible(browser, sel("tab-available"))).click();
    const tile = await visible(
      browser,
      `${sel("integration-card")}[data-id=freshdesk]`,
    );
    await tile.scrollIntoView({ block: "center" });
    await tile.click();
    await (await visible(browser, sel("modal-connect"))).click();
    await visible(browser, sel("api-key-modal"));
    await type(browser, sel("api-key-field-subdomain"), "acme");
    await type(browser, sel("api-key-field-api_key"), KEY);
    await (await browser.$(sel("api-key-connect"))).click();
    await textOf(browser, sel("connect-success"), /Freshdesk connected/);
    await (await browser.$(sel("connect-done"))).click();
    await gone(browser, sel("api-key-modal"));

    await (await visible(browser, sel("tab-connected"))).click();
    const card = `${sel("connection-card")}[data-id=freshdesk]`;
    await visible(browser, card);
    await textOf(
      browser,
      `${card} ${sel("destination-sync")}`,
      /Nothing sent yet|Last sync/,
    );
    await (await visible(browser, `${card} ${sel("configure")}`)).click();
    const dialog = await visible(browser, sel("destination-config"));
    assert.match(await dialog.getText(), /conversation\.routed/);

    // The groups are read live from the fake; pick "Sales".
    await browser
      .waitUntil(
        async () =>
          browser.execute(
            (id) =>
              !!document.querySelector(
                `[data-testid=destination-target] option[value="${id}"]`,
              ) || !!document.querySelector("[data-testid=fields-error]"),
            SALES,
          ),
        { timeout: 10000, timeoutMsg: "the ticket groups never loaded" },
      )
      .catch(async (e) => {
        await screenshot(browser, "destinations-configure-stuck");
        const options = await browser.execute(
          () =>
            document.querySelector("[data-testid=destination-target]")
              ?.outerHTML,
        );
        throw new Error(`${e.message}: ${options}`);
      });
    await screenshot(browser, "destinations-configure-desktop");
    await resize(browser, 390, 844);
    await screenshot(browser, "destinations-configure-mobile");
    await resize(browser, 1280, 800);
    const loadError = await browser.$(sel("fields-error"));
    if (await loadError.isExisting())
      assert.fail(`the lists did not load: ${await loadError.getText()}`);
    await (
      await browser.$(sel("destination-target"))
    ).selectByAttribute("value", SALES);
    assert.equal(
      await (await browser.$(sel("destination-target"))).getValue(),
      SALES,
    );

    await (await browser.$(sel("destination-save"))).click();
    await browser.waitUntil(
      async () =>
        !(await (
          await browser.$(sel("destination-save"))
        ).getAttribute("disabled")),
      { timeout: 10000 },
    );
    assert.equal(
      await (await browser.$(sel("form-error"))).isExisting(),
      false,
    );
    await dismissToasts(browser);

    const before = (await state()).tickets.length;
    await (await browser.$(sel("send-test-lead"))).click();
    await browser.waitUntil(
      async () =>
        (await (await browser.$(sel("test-result"))).isExisting()) ||
        (await (await browser.$(sel("form-error"))).isExisting()),
      { timeout: 20000, timeoutMsg: "Send a test lead never answered" },
    );
    const refused = await browser.$(sel("form-error"));
    if (await refused.isExisting()) {
      await screenshot(browser, "destinations-test-refused");
      assert.fail(`Send a test lead was refused: ${await refused.getText()}`);
    }
    const result = await browser.$(sel("test-result"));
    assert.equal(
      await result.getAttribute("data-ok"),
      "true",
      `the test lead failed: ${await result.getText()}`,
    );
    const tickets = (await state()).tickets;
    assert.equal(tickets.length, before + 1);
    assert.equal(String(tickets.at(-1).group_id), SALES);
    await screenshot(browser, "destinations-test-result-desktop");
    await resize(browser, 390, 844);
    await screenshot(browser, "destinations-test-result-mobile");
    await resize(browser, 1280, 800);
    await (
      await browser.$(`${sel("destination-config")} ${sel("modal-close")}`)
    ).click();
    await gone(browser, sel("destination-config"));

    await (await visible(browser, `${card} ${sel("open-sync-log")}`)).click();
    const log = await visible(browser, sel("sync-log"));
    await (await log.$(`${sel("sync-filter")}[data-filter=test]`)).click();
    await visible(browser, sel("test-calls")).catch(async (e) => {
      await screenshot(browser, "destinations-sync-log-empty");
      throw e;
    });
    await textOf(browser, sel("test-calls"), /POST \S*\/api\/v2\/tickets/);
    await screenshot(browser, "destinations-sync-log-desktop");
    await resize(browser, 390, 844);
    await screenshot(browser, "destinations-sync-log-mobile");
    await resize(browser, 1280, 800);
  });
});
