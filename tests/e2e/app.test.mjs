// The whole app, driven through its real window: first run, the three tabs, search and
// category filters, the detail modal, members and roles, and a damaged store.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createHmac } from "node:crypto";
import { launch, screenshot } from "./driver.mjs";
import {
  sel,
  visible,
  gone,
  cardIds,
  type,
  innerText,
  textOf,
  resize,
  startReceiver,
  addEndpoint,
} from "./helpers.mjs";

// One window for the whole journey; it closes before the next launch, since a second
// instance of the app would hand over to the first (single-instance) and exit.
describe("a new workspace, as a new user meets it", () => {
  let session;
  before(async () => {
    session = await launch("main");
  });
  after(async () => {
    await session?.close();
  });

  test("first run: an empty workspace name is refused, then setup makes the first member Owner", async () => {
    const { browser } = session;
    await resize(browser, 1280, 800);
    await visible(browser, "#setup-workspace");
    await screenshot(browser, "desktop-setup");

    await type(browser, "#setup-workspace", "   ");
    await type(browser, "#setup-name", "Carol Adams");
    await type(browser, "#setup-email", "carol@acme.test");
    await (await browser.$(sel("setup-submit"))).click();
    const error = await visible(browser, sel("form-error"));
    assert.match(await error.getText(), /workspace name/i);

    await type(browser, "#setup-workspace", "Acme Corporation");
    await (await browser.$(sel("setup-submit"))).click();
    await textOf(browser, sel("workspace-name"), /^Acme Corporation$/);
    await textOf(browser, sel("member-menu"), /CA/);
  });

  test("the three tabs render; Connected points to Available", async () => {
    const { browser } = session;
    await (await visible(browser, sel("tab-connected"))).click();
    await visible(browser, sel("connected-empty"));
    await screenshot(browser, "desktop-connected");

    await (await browser.$(sel("tab-webhooks"))).click();
    const body = await browser.$("body");
    await browser.waitUntil(
      async () => /lead\.captured/.test(await body.getText()),
      {
        timeoutMsg: "the API & Webhooks tab did not render the event catalog",
      },
    );
    assert.match(await body.getText(), /X-Pitchbar-Signature/);
    await screenshot(browser, "desktop-webhooks");

    await (await browser.$(sel("tab-connected"))).click();
    await (await visible(browser, sel("browse-available"))).click();
    const tab = await browser.$(sel("tab-available"));
    await browser.waitUntil(
      async () => (await tab.getAttribute("aria-selected")) === "true",
    );
    assert.equal((await cardIds(browser)).length, 19);
    await screenshot(browser, "desktop-available");
  });

  test("searching “hub” shows HubSpot alone; the CRM chip filters", async () => {
    const { browser } = session;
    await type(browser, sel("integration-search"), "hub");
    await browser.waitUntil(async () => (await cardIds(browser)).length === 1, {
      timeoutMsg: "search did not narrow the grid",
    });
    assert.deepEqual(await cardIds(browser), ["hubspot"]);

    await type(browser, sel("integration-search"), "zzzz");
    await visible(browser, sel("no-results"));
    await type(browser, sel("integration-search"), "");

    await (
      await browser.$(`${sel("category-chip")}[data-category=CRM]`)
    ).click();
    await browser.waitUntil(async () => (await cardIds(browser)).length === 3, {
      timeoutMsg: "the CRM chip did not filter",
    });
    assert.deepEqual((await cardIds(browser)).sort(), [
      "hubspot",
      "pipedrive",
      "salesforce",
    ]);
    const chip = await browser.$(`${sel("category-chip")}[data-category=CRM]`);
    assert.equal(await chip.getAttribute("aria-pressed"), "true");
    await (
      await browser.$(`${sel("category-chip")}[data-category=All]`)
    ).click();
  });

  test("the detail modal opens, keeps focus inside, says why there is no Connect, and closes with Esc", async () => {
    const { browser } = session;
    await (
      await browser.$(`${sel("integration-card")}[data-id=email-forwarding]`)
    ).click();
    const modal = await visible(
      browser,
      `[role=dialog]${sel("integration-modal")}`,
    );
    const text = await modal.getText();
    assert.match(text, /Email Forwarding Integration/);
    assert.match(text, /Features/);
    assert.match(text, /Permissions Required/);
    assert.equal(
      await (await browser.$(sel("modal-connect"))).isExisting(),
      false,
      "no Connect that leads nowhere",
    );
    assert.match(text, /not available yet/i);
    await screenshot(browser, "desktop-detail-modal");

    for (let i = 0; i < 12; i++) {
      await browser.keys("Tab");
      const inside = await browser.execute(
        () => !!document.activeElement?.closest("[role=dialog]"),
      );
      assert.ok(inside, `focus left the modal after ${i + 1} Tab presses`);
    }
    await browser.keys("Escape");
    await gone(browser, sel("integration-modal"));
  });

  test("the chosen tab is kept across a reload", async () => {
    const { browser } = session;
    await (await browser.$(sel("tab-webhooks"))).click();
    await browser.refresh();
    const tab = await visible(browser, sel("tab-webhooks"));
    await browser.waitUntil(
      async () => (await tab.getAttribute("aria-selected")) === "true",
      {
        timeoutMsg: "the tab was not restored after a reload",
      },
    );
    await (await browser.$(sel("tab-available"))).click();
  });

  test("webhooks: the API key, an endpoint at a real receiver, a signed test event, its log row and detail, redeliver, edit, rotate, delete", async () => {
    const { browser } = session;
    const receiver = await startReceiver();
    const { received } = receiver;
    const url = receiver.url("/hooks/pitchbar");
    try {
      await (await browser.$(sel("nav-integrations"))).click();
      await (await visible(browser, sel("tab-webhooks"))).click();

      await textOf(browser, sel("api-key-value"), /^sk_live_/);
      await (await browser.$(sel("api-key-show"))).click();
      await textOf(
        browser,
        sel("api-key-value"),
        /^sk_live_[A-Za-z0-9_-]{40,}$/,
      );

      await (await browser.$(sel("add-endpoint"))).click();
      await type(browser, "#endpoint-url", "ftp://example.com/hook");
      await (
        await browser.$(`${sel("endpoint-event")}[data-event="lead.captured"]`)
      ).click();
      await (await browser.$(sel("endpoint-submit"))).click();
      await textOf(browser, sel("form-error"), /http/i);

      await type(browser, "#endpoint-url", url);
      await type(browser, "#endpoint-description", "Local receiver");
      await (await browser.$(sel("endpoint-submit"))).click();
      const secretEl = await visible(browser, sel("endpoint-secret"));
      await browser.waitUntil(async () =>
        /^whsec_/.test(await innerText(browser, secretEl)),
      );
      const secret = (await innerText(browser, secretEl)).trim();
      await (await browser.$(sel("endpoint-secret-done"))).click();
      await gone(browser, "[role=dialog]");
      await visible(browser, sel("endpoint-card"));
      await screenshot(browser, "desktop-webhooks-endpoint");

      await (await browser.$(sel("endpoint-test"))).click();
      await visible(browser, "#test-payload");
      await (
        await browser.$("#test-event-type")
      ).selectByAttribute("value", "lead.captured");
      await (await browser.$(sel("send-test-submit"))).click();

      await browser.waitUntil(() => received.length === 1, {
        timeout: 10000,
        timeoutMsg: "the receiver got no delivery",
      });
      const { headers, body } = received[0];
      assert.equal(headers["x-pitchbar-event"], "lead.captured");
      assert.match(headers["x-pitchbar-delivery"], /^[0-9A-HJKMNP-TV-Z]{26}$/);
      const [, t, v1] = headers["x-pitchbar-signature"].match(
        /^t=(\d+),v1=([0-9a-f]{64})$/,
      );
      const expected = createHmac("sha256", secret)
        .update(`${t}.`)
        .update(body)
        .digest("hex");
      assert.equal(
        v1,
        expected,
        "the signature verifies with the revealed secret",
      );
      assert.equal(JSON.parse(body).event, "lead.captured");

      const row = await visible(
        browser,
        `${sel("attempt-row")}[data-status="200"]`,
      );
      await row.click();
      const detail = await visible(browser, sel("attempt-detail"));
      const text = await innerText(browser, detail);
      assert.ok(
        text.includes(headers["x-pitchbar-delivery"]),
        "the detail names the delivery",
      );
      assert.match(text, /X-Pitchbar-Signature/i);
      await visible(browser, sel("copy-curl"));
      await screenshot(browser, "desktop-webhooks-log");

      await (await browser.$(sel("redeliver"))).click();
      await browser.waitUntil(() => received.length === 2, {
        timeout: 10000,
        timeoutMsg: "redeliver sent nothing",
      });
      assert.equal(
        received[1].headers["x-pitchbar-delivery"],
        headers["x-pitchbar-delivery"],
        "a redelivery keeps the delivery ID",
      );
      assert.deepEqual(
        received[1].body,
        body,
        "a redelivery sends the same payload",
      );
      await browser.keys("Escape");
      await gone(browser, sel("attempt-detail"));

      // Edit: the card shows the change at once.
      await (await browser.$(sel("endpoint-edit"))).click();
      await type(browser, "#endpoint-description", "Local receiver (edited)");
      await (await browser.$(sel("endpoint-submit"))).click();
      await gone(browser, "[role=dialog]");
      await textOf(browser, sel("endpoint-card"), /Local receiver \(edited\)/);

      // Rotate with the default 24-hour overlap: the next delivery is signed with both secrets.
      await (await browser.$(sel("endpoint-rotate"))).click();
      await (await visible(browser, sel("confirm-rotate"))).click();
      const rotatedEl = await visible(browser, sel("endpoint-secret"));
      await browser.waitUntil(async () =>
        /^whsec_/.test(await innerText(browser, rotatedEl)),
      );
      const rotated = (await innerText(browser, rotatedEl)).trim();
      assert.notEqual(rotated, secret);
      await (await browser.$(sel("endpoint-secret-done"))).click();
      await gone(browser, "[role=dialog]");
      await (await browser.$(sel("endpoint-test"))).click();
      await visible(browser, "#test-payload");
      await (await browser.$(sel("send-test-submit"))).click();
      await browser.waitUntil(() => received.length === 3, {
        timeout: 10000,
        timeoutMsg: "no delivery after the rotation",
      });
      const third = received[2];
      const parts = third.headers["x-pitchbar-signature"].split(",");
      const ts = parts.find((p) => p.startsWith("t=")).slice(2);
      const v1s = parts
        .filter((p) => p.startsWith("v1="))
        .map((p) => p.slice(3));
      const mac = (key) =>
        createHmac("sha256", key)
          .update(`${ts}.`)
          .update(third.body)
          .digest("hex");
      assert.deepEqual(
        new Set(v1s),
        new Set([mac(rotated), mac(secret)]),
        "one v1= per valid secret",
      );

      // Delete: the confirmation says what happens to the log; the card goes.
      await (await browser.$(sel("endpoint-delete"))).click();
      const confirmDelete = await visible(
        browser,
        sel("confirm-delete-endpoint"),
      );
      await browser.waitUntil(async () =>
        /3 logged attempts are deleted/.test(
          await innerText(browser, await browser.$("[role=dialog]")),
        ),
      );
      await confirmDelete.click();
      await browser.waitUntil(
        async () => (await browser.$$(sel("endpoint-card"))).length === 0,
        {
          timeout: 5000,
          timeoutMsg: "the deleted endpoint's card stayed",
        },
      );
    } finally {
      receiver.close();
    }
  });

  test("playground: a submitted lead is delivered, signed, to the endpoint at once", async () => {
    const { browser } = session;
    const receiver = await startReceiver();
    const { received } = receiver;
    const url = receiver.url("/hooks/playground");
    const email = `ada+${Date.now()}@example.com`;
    try {
      await (await browser.$(sel("nav-integrations"))).click();
      await (await visible(browser, sel("tab-webhooks"))).click();
      await textOf(
        browser,
        sel("api-endpoint"),
        /^http:\/\/127\.0\.0\.1:\d+\/v1$/,
      );

      const secret = await addEndpoint(browser, url, "Playground receiver");

      await (await browser.$(sel("nav-playground"))).click();
      await visible(browser, "#playground-agent");
      await type(browser, "#playground-name", "Ada Lovelace");
      await type(browser, "#playground-email", email);
      // Fill any required custom fields of the default agent.
      for (const input of await browser.$$(sel("playground-field"))) {
        if (await input.getAttribute("required")) await input.addValue("x");
      }
      await (await browser.$(sel("playground-submit"))).click();

      await browser.waitUntil(
        () =>
          received.some((r) => {
            const payload = JSON.parse(r.body);
            return (
              payload.event === "lead.captured" && payload.data?.email === email
            );
          }),
        { timeout: 5000, timeoutMsg: "the receiver got no lead.captured" },
      );
      const hit = received.find(
        (r) => JSON.parse(r.body).data?.email === email,
      );
      assert.equal(hit.headers["x-pitchbar-event"], "lead.captured");
      const [, t, v1] = hit.headers["x-pitchbar-signature"].match(
        /^t=(\d+),v1=([0-9a-f]{64})$/,
      );
      const expected = createHmac("sha256", secret)
        .update(`${t}.`)
        .update(hit.body)
        .digest("hex");
      assert.equal(v1, expected, "the lead delivery is signed");

      await textOf(browser, sel("lead-row"), /Ada Lovelace/);
      await screenshot(browser, "desktop-playground");

      await (await browser.$(sel("open-delivery-log"))).click();
      await visible(browser, sel("attempt-row"));
      await textOf(
        browser,
        sel("api-endpoint"),
        /^http:\/\/127\.0\.0\.1:\d+\/v1$/,
      );
    } finally {
      receiver.close();
    }
  });

  test("members: add one, a duplicate email is refused, and a Member sees everything read-only", async () => {
    const { browser } = session;
    await (await browser.$(sel("nav-settings"))).click();
    await visible(browser, sel("members-table"));

    await (await browser.$(sel("add-member"))).click();
    await type(browser, "#member-name", "Erin Cole");
    await type(browser, "#member-email", "erin@acme.test");
    await (
      await browser.$("#member-role")
    ).selectByAttribute("value", "member");
    await (await browser.$(sel("member-submit"))).click();
    await browser.waitUntil(
      async () => (await browser.$$(sel("member-row"))).length === 2,
      {
        timeoutMsg: "the new member did not appear",
      },
    );

    await (await browser.$(sel("add-member"))).click();
    await type(browser, "#member-name", "Someone Else");
    await type(browser, "#member-email", "ERIN@acme.test");
    await (await browser.$(sel("member-submit"))).click();
    const error = await visible(browser, sel("form-error"));
    assert.match(await error.getText(), /already belongs to Erin Cole/);
    await browser.keys("Escape");
    assert.equal((await browser.$$(sel("member-row"))).length, 2);
    await screenshot(browser, "desktop-settings");

    await (await browser.$(sel("member-menu"))).click();
    await visible(browser, sel("switch-member"));
    let erin;
    for (const item of await browser.$$(sel("switch-member"))) {
      if ((await innerText(browser, item)).includes("Erin Cole")) erin = item;
    }
    assert.ok(erin, "Erin Cole is offered in the member switcher");
    await erin.click();
    await visible(browser, sel("readonly-banner"));
    assert.equal(await (await browser.$(sel("add-member"))).isEnabled(), false);
    for (const button of await browser.$$(sel("remove-member"))) {
      assert.equal(await button.isEnabled(), false);
    }

    await (await browser.$(sel("nav-integrations"))).click();
    await (await visible(browser, sel("tab-available"))).click();
    await (
      await browser.$(`${sel("integration-card")}[data-id=hubspot]`)
    ).click();
    const modal = await visible(browser, sel("integration-modal"));
    assert.match(await modal.getText(), /Only Owners and Admins/);
    assert.equal(
      await (await browser.$(sel("modal-connect"))).isEnabled(),
      false,
    );
    await screenshot(browser, "desktop-member-readonly");
    await browser.keys("Escape");
    await gone(browser, sel("integration-modal"));

    // The webhooks tab and the Playground: visible, but nothing a Member could change.
    await (await browser.$(sel("tab-webhooks"))).click();
    await visible(browser, sel("api-key-value"));
    for (const action of [
      "add-endpoint",
      "api-key-regenerate",
      "api-key-show",
      "api-key-copy",
    ]) {
      assert.equal(
        await (await browser.$(sel(action))).isEnabled(),
        false,
        `${action} must be disabled for a Member`,
      );
    }
    await (await browser.$(sel("nav-playground"))).click();
    assert.equal(
      await (await visible(browser, sel("playground-submit"))).isEnabled(),
      false,
      "a Member cannot submit in the Playground",
    );
    // A preview ends in one click: the Owner at this computer again, who may change things.
    await (await visible(browser, sel("end-preview"))).click();
    await gone(browser, sel("readonly-banner"));
    await textOf(browser, sel("member-menu"), /CA/);
    assert.equal(
      await (await visible(browser, sel("playground-submit"))).isEnabled(),
      true,
      "back as the Owner, the Playground submits again",
    );
    await (await browser.$(sel("nav-integrations"))).click();
  });

  test("mobile width: the spec's mobile layout at 390×844", async () => {
    const { browser } = session;
    await resize(browser, 390, 844);
    await visible(browser, sel("nav-toggle"));
    const overflow = await browser.execute(
      () =>
        document.documentElement.scrollWidth -
        document.documentElement.clientWidth,
    );
    assert.ok(
      overflow <= 0,
      `the page scrolls sideways by ${overflow}px at 390px`,
    );
    await screenshot(browser, "mobile-available");
    await (await browser.$(sel("tab-connected"))).click();
    await screenshot(browser, "mobile-connected");
    await (await browser.$(sel("nav-toggle"))).click();
    await visible(browser, sel("nav-settings"));
    await screenshot(browser, "mobile-menu");
    await browser.keys("Escape");
    await resize(browser, 1280, 800);
  });
});

test("a damaged database is reported in the window and left untouched", async () => {
  const dataDir = join(process.env.PITCHBAR_E2E_SCRATCH, "data-damaged");
  mkdirSync(dataDir, { recursive: true });
  const garbage = Buffer.from(
    "this is not a database, but someone's precious file\n".repeat(200),
  );
  writeFileSync(join(dataDir, "pitchbar.db"), garbage);
  const damaged = await launch("damaged", { dataDir });
  try {
    const { browser } = damaged;
    await resize(browser, 1280, 800);
    const panel = await visible(browser, sel("store-error"));
    const text = await panel.getText();
    assert.match(text, /damaged/);
    assert.ok(text.includes(dataDir), "the window names the data folder");
    await screenshot(browser, "desktop-store-error");
  } finally {
    await damaged.close();
  }
  assert.deepEqual(readFileSync(join(dataDir, "pitchbar.db")), garbage);
});
