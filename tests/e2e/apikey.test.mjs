// Connecting Freshdesk with an API key through the real window, against the Freshdesk fake of
// tests/fixtures/provider-fakes (it checks the key): a wrong key shows the fake's refusal in
// Freshdesk's words and keeps nothing; the right one connects, its card appears on the
// Connected tab, and Disconnect removes it. Screenshots of the form at 1280×800 and 390×844.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { launch, screenshot } from "./driver.mjs";
import { sel, visible, gone, textOf, resize, setUp, type } from "./helpers.mjs";
import { startFixture } from "./oauth.mjs";

const KEY = "fd-test-key-0001"; // tests/fixtures/provider-fakes/providers/freshdesk.mjs

describe("connecting an API-key integration", () => {
  let session;
  let fake;
  before(async () => {
    fake = await startFixture("provider-fakes", ["--port", "0"]);
    const dataDir = join(process.env.PITCHBAR_E2E_SCRATCH, "data-apikey");
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(
      join(dataDir, "providers.json"),
      JSON.stringify({
        api_keys: {
          freshdesk: { base_url: `http://127.0.0.1:${fake.port}/freshdesk/{subdomain}` },
        },
      }),
    );
    session = await launch("apikey", { dataDir });
    await resize(session.browser, 1280, 800);
    await setUp(session.browser, "Key Co", "Kim Owner", "kim@key.test");
  });
  after(async () => {
    await session?.close();
    fake?.child.kill();
  });

  async function openForm(browser) {
    await (await browser.$(sel("nav-integrations"))).click();
    await (await visible(browser, sel("tab-available"))).click();
    const card = await visible(browser, `${sel("integration-card")}[data-id=freshdesk]`);
    await card.scrollIntoView({ block: "center" });
    await card.click();
    await screenshot(browser, "apikey-0-details");
    await (await visible(browser, sel("modal-connect"))).click();
    await visible(browser, sel("api-key-modal"));
  }

  test("Freshdesk: a wrong key is refused in Freshdesk's words; the right one connects; Disconnect removes it", async () => {
    const { browser } = session;
    await openForm(browser);
    await screenshot(browser, "apikey-form-desktop");
    await resize(browser, 390, 844);
    await screenshot(browser, "apikey-form-mobile");
    await resize(browser, 1280, 800);

    await type(browser, sel("api-key-field-subdomain"), "acme");
    await type(browser, sel("api-key-field-api_key"), "fd-wrong-key");
    await (await browser.$(sel("api-key-connect"))).click();
    await textOf(browser, sel("api-key-modal"), /You have to be logged in to perform this action\./);
    assert.match(await (await browser.$(sel("api-key-modal"))).getText(), /Nothing was saved/);
    await screenshot(browser, "apikey-form-refused");

    await type(browser, sel("api-key-field-api_key"), KEY);
    await (await browser.$(sel("api-key-connect"))).click();
    await textOf(browser, sel("connect-success"), /Freshdesk connected/);
    assert.match(await (await browser.$(sel("connect-account"))).getText(), /ada@acme\.example/);
    await (await browser.$(sel("connect-done"))).click();
    await gone(browser, sel("api-key-modal"));

    await (await visible(browser, sel("tab-connected"))).click();
    const card = await visible(browser, `${sel("connection-card")}[data-id=freshdesk]`);
    assert.match(await card.getText(), /ada@acme\.example/);
    await (await card.$(sel("disconnect"))).click();
    const confirm = await visible(browser, sel("disconnect-modal"));
    assert.match(await confirm.getText(), /Remove the credentials from your system keychain/);
    await (await browser.$(sel("confirm-disconnect"))).click();
    await gone(browser, `${sel("connection-card")}[data-id=freshdesk]`);
  });
});
