// Connecting Notion through the real window against a real OAuth server (oidc-provider over TLS,
// tests/fixtures/oauth-server) with a CA this test makes: Connect, consent, the waiting dialog's
// link signed in to over HTTP, the pitchbar:// callback delivered by a second launch of the app
// (forwarded by the single-instance plugin), the success dialog and the Connected card; then
// Disconnect through its confirmation.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { launch, screenshot } from "./driver.mjs";
import { sel, visible, gone, textOf, resize, setUp } from "./helpers.mjs";
import {
  makeCa,
  oauthProvider,
  startOAuthServer,
  signIn,
  deliver,
  writeProviders,
} from "./oauth.mjs";

/** Opens Notion's detail modal from the Available tab (scrolled clear of any toast). */
async function openNotion(browser) {
  const card = await visible(
    browser,
    `${sel("integration-card")}[data-id=notion]`,
  );
  await card.scrollIntoView({ block: "center" });
  await card.click();
}

describe("connecting an OAuth integration", () => {
  let session;
  let server;
  let tls;
  before(async () => {
    tls = makeCa(join(process.env.PITCHBAR_E2E_SCRATCH, "oauth-ca"));
    server = await startOAuthServer(tls);
    const dataDir = writeProviders(
      join(process.env.PITCHBAR_E2E_SCRATCH, "data-connect"),
      tls,
      {
        providers: {
          notion: oauthProvider(server, "/notion/v1/oauth/revoke"),
        },
      },
    );
    session = await launch("connect", { dataDir });
    await resize(session.browser, 1280, 800);
    await setUp(
      session.browser,
      "Connect Co",
      "Cora Owner",
      "cora@connect.test",
    );
  });
  after(async () => {
    await session?.close();
    server?.child.kill();
  });

  test("Notion: consent, sign in in the browser, the link comes back, connected, still connected after a restart; then disconnected", async () => {
    const { dataDir } = session;
    let { browser } = session;
    await (await browser.$(sel("nav-integrations"))).click();
    await (await visible(browser, sel("tab-available"))).click();
    await openNotion(browser);
    const connect = await visible(browser, sel("modal-connect"));
    assert.equal(await connect.isEnabled(), true);
    await connect.click();

    const consent = await visible(browser, sel("connect-consent"));
    assert.match(await consent.getText(), /We will request permission to/);
    await screenshot(browser, "connect-1-consent");
    await (await browser.$(sel("connect-continue"))).click();

    await visible(browser, sel("connect-waiting"));
    await textOf(
      browser,
      sel("connect-waiting"),
      /Waiting for you to approve in your browser/,
    );
    const link = await browser.execute(
      (selector) => document.querySelector(selector)?.textContent?.trim() ?? "",
      sel("authorization-link"),
    );
    assert.ok(link.startsWith(server.url("/auth?")), `unexpected link ${link}`);
    await screenshot(browser, "connect-2-waiting");

    const callback = await signIn(readFileSync(tls.ca), link, "alice");
    assert.match(callback, /^pitchbar:\/\/oauth\/callback\?/);
    await deliver(callback, dataDir);

    const success = await visible(browser, sel("connect-success"), 20000);
    assert.match(await success.getText(), /Notion connected/);
    await textOf(browser, sel("connect-account"), /alice@example\.test/);
    await screenshot(browser, "connect-3-success");
    await (await browser.$(sel("connect-done"))).click();
    await gone(browser, sel("connect-modal"));

    await (await browser.$(sel("tab-connected"))).click();
    const card = await visible(
      browser,
      `${sel("connection-card")}[data-id=notion]`,
    );
    assert.match(await card.getText(), /alice@example\.test/);
    assert.match(await card.getText(), /Connected by Cora Owner/);
    assert.equal(await card.getAttribute("data-status"), "active");
    await screenshot(browser, "connect-4-connected-card");

    // Quit and start the app again: the connection (row and keychain entry) is still there.
    await session.close();
    session = await launch("connect", { dataDir });
    browser = session.browser;
    await resize(browser, 1280, 800);
    await (await visible(browser, sel("nav-integrations"))).click();
    await (await visible(browser, sel("tab-connected"))).click();
    const again = await visible(
      browser,
      `${sel("connection-card")}[data-id=notion]`,
    );
    assert.equal(await again.getAttribute("data-status"), "active");
    assert.match(await again.getText(), /alice@example\.test/);

    await (await again.$(sel("disconnect"))).click();
    const confirm = await visible(browser, sel("disconnect-modal"));
    const words = await confirm.getText();
    assert.match(words, /Are you sure you want to disconnect Notion\?/);
    assert.match(words, /Revoke Pitchbar's access at Notion/);
    assert.match(words, /stop refreshing/);
    await screenshot(browser, "connect-5-disconnect-confirm");
    await (await browser.$(sel("confirm-disconnect"))).click();
    await gone(browser, sel("disconnect-modal"), 20000);

    // Revoked at once (the server is up): the connection leaves the Connected tab.
    await browser.waitUntil(
      async () =>
        (await browser.$$(`${sel("connection-card")}[data-id=notion]`))
          .length === 0,
      {
        timeout: 15000,
        timeoutMsg: "the Notion card did not go after disconnecting",
      },
    );
    await screenshot(browser, "connect-6-disconnected");
  });

  test("a declined sign-in says so in the dialog, which offers Try again", async () => {
    const { browser, dataDir } = session;
    await (await browser.$(sel("tab-available"))).click();
    await openNotion(browser);
    await (await visible(browser, sel("modal-connect"))).click();
    await (await visible(browser, sel("connect-continue"))).click();
    await visible(browser, sel("connect-waiting"));
    const link = await browser.execute(
      (selector) => document.querySelector(selector)?.textContent?.trim() ?? "",
      sel("authorization-link"),
    );
    const callback = await signIn(readFileSync(tls.ca), link, "alice", {
      deny: true,
    });
    await deliver(callback, dataDir);
    const failed = await visible(browser, sel("connect-failed"), 20000);
    assert.match(
      await failed.getText(),
      /not granted at Notion.*nothing was connected/is,
    );
    assert.equal(
      await (await browser.$(sel("connect-retry"))).isDisplayed(),
      true,
    );
    await screenshot(browser, "connect-7-declined");
    await browser.keys("Escape");
    await gone(browser, sel("connect-modal"));
  });

  test("with the provider down, Disconnect leaves the card saying revocation is pending; it goes once the provider answers", async () => {
    const { browser, dataDir } = session;
    await (await browser.$(sel("tab-available"))).click();
    await openNotion(browser);
    await (await visible(browser, sel("modal-connect"))).click();
    await (await visible(browser, sel("connect-continue"))).click();
    await visible(browser, sel("connect-waiting"));
    const link = await browser.execute(
      (selector) => document.querySelector(selector)?.textContent?.trim() ?? "",
      sel("authorization-link"),
    );
    await deliver(await signIn(readFileSync(tls.ca), link, "bob"), dataDir);
    await visible(browser, sel("connect-success"), 20000);
    await (await browser.$(sel("connect-done"))).click();
    await gone(browser, sel("connect-modal"));

    await (await browser.$(sel("tab-connected"))).click();
    const card = `${sel("connection-card")}[data-id=notion]`;
    await textOf(browser, card, /bob@example\.test/);

    // The provider cannot be reached: disconnected here, revocation owed.
    const port = server.port;
    server.child.kill();
    await new Promise((r) => server.child.once("exit", r));
    await (await (await browser.$(card)).$(sel("disconnect"))).click();
    await visible(browser, sel("disconnect-modal"));
    await (await browser.$(sel("confirm-disconnect"))).click();
    await gone(browser, sel("disconnect-modal"), 30000);
    await browser.waitUntil(
      async () =>
        (await (await browser.$(card)).getAttribute("data-status")) ===
        "revocation_pending",
      {
        timeout: 10000,
        timeoutMsg: "the card did not say revocation is pending",
      },
    );
    await textOf(
      browser,
      `${card} ${sel("connection-status")}`,
      /Disconnecting/,
    );
    await textOf(browser, `${card} ${sel("connection-detail")}`, /./);
    await screenshot(browser, "connect-8-revocation-pending");

    // Back up: the retrier revokes, and the card goes by itself (the connectionsChanged event).
    server = await startOAuthServer(tls, port);
    await browser.waitUntil(async () => (await browser.$$(card)).length === 0, {
      timeout: 90000,
      interval: 500,
      timeoutMsg: "the card stayed after the provider came back",
    });
    await screenshot(browser, "connect-9-revoked");
  });
});
