// Notifications through the real window, as a new user would: connect Slack (the real OAuth
// server), pick a channel and turn on New leads in Configure Slack, connect Discord by pasting
// its webhook URL, submit a lead in the Playground and see it arrive at the fake Slack
// (tests/fixtures/slack-fake: Slack's Web API, Socket Mode and a Discord receiver on
// 127.0.0.1); then reply in the thread of an escalation and see the reply reach the
// conversation (its conversation.message webhook, direction outbound).
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
  type,
  resize,
  setUp,
  innerText,
  startReceiver,
  addEndpoint,
  dismissToasts,
} from "./helpers.mjs";
import {
  connectThroughWindow,
  makeCa,
  oauthProvider,
  startFixture,
  startOAuthServer,
  writeProviders,
} from "./oauth.mjs";

/** The fake Slack on a free port; its control API under /_test/. */
async function startSlackFake(logDir) {
  const { child, port } = await startFixture(
    "slack-fake",
    ["--port", "0"],
    join(logDir, "slack-fake.log"),
  );
  const url = (path) => `http://127.0.0.1:${port}${path}`;
  const get = async (path) => (await fetch(url(path))).json();
  const post = async (path, body) =>
    (
      await fetch(url(path), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      })
    ).json();
  return { child, url, get, post };
}

async function until(what, f, timeout = 15000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await f();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("notifications to Slack and Discord", () => {
  let session;
  let server;
  let slack;
  before(async () => {
    const tls = makeCa(join(process.env.PITCHBAR_E2E_SCRATCH, "notify-ca"));
    server = await startOAuthServer(tls);
    slack = await startSlackFake(tls.dir);
    const dataDir = writeProviders(
      join(process.env.PITCHBAR_E2E_SCRATCH, "data-notify"),
      tls,
      {
        providers: {
          slack: oauthProvider(server, "/token/revocation", {
            revocation_style: "rfc7009",
            api_base_url: slack.url("/api"),
            app_token: "xapp-1-A0PITCHBAR-e2e",
          }),
        },
        incoming_webhooks: {
          discord: { url_prefix: slack.url("/discord/api/webhooks/") },
        },
      },
    );
    session = await launch("notify", { dataDir });
    await resize(session.browser, 1280, 800);
    await setUp(session.browser, "Notify Co", "Nora Owner", "nora@notify.test");
    // The fixture's file is read back by the app only; keep the CA readable for signIn.
    session.ca = readFileSync(tls.ca);
  });
  after(async () => {
    await session?.close();
    server?.child.kill();
    slack?.child.kill();
  });

  test("connect Slack, pick a channel, New leads on; connect Discord by URL; a Playground lead arrives in both", async () => {
    const { browser, dataDir } = session;
    await connectThroughWindow(browser, "slack", {
      ca: session.ca,
      dataDir,
      user: "alice",
    });

    await (await browser.$(sel("tab-connected"))).click();
    const slackCard = `${sel("connection-card")}[data-id=slack]`;
    await textOf(
      browser,
      `${slackCard} ${sel("notify-where")}`,
      /open Configure/,
    );
    await (await (await browser.$(slackCard)).$(sel("configure"))).click();
    const dialog = await visible(browser, sel("slack-config"));
    assert.match(await dialog.getText(), /Connected Workspace:/);
    assert.match(await dialog.getText(), /Connected by:\s*Nora Owner/);

    // Save without a channel: refused, with what to do.
    await (await browser.$(sel("slack-save"))).click();
    await textOf(browser, sel("form-error"), /Pick the channel/);

    await (await browser.$(sel("channel-picker"))).click();
    await type(browser, sel("channel-search"), "support");
    const option = await visible(
      browser,
      `${sel("channel-option")}[data-id=C0SUPPORT]`,
    );
    await screenshot(browser, "notify-1-channel-picker");
    await option.click();
    const leads = await browser.$(
      `${sel("notify-toggle")}[data-key=new_leads]`,
    );
    assert.equal(await leads.isSelected(), true, "New leads is on by default");
    await (await browser.$(sel("reply-toggle"))).click();
    await screenshot(browser, "notify-2-configure-slack");
    await resize(browser, 390, 844);
    await screenshot(browser, "notify-2-configure-slack-mobile");
    await resize(browser, 1280, 800);
    await (await browser.$(sel("slack-save"))).click();
    await gone(browser, sel("slack-config"), 15000);
    await dismissToasts(browser);
    await textOf(
      browser,
      `${slackCard} ${sel("notify-where")}`,
      /Connected to: #support-alerts/,
    );

    // Discord from the Available tab: a wrong URL is refused with what a right one looks like.
    await (await browser.$(sel("tab-available"))).click();
    const discord = await visible(
      browser,
      `${sel("integration-card")}[data-id=discord]`,
    );
    await discord.scrollIntoView({ block: "center" });
    await discord.click();
    await (await visible(browser, sel("modal-connect"))).click();
    await visible(browser, sel("webhook-target-modal"));
    await type(browser, sel("webhook-url"), "https://example.com/not-discord");
    await (await browser.$(sel("webhook-save"))).click();
    await textOf(browser, sel("form-error"), /should start with/);
    await screenshot(browser, "notify-3-discord-bad-url");
    await type(
      browser,
      sel("webhook-url"),
      slack.url(
        "/discord/api/webhooks/4242/e2e_token_abcdefghijklmnopqrstuvwxyz",
      ),
    );
    await (await browser.$(sel("webhook-save"))).click();
    await gone(browser, sel("webhook-target-modal"), 15000);

    await (await browser.$(sel("tab-connected"))).click();
    const discordCard = `${sel("notify-card")}[data-id=discord]`;
    await textOf(browser, discordCard, /Posting to 127\.0\.0\.1/);
    assert.doesNotMatch(
      await innerText(browser, await browser.$(discordCard)),
      /e2e_token/,
      "the URL's token is never shown",
    );

    // A lead from the Playground.
    await (await browser.$(sel("nav-playground"))).click();
    await visible(browser, "#playground-agent");
    await type(browser, "#playground-name", "Ada Lovelace");
    await type(browser, "#playground-email", "ada@example.com");
    for (const input of await browser.$$(sel("playground-field"))) {
      if (await input.getAttribute("required")) await input.addValue("x");
    }
    await (await browser.$(sel("playground-submit"))).click();

    const posted = await until("the lead in #support-alerts", async () => {
      const { messages } = await slack.get("/_test/messages?channel=C0SUPPORT");
      return messages.find((m) => m.text === "New lead: Ada Lovelace");
    });
    assert.equal(posted.bot_id, "B0BOT", "posted as the bot");
    assert.match(JSON.stringify(posted.blocks), /ada@example\.com/);
    const toDiscord = await until("the lead at Discord", async () => {
      const { posts } = await slack.get("/_test/discord");
      return posts.find(
        (p) => p.body?.embeds?.[0]?.title === "New lead: Ada Lovelace",
      );
    });
    assert.equal(toDiscord.status, 204);

    await (await browser.$(sel("nav-integrations"))).click();
    await (await visible(browser, sel("tab-connected"))).click();
    await textOf(
      browser,
      `${slackCard} ${sel("notify-where")}`,
      /#support-alerts/,
    );
    await screenshot(browser, "notify-4-connected");
    await resize(browser, 390, 844);
    await screenshot(browser, "notify-4-connected-mobile");
    await resize(browser, 1280, 800);
  });

  test("a reply in the Slack thread of an escalation reaches the conversation", async () => {
    const { browser } = session;
    const receiver = await startReceiver();
    try {
      await addEndpoint(
        browser,
        receiver.url("/hooks/messages"),
        "Conversation messages",
        ["conversation.message"],
      );
      await (await browser.$(sel("api-key-show"))).click();
      await textOf(
        browser,
        sel("api-key-value"),
        /^sk_live_[A-Za-z0-9_-]{40,}$/,
      );
      const key = (
        await innerText(browser, await browser.$(sel("api-key-value")))
      ).trim();
      const port = (
        await innerText(browser, await browser.$(sel("api-port")))
      ).trim();
      const api = async (path, body) => {
        const res = await fetch(`http://127.0.0.1:${port}/v1${path}`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${key}`,
            "content-type": "application/json",
          },
          body: JSON.stringify(body),
        });
        assert.ok(res.ok, `${path}: ${res.status} ${await res.clone().text()}`);
        return res.json();
      };
      const conversation = await api("/conversations", {
        visitor: { name: "Grace" },
      });
      await api(`/conversations/${conversation.id}/messages`, {
        direction: "inbound",
        text: "Can I get a refund?",
      });
      await api(`/conversations/${conversation.id}/route`, {
        reason: "no answer about refunds",
      });
      const parent = await until(
        "the escalation in #support-alerts",
        async () => {
          const { messages } = await slack.get(
            "/_test/messages?channel=C0SUPPORT",
          );
          return messages.find((m) => m.text === "Grace needs a human");
        },
      );
      await until("the Socket Mode connection", async () => {
        const { sockets } = await slack.get("/_test/sockets");
        return sockets.some((s) => s.open);
      });
      await slack.post("/_test/reply", {
        channel: "C0SUPPORT",
        thread_ts: parent.ts,
        text: "Yes, within 30 days.",
      });
      const outbound = await until("the reply as conversation.message", () => {
        const hit = receiver.received
          .map((r) => JSON.parse(r.body))
          .find(
            (p) =>
              p.event === "conversation.message" &&
              p.data.direction === "outbound",
          );
        return hit;
      });
      assert.equal(outbound.data.text, "Yes, within 30 days.");
      assert.equal(outbound.data.conversation_id, conversation.id);

      await (await browser.$(sel("tab-connected"))).click();
      await textOf(
        browser,
        `${sel("connection-card")}[data-id=slack]`,
        /Replies from Slack: on/,
      );
      await screenshot(browser, "notify-5-replies-on");
    } finally {
      receiver.close();
    }
  });
});
