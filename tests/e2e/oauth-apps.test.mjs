// OAuth apps set up in the window, against the real OAuth server (oidc-provider over TLS): the
// providers file only points Notion's endpoints at it, with no client. An Owner opens Settings →
// OAuth apps, reads and copies the redirect URI, enters the client ID with a wrong secret (the
// token endpoint's refusal is shown, nothing is stored), fixes the secret, connects; then a
// sign-in whose callback link starts the closed app completes.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
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
import {
  CLIENT_ID,
  CLIENT_SECRET,
  makeCa,
  oauthProvider,
  startOAuthServer,
  signIn,
  deliver,
  writeProviders,
} from "./oauth.mjs";

const readLink = (browser) =>
  browser.execute(
    (selector) => document.querySelector(selector)?.textContent?.trim() ?? "",
    sel("authorization-link"),
  );

async function openNotionApp(browser) {
  await (await visible(browser, sel("nav-settings"))).click();
  const row = await visible(
    browser,
    `${sel("oauth-app-row")}[data-provider=notion]`,
  );
  await row.scrollIntoView({ block: "center" });
  await (await row.$(sel("oauth-app-edit"))).click();
  return visible(browser, sel("oauth-app-modal"));
}

async function startConnect(browser) {
  await (await visible(browser, sel("nav-integrations"))).click();
  await (await visible(browser, sel("tab-available"))).click();
  const card = await visible(
    browser,
    `${sel("integration-card")}[data-id=notion]`,
  );
  await card.scrollIntoView({ block: "center" });
  // A toast from what came before (a disconnect) would take the clicks meant for the card and
  // the dialog's button.
  await dismissToasts(browser);
  await card.click();
  const connect = await visible(browser, sel("modal-connect"));
  await dismissToasts(browser);
  await connect.click();
  await (await visible(browser, sel("connect-continue"))).click();
  await visible(browser, sel("connect-waiting"));
  return readLink(browser);
}

describe("OAuth apps set up in the window", () => {
  let session;
  let server;
  let tls;
  let ca;
  before(async () => {
    tls = makeCa(join(process.env.PITCHBAR_E2E_SCRATCH, "oauth-apps-ca"));
    ca = readFileSync(tls.ca);
    server = await startOAuthServer(tls);
    const notion = oauthProvider(server, "/notion/v1/oauth/revoke");
    delete notion.client_id;
    delete notion.client_secret;
    const dataDir = writeProviders(
      join(process.env.PITCHBAR_E2E_SCRATCH, "data-oauth-apps"),
      tls,
      { providers: { notion } },
    );
    session = await launch("oauth-apps", { dataDir });
    await resize(session.browser, 1280, 800);
    await setUp(session.browser, "Apps Co", "Ada Owner", "ada@apps.test");
  });
  after(async () => {
    await session?.close();
    server?.child.kill();
  });

  test("the Owner enters the client, copies the redirect URI; a wrong secret shows the refusal and stores nothing; the right one connects", async () => {
    const { browser, dataDir } = session;
    let modal = await openNotionApp(browser);
    await textOf(
      browser,
      sel("redirect-uri"),
      /^pitchbar:\/\/oauth\/callback$/,
    );
    assert.match(await modal.getText(), /Register Pitchbar Admin at Notion/);
    await (await browser.$(sel("copy-redirect-uri"))).click();
    await textOf(browser, sel("toast"), /Redirect URI copied/);
    await screenshot(browser, "oauth-apps-1-form-1280");
    await resize(browser, 390, 844);
    await screenshot(browser, "oauth-apps-2-form-390");
    await resize(browser, 1280, 800);

    await type(
      browser,
      `${sel("oauth-app-form")} #oauth-app-form-client-id`,
      CLIENT_ID,
    );
    await type(
      browser,
      `${sel("oauth-app-form")} #oauth-app-form-client-secret`,
      "wrong-secret",
    );
    await (await browser.$(sel("oauth-app-save"))).click();
    await gone(browser, sel("oauth-app-modal"));
    await textOf(
      browser,
      `${sel("oauth-app-row")}[data-provider=notion]`,
      /Client ID pitchbar-admin… · no connections/,
    );
    await dismissToasts(browser);

    const link = await startConnect(browser);
    assert.ok(link.startsWith(server.url("/auth?")), link);
    await deliver(await signIn(ca, link, "alice"), dataDir);
    const failed = await visible(browser, sel("connect-failed"), 20000);
    assert.match(
      await failed.getText(),
      /Notion refused finishing the sign-in \(invalid_client\)/,
    );
    await screenshot(browser, "oauth-apps-3-wrong-secret");
    await browser.keys("Escape");
    await gone(browser, sel("connect-modal"));
    await (await browser.$(sel("tab-connected"))).click();
    assert.equal(
      (await browser.$$(`${sel("connection-card")}[data-id=notion]`)).length,
      0,
    );

    modal = await openNotionApp(browser);
    await type(
      browser,
      `${sel("oauth-app-form")} #oauth-app-form-client-secret`,
      CLIENT_SECRET,
    );
    await (await browser.$(sel("oauth-app-save"))).click();
    await gone(browser, sel("oauth-app-modal"));
    await dismissToasts(browser);
    await deliver(
      await signIn(ca, await startConnect(browser), "alice"),
      dataDir,
    );
    await textOf(browser, sel("connect-success"), /Notion connected/);
    await (await browser.$(sel("connect-done"))).click();
    await gone(browser, sel("connect-modal"));
    await (await browser.$(sel("tab-connected"))).click();
    const card = await visible(
      browser,
      `${sel("connection-card")}[data-id=notion]`,
    );
    assert.equal(await card.getAttribute("data-status"), "active");
  });

  test("a callback link that starts the closed app completes the sign-in begun before", async () => {
    let { browser, dataDir } = session;
    // Disconnect first, so Notion can be connected again.
    await (
      await (
        await browser.$(`${sel("connection-card")}[data-id=notion]`)
      ).$(sel("disconnect"))
    ).click();
    await (await visible(browser, sel("confirm-disconnect"))).click();
    await gone(browser, sel("disconnect-modal"), 20000);
    await browser.waitUntil(
      async () =>
        (await browser.$$(`${sel("connection-card")}[data-id=notion]`))
          .length === 0,
      {
        timeout: 15000,
        timeoutMsg: "the Notion card did not go after disconnecting",
      },
    );

    const link = await startConnect(browser);
    await session.close(); // The app is closed during the sign-in.
    const callback = await signIn(ca, link, "bob");
    session = await launch("oauth-apps", { dataDir, args: [callback] });
    browser = session.browser;
    await resize(browser, 1280, 800);
    await (await visible(browser, sel("nav-integrations"))).click();
    await (await visible(browser, sel("tab-connected"))).click();
    const card = await visible(
      browser,
      `${sel("connection-card")}[data-id=notion]`,
      20000,
    );
    await textOf(
      browser,
      `${sel("connection-card")}[data-id=notion]`,
      /bob@example\.test/,
    );
    assert.equal(await card.getAttribute("data-status"), "active");
  });

  test("the guide of a provider that needs a detail (Zendesk's subdomain, a fixed loopback port)", async () => {
    const { browser } = session;
    await (await visible(browser, sel("nav-settings"))).click();
    const row = await visible(
      browser,
      `${sel("oauth-app-row")}[data-provider=zendesk]`,
    );
    await row.scrollIntoView({ block: "center" });
    await (await row.$(sel("oauth-app-edit"))).click();
    await visible(browser, sel("oauth-subdomain"));
    await textOf(
      browser,
      sel("redirect-uri"),
      /^http:\/\/127\.0\.0\.1:47822\/oauth\/callback$/,
    );
    await screenshot(browser, "oauth-apps-4-guide-zendesk-1280");
    await resize(browser, 390, 844);
    await screenshot(browser, "oauth-apps-5-guide-zendesk-390");
    await resize(browser, 1280, 800);
    await browser.keys("Escape");
    await gone(browser, sel("oauth-app-modal"));
  });
});
