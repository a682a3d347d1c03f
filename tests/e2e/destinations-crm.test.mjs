// HubSpot and Zendesk as destinations through the real window: each signed in to through the
// real OAuth server (loopback redirects, as the providers require), their APIs answered by the
// fakes of tests/fixtures/provider-fakes. HubSpot: map the agent's custom field "Company",
// submit a lead in the Playground → the contact exists in the fake with that property and the
// sync log shows the call; a lead HubSpot refuses shows as failed with HubSpot's words. Zendesk:
// a conversation routed through the local API → the ticket exists. Then the other six connected
// and their Configure dialogs opened. Screenshots of every Configure dialog and of a sync log
// with a failure, at 1280×800 and 390×844.
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
  innerText,
} from "./helpers.mjs";
import {
  makeCa,
  oauthProvider,
  startOAuthServer,
  startFixture,
  writeProviders,
  connectThroughWindow,
} from "./oauth.mjs";

const card = (id) => `${sel("connection-card")}[data-id=${id}]`;

/** Both sizes of the window, one screenshot each. */
async function bothSizes(browser, name) {
  await screenshot(browser, `${name}-desktop`);
  await resize(browser, 390, 844);
  await screenshot(browser, `${name}-mobile`);
  await resize(browser, 1280, 800);
}

describe("destinations: HubSpot and Zendesk", () => {
  let session;
  let server;
  let tls;
  let fake;
  before(async () => {
    tls = makeCa(join(process.env.PITCHBAR_E2E_SCRATCH, "crm-ca"));
    server = await startOAuthServer(tls);
    fake = await startFixture("provider-fakes", ["--port", "0"]);
    const api = (mount) => `http://127.0.0.1:${fake.port}/${mount}`;
    const dataDir = writeProviders(
      join(process.env.PITCHBAR_E2E_SCRATCH, "data-crm"),
      tls,
      {
        providers: {
          hubspot: oauthProvider(server, "/token/revocation", {
            api_base_url: api("hubspot"),
          }),
          zendesk: oauthProvider(server, "/token/revocation", {
            api_base_url: api("zendesk/acme"),
          }),
          salesforce: oauthProvider(server, "/token/revocation", {
            api_base_url: api("salesforce"),
          }),
          pipedrive: oauthProvider(server, "/token/revocation", {
            api_base_url: api("pipedrive"),
          }),
          mailchimp: oauthProvider(server, "/token/revocation", {
            api_base_url: api("mailchimp"),
            metadata_url: server.url("/mailchimp/metadata"),
          }),
        },
        api_keys: {
          activecampaign: { base_url: api("activecampaign") },
          segment: { base_url: api("segment") },
          "google-analytics": { base_url: api("ga4") },
        },
      },
    );
    session = await launch("crm", { dataDir });
    await resize(session.browser, 1280, 800);
    await setUp(session.browser, "CRM Co", "Cody Owner", "cody@crm.test");
  });
  after(async () => {
    await session?.close();
    server?.child.kill();
    fake?.child.kill();
  });

  async function fakeState(provider) {
    const res = await fetch(
      `http://127.0.0.1:${fake.port}/_test/state/${provider}`,
    );
    assert.equal(res.status, 200);
    return res.json();
  }

  async function openConfigure(browser, id) {
    await (await visible(browser, sel("nav-integrations"))).click();
    await (await visible(browser, sel("tab-connected"))).click();
    const configure = await visible(browser, `${card(id)} ${sel("configure")}`);
    await configure.scrollIntoView({ block: "center" });
    await configure.click();
    await visible(browser, sel("destination-config"));
    await browser.waitUntil(
      async () =>
        !(await (await browser.$(sel("fields-loading"))).isExisting()),
      { timeout: 10000, timeoutMsg: "the provider's lists never loaded" },
    );
    const error = await browser.$(sel("fields-error"));
    if (await error.isExisting())
      assert.fail(`the lists did not load: ${await error.getText()}`);
  }

  async function closeConfigure(browser) {
    await (
      await browser.$(`${sel("destination-config")} ${sel("modal-close")}`)
    ).click();
    await gone(browser, sel("destination-config"));
  }

  test("HubSpot: a custom field mapped, a Playground lead becomes a contact with it; a refused lead fails with HubSpot's words", async () => {
    const { browser, dataDir } = session;
    await connectThroughWindow(browser, "hubspot", {
      ca: readFileSync(tls.ca),
      dataDir,
      user: "cody",
    });
    await openConfigure(browser, "hubspot");
    await (await browser.$(sel("mapping-add"))).click();
    const rows = await browser.$$(sel("mapping-row"));
    const [from, to] = await rows[rows.length - 1].$$("select");
    await from.selectByAttribute("value", "fields.company");
    await to.selectByAttribute("value", "company");
    await bothSizes(browser, "destinations-hubspot-configure");
    await (await browser.$(sel("destination-save"))).click();
    await browser.waitUntil(
      async () =>
        !(await (
          await browser.$(sel("destination-save"))
        ).getAttribute("disabled")),
      { timeout: 10000 },
    );
    const refused = await browser.$(sel("form-error"));
    if (await refused.isExisting())
      assert.fail(`Save was refused: ${await refused.getText()}`);
    await closeConfigure(browser);
    await dismissToasts(browser);

    const email = `ada+${Date.now()}@example.com`;
    await (await browser.$(sel("nav-playground"))).click();
    await visible(browser, "#playground-agent");
    await type(browser, "#playground-name", "Ada Lovelace");
    await type(browser, "#playground-email", email);
    await type(browser, "#playground-field-company", "Analytical Engines");
    await (await browser.$(sel("playground-submit"))).click();

    await browser.waitUntil(
      async () =>
        (await fakeState("hubspot")).contacts.some(
          (c) => c.properties.email === email,
        ),
      { timeout: 15000, timeoutMsg: "the contact never reached HubSpot" },
    );
    const contact = (await fakeState("hubspot")).contacts.find(
      (c) => c.properties.email === email,
    );
    assert.equal(contact.properties.company, "Analytical Engines");
    assert.equal(contact.properties.firstname, "Ada");
    assert.equal(contact.properties.lastname, "Lovelace");

    // HubSpot refuses the next upsert: the item fails with its words, not retried forever.
    await fetch(`http://127.0.0.1:${fake.port}/_test/script`, {
      method: "POST",
      body: JSON.stringify({
        path: "contacts/batch/upsert",
        status: 400,
        body: {
          status: "error",
          message:
            'Property values were not valid: [{"isValid":false,"message":"Property \\"company\\" does not exist","error":"PROPERTY_DOESNT_EXIST","name":"company"}]',
          correlationId: "8c7e1b2a-0000-4000-8000-000000000001",
          category: "VALIDATION_ERROR",
        },
      }),
    });
    await type(browser, "#playground-name", "Bad Lead");
    await type(browser, "#playground-email", `bad+${Date.now()}@example.com`);
    await type(browser, "#playground-field-company", "Nowhere");
    await (await browser.$(sel("playground-submit"))).click();

    await (await browser.$(sel("nav-integrations"))).click();
    await (await visible(browser, sel("tab-connected"))).click();
    await textOf(
      browser,
      `${card("hubspot")} ${sel("destination-sync")}`,
      /1 failed/,
    );
    await (
      await visible(browser, `${card("hubspot")} ${sel("open-sync-log")}`)
    ).click();
    const log = await visible(browser, sel("sync-log"));
    await textOf(browser, sel("sync-log"), /Ada Lovelace/);
    await (await log.$(`${sel("sync-filter")}[data-filter=failed]`)).click();
    const failed = await visible(browser, sel("sync-item"));
    assert.match(await innerText(browser, failed), /Bad Lead/);
    await failed.click();
    await visible(browser, sel("sync-item-detail"));
    await textOf(
      browser,
      sel("sync-log"),
      /PROPERTY_DOESNT_EXIST|does not exist/,
    );
    await textOf(
      browser,
      sel("sync-log"),
      /POST \S*\/crm\/v3\/objects\/contacts\/batch\/upsert/,
    );
    await dismissToasts(browser);
    await bothSizes(browser, "destinations-sync-log-failure");
    await browser.keys("Escape");
    await gone(browser, sel("sync-log"));
  });

  test("Zendesk: a conversation routed through the local API becomes a ticket", async () => {
    const { browser, dataDir } = session;
    await connectThroughWindow(browser, "zendesk", {
      ca: readFileSync(tls.ca),
      dataDir,
      user: "cody",
    }).catch(async (e) => {
      await screenshot(browser, "destinations-zendesk-connect-failed");
      throw e;
    });
    await openConfigure(browser, "zendesk");
    await (
      await browser.$(sel("destination-target"))
    ).selectByAttribute("value", "20002");
    await bothSizes(browser, "destinations-zendesk-configure");
    await (await browser.$(sel("destination-save"))).click();
    await browser.waitUntil(
      async () =>
        !(await (
          await browser.$(sel("destination-save"))
        ).getAttribute("disabled")),
      { timeout: 10000 },
    );
    await closeConfigure(browser);

    // The local API's address and key, as the window shows them.
    await (await visible(browser, sel("tab-webhooks"))).click();
    const base = (
      await innerText(browser, await visible(browser, sel("api-endpoint")))
    ).trim();
    await (await browser.$(sel("api-key-show"))).click();
    await textOf(browser, sel("api-key-value"), /^sk_live_[A-Za-z0-9_-]{40,}$/);
    const key = (
      await innerText(browser, await browser.$(sel("api-key-value")))
    ).trim();
    const call = async (path, body) => {
      const res = await fetch(`${base}${path}`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${key}`,
          "content-type": "application/json",
        },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      assert.ok(res.status < 300, `${path}: ${res.status} ${text}`);
      return JSON.parse(text || "null");
    };
    const conversation = await call("/conversations", {
      visitor: { name: "Grace Hopper", email: "grace@navy.example" },
    });
    await call(`/conversations/${conversation.id}/messages`, {
      direction: "inbound",
      text: "I need to talk to someone about pricing.",
    });
    await call(`/conversations/${conversation.id}/route`, {
      reason: "Asked for a human about pricing.",
    });

    await browser.waitUntil(
      async () =>
        (await fakeState("zendesk")).tickets.some(
          (t) => t.external_id === `pitchbar:${conversation.id}`,
        ),
      { timeout: 15000, timeoutMsg: "the ticket never reached Zendesk" },
    );
    const ticket = (await fakeState("zendesk")).tickets.find(
      (t) => t.external_id === `pitchbar:${conversation.id}`,
    );
    assert.equal(String(ticket.group_id), "20002");
    assert.match(ticket.subject, /Grace Hopper/);
    await (await browser.$(sel("tab-connected"))).click();
    await textOf(
      browser,
      `${card("zendesk")} ${sel("destination-sync")}`,
      /Last sync/,
    );
  });

  test("every other destination's Configure dialog, its lists read from the provider", async () => {
    const { browser, dataDir } = session;
    for (const id of ["salesforce", "pipedrive", "mailchimp"]) {
      await connectThroughWindow(browser, id, {
        ca: readFileSync(tls.ca),
        dataDir,
        user: "cody",
      });
    }
    const keys = {
      activecampaign: {
        api_url: "https://acme.api-us1.com",
        api_key: "ac-test-token-0001",
      },
      segment: { write_key: "segWriteKeyTest0001" },
      "google-analytics": {
        measurement_id: "G-TEST0001",
        api_secret: "secret-0001",
      },
    };
    for (const [id, fields] of Object.entries(keys)) {
      await (await visible(browser, sel("nav-integrations"))).click();
      await (await visible(browser, sel("tab-available"))).click();
      const tile = await visible(
        browser,
        `${sel("integration-card")}[data-id=${id}]`,
      );
      await tile.scrollIntoView({ block: "center" });
      await tile.click();
      await (await visible(browser, sel("modal-connect"))).click();
      await visible(browser, sel("api-key-modal"));
      for (const [key, value] of Object.entries(fields))
        await type(browser, sel(`api-key-field-${key}`), value);
      await (await browser.$(sel("api-key-connect"))).click();
      await visible(browser, sel("connect-success"), 15000);
      await (await browser.$(sel("connect-done"))).click();
      await gone(browser, sel("api-key-modal"));
      await dismissToasts(browser);
    }
    for (const id of [
      "salesforce",
      "pipedrive",
      "mailchimp",
      "activecampaign",
      "segment",
      "google-analytics",
    ]) {
      await openConfigure(browser, id);
      await bothSizes(browser, `destinations-${id}-configure`);
      await closeConfigure(browser);
    }
    // Mailchimp waits for an audience: its card says so until one is picked.
    await textOf(
      browser,
      `${card("mailchimp")} ${sel("destination-needs")}`,
      /Pick an audience/,
    );
  });
});
