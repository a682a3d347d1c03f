// The admin's tools around webhooks, driven through the real window: moving the local API to
// another port, agents and their custom lead fields, replaying failed deliveries, the local
// receiver with its one-click verified delivery, and the verify tool explaining a tampered body.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, screenshot } from "./driver.mjs";
import {
  sel,
  visible,
  gone,
  type,
  innerText,
  textOf,
  resize,
  startReceiver,
  addEndpoint,
  setUp,
  freePort,
} from "./helpers.mjs";

describe("an admin's webhook tools", () => {
  let session;
  before(async () => {
    session = await launch("tools");
    await resize(session.browser, 1280, 800);
    await setUp(session.browser, "Tools Inc", "Tess Admin", "tess@tools.test");
  });
  after(async () => {
    await session?.close();
  });

  test("the local API moves to another port: a reserved one is refused, a free one answers at once", async () => {
    const { browser } = session;
    await (await browser.$(sel("nav-integrations"))).click();
    await (await visible(browser, sel("tab-webhooks"))).click();
    await textOf(
      browser,
      sel("api-endpoint"),
      /^http:\/\/127\.0\.0\.1:\d+\/v1$/,
    );
    const before = Number(
      await innerText(browser, await browser.$(sel("api-port"))),
    );

    await (await browser.$(sel("api-port-change"))).click();
    await type(browser, sel("api-port-input"), "80");
    await (await browser.$(sel("api-port-save"))).click();
    await textOf(browser, sel("form-error"), /administrator rights/);

    const port = await freePort();
    await type(browser, sel("api-port-input"), String(port));
    await (await browser.$(sel("api-port-save"))).click();
    await textOf(
      browser,
      sel("api-endpoint"),
      new RegExp(`^http://127\\.0\\.0\\.1:${port}/v1$`),
    );
    await screenshot(browser, "desktop-api-port");
    const res = await fetch(`http://127.0.0.1:${port}/v1/leads`);
    assert.equal(res.status, 401, "the API answers on the new port");
    await assert.rejects(
      fetch(`http://127.0.0.1:${before}/v1/leads`),
      "the old port is closed",
    );
  });

  test("agents: add one with a required custom field, rename it, use it in the Playground, delete another", async () => {
    const { browser } = session;
    await (await browser.$(sel("nav-settings"))).click();
    await (await visible(browser, sel("add-agent"))).click();
    await type(browser, "#agent-name", "Sales bot");
    await (await browser.$(sel("add-lead-field"))).click();
    await type(browser, "[aria-label='Label of field 1']", "Company");
    await (
      await browser.$(`${sel("lead-field-row")} input[type=checkbox]`)
    ).click();
    await (await browser.$(sel("agent-submit"))).click();
    await gone(browser, "[role=dialog]");
    const row = async (name) => {
      for (const r of await browser.$$(sel("agent-row"))) {
        if ((await innerText(browser, r)).includes(name)) return r;
      }
      return null;
    };
    await browser.waitUntil(async () => (await row("Sales bot")) !== null, {
      timeoutMsg: "the new agent is not listed",
    });
    assert.match(
      await innerText(browser, await row("Sales bot")),
      /Company \*/,
    );

    await (await (await row("Sales bot")).$(sel("edit-agent"))).click();
    await type(browser, "#agent-name", "Sales assistant");
    await (await browser.$(sel("agent-submit"))).click();
    await gone(browser, "[role=dialog]");
    await browser.waitUntil(
      async () => (await row("Sales assistant")) !== null,
      {
        timeoutMsg: "the rename did not show",
      },
    );
    await screenshot(browser, "desktop-agents");

    // The Playground asks for the agent's required field, and refuses the lead without it.
    await (await browser.$(sel("nav-playground"))).click();
    const agentSelect = await visible(browser, "#playground-agent");
    await agentSelect.selectByAttribute(
      "value",
      await agentOption(browser, "Sales assistant"),
    );
    await visible(browser, "#playground-field-company");
    await type(browser, "#playground-name", "Grace Hopper");
    await type(browser, "#playground-email", "grace@example.com");
    await (await browser.$(sel("playground-submit"))).click();
    await textOf(browser, sel("form-error"), /Company/);
    await type(browser, "#playground-field-company", "Navy");
    await (await browser.$(sel("playground-submit"))).click();
    await textOf(browser, sel("lead-row"), /Grace Hopper/);

    // An agent with leads can't be deleted (the modal says why); one without can.
    await (await browser.$(sel("nav-settings"))).click();
    await visible(browser, sel("agent-row"));
    await (await (await row("Sales assistant")).$(sel("delete-agent"))).click();
    await (await visible(browser, sel("confirm-delete-agent"))).click();
    await textOf(browser, sel("form-error"), /leads/i);
    await browser.keys("Escape");
    await gone(browser, "[role=dialog]");

    await (await browser.$(sel("add-agent"))).click();
    await type(browser, "#agent-name", "Temporary bot");
    await (await browser.$(sel("agent-submit"))).click();
    await gone(browser, "[role=dialog]");
    await browser.waitUntil(async () => (await row("Temporary bot")) !== null);
    await (await (await row("Temporary bot")).$(sel("delete-agent"))).click();
    await (await visible(browser, sel("confirm-delete-agent"))).click();
    await gone(browser, "[role=dialog]");
    await browser.waitUntil(async () => (await row("Temporary bot")) === null, {
      timeoutMsg: "the deleted agent stayed",
    });
  });

  test("replay failed since: the count first, then each failed delivery is sent again with its delivery ID", async () => {
    const { browser } = session;
    let status = 500;
    const receiver = await startReceiver(() => status);
    try {
      await addEndpoint(browser, receiver.url("/flaky"), "Flaky receiver");
      await (await browser.$(sel("endpoint-test"))).click();
      await visible(browser, "#test-payload");
      await (await browser.$(sel("send-test-submit"))).click();
      await browser.waitUntil(() => receiver.received.length === 1, {
        timeout: 10000,
        timeoutMsg: "the receiver got no delivery",
      });
      await visible(browser, `${sel("attempt-row")}[data-status="500"]`);

      status = 200;
      await (await browser.$(sel("replay-failed"))).click();
      const modal = await visible(browser, "[role=dialog]");
      await browser.waitUntil(
        async () =>
          /\b1\b delivery failed since/.test(await innerText(browser, modal)),
        {
          timeoutMsg: "the replay modal did not count the failed delivery",
        },
      );
      await screenshot(browser, "desktop-replay-confirm");
      await (await browser.$(sel("confirm-replay"))).click();
      await gone(browser, "[role=dialog]");
      await browser.waitUntil(() => receiver.received.length === 2, {
        timeout: 10000,
        timeoutMsg: "the replay sent nothing",
      });
      const [first, second] = receiver.received;
      assert.equal(
        second.headers["x-pitchbar-delivery"],
        first.headers["x-pitchbar-delivery"],
      );
      assert.deepEqual(second.body, first.body);
      await visible(browser, `${sel("attempt-row")}[data-status="200"]`);
    } finally {
      receiver.close();
    }
  });

  test("receiver: one click gives a verified signed delivery; the verify tool says why a tampered body fails", async () => {
    const { browser } = session;
    await (await browser.$(sel("nav-integrations"))).click();
    await (await visible(browser, sel("tab-webhooks"))).click();
    const panel = await visible(browser, sel("receiver-panel"));
    await panel.scrollIntoView();
    await type(browser, sel("receiver-port"), "0");
    await (await browser.$(sel("receiver-start"))).click();
    await textOf(browser, sel("receiver-url"), /^http:\/\/127\.0\.0\.1:\d+\/$/);
    await textOf(browser, sel("receiver-state"), /Listening/);

    await (await browser.$(sel("receiver-send-test"))).click();
    const row = await visible(
      browser,
      `${sel("received-row")}[data-code="valid"]`,
      10000,
    );
    await screenshot(browser, "desktop-receiver");
    await row.click();
    const detail = await visible(browser, sel("received-detail"));
    await visible(
      browser,
      `${sel("received-detail")} ${sel("verdict")}[data-code="valid"]`,
    );
    const header = await browser.execute((pane) => {
      const cells = [...pane.querySelectorAll("tr")].map((tr) => [
        tr.querySelector("th")?.textContent?.trim().toLowerCase(),
        tr.querySelector("td")?.textContent ?? "",
      ]);
      const toggle = pane.querySelector(".body-head input[type=checkbox]");
      if (toggle && !toggle.checked) toggle.click();
      return cells.find(([name]) => name === "x-pitchbar-signature")?.[1];
    }, detail);
    assert.match(header, /^t=\d+,v1=[0-9a-f]{64}$/);
    // The raw bytes, once the toggle above has switched the view to them.
    await browser.pause(100);
    const raw = await browser.execute(
      (pane) => pane.querySelector("section.msg pre")?.textContent ?? "",
      detail,
    );
    assert.equal(JSON.parse(raw).event, "lead.captured");
    await screenshot(browser, "desktop-receiver-detail");
    await browser.keys("Escape");
    await gone(browser, sel("received-detail"));

    // The verify tool: the exact bytes verify; a changed body is refused, and why.
    const tool = await visible(browser, sel("verify-tool"));
    await tool.scrollIntoView();
    await type(browser, "#verify-header", header);
    await browser.execute((text) => {
      const el = document.querySelector("#verify-body");
      el.value = text;
      el.dispatchEvent(new Event("input", { bubbles: true }));
    }, raw);
    await (await browser.$(sel("verify-submit"))).click();
    await visible(
      browser,
      `${sel("verify-tool")} ${sel("verdict")}[data-code="valid"]`,
    );

    const tampered = raw.replace(
      /"email":"[^"]*"/,
      '"email":"mallory@example.com"',
    );
    assert.notEqual(tampered, raw);
    await browser.execute((text) => {
      const el = document.querySelector("#verify-body");
      el.value = text;
      el.dispatchEvent(new Event("input", { bubbles: true }));
    }, tampered);
    await (await browser.$(sel("verify-submit"))).click();
    const verdict = await visible(
      browser,
      `${sel("verify-tool")} ${sel("verdict")}[data-code="body_altered_or_wrong_secret"]`,
    );
    assert.match(await innerText(browser, verdict), /body|secret/i);
    await screenshot(browser, "desktop-verify-tampered");

    await (await browser.$(sel("receiver-stop"))).click();
    await textOf(browser, sel("receiver-state"), /Stopped/);
  });

  test("an endpoint at a Zapier catch hook shows as the Zapier card on the Connected tab", async () => {
    const { browser } = session;
    // Subscribed to an event nothing here fires: no delivery tries to reach Zapier.
    await addEndpoint(
      browser,
      "https://hooks.zapier.com/hooks/catch/123456/abcdef/",
      "Zap: leads to the CRM",
      ["conversation.closed"],
    );
    await (await browser.$(sel("tab-connected"))).click();
    await textOf(browser, sel("zapier-zaps"), /^1 active Zap$/);
    await textOf(browser, sel("tab-connected"), /Connected \(1\)/);
    await screenshot(browser, "desktop-connected-zapier");
    await (await browser.$(`${sel("zapier-card")} button`)).click();
    const tab = await browser.$(sel("tab-webhooks"));
    await browser.waitUntil(
      async () => (await tab.getAttribute("aria-selected")) === "true",
      {
        timeoutMsg: "Configure did not lead to the endpoints",
      },
    );
  });
});

/** The value of the Playground's agent option named `name`. */
async function agentOption(browser, name) {
  return browser.execute((n) => {
    const option = [
      ...document.querySelectorAll("#playground-agent option"),
    ].find((o) => o.textContent.includes(n));
    return option?.value ?? null;
  }, name);
}
