import { describe, expect, it } from "vitest";
import type { Integration } from "$lib/api/bindings";
import { howItConnects } from "./howItConnects";

type Connection = Integration["connection"];

const oauth = (overrides: Partial<Extract<Connection, { kind: "oauth" }>> = {}): Connection => ({
  kind: "oauth",
  redirect: "deep_link",
  authorize_url: "https://slack.com/oauth/v2/authorize",
  token_url: "https://slack.com/api/oauth.v2.access",
  revocation: { style: "slack_auth_revoke", url: "https://slack.com/api/auth.revoke" },
  scopes: ["chat:write", "channels:read"],
  ...overrides,
});

describe("howItConnects", () => {
  it("explains OAuth with the provider's site, the deep link and revocation", () => {
    const how = howItConnects({ name: "Slack", connection: oauth() });
    expect(how.title).toBe("OAuth in your browser");
    expect(how.steps[0]).toContain("slack.com");
    expect(how.steps[1]).toContain("pitchbar://");
    expect(how.steps[2]).toMatch(/revokes/);
    expect(how.codes).toEqual({
      label: "Scopes requested",
      values: ["chat:write", "channels:read"],
    });
  });

  it("explains the loopback redirect and a provider without revocation", () => {
    const how = howItConnects({
      name: "HubSpot",
      connection: oauth({
        redirect: "loopback",
        authorize_url: "https://app.hubspot.com/oauth/authorize",
        revocation: null,
        scopes: [],
      }),
    });
    expect(how.steps[0]).toContain("app.hubspot.com");
    expect(how.steps[1]).toContain("127.0.0.1");
    expect(how.steps[2]).toContain("HubSpot's settings");
    expect(how.codes).toBeNull();
  });

  it("falls back to the name when the authorize URL is unreadable", () => {
    const how = howItConnects({ name: "Acme", connection: oauth({ authorize_url: "not a url" }) });
    expect(how.steps[0]).toContain("opens Acme,");
  });

  it("shows the webhook URL prefix and the provider's help", () => {
    const how = howItConnects({
      name: "Discord",
      connection: {
        kind: "incoming_webhook",
        url_prefix: "https://discord.com/api/webhooks/",
        help: "Open Edit Channel.",
      },
    });
    expect(how.title).toBe("Paste a webhook URL");
    expect(how.steps[0]).toBe("Open Edit Channel.");
    expect(how.codes?.values).toEqual(["https://discord.com/api/webhooks/"]);
  });

  const field = (label: string, secret = false) => ({ key: label, label, secret, placeholder: "" });

  it("lists the fields of an API key connection and says they are checked first", () => {
    const how = howItConnects({
      name: "Freshdesk",
      connection: {
        kind: "api_key",
        fields: [field("Helpdesk subdomain"), field("API key", true)],
        help: "Find it.",
      },
    });
    expect(how.title).toBe("Paste an API key and details");
    expect(how.codes?.values).toEqual(["Helpdesk subdomain", "API key"]);
    expect(how.steps[1]).toMatch(
      /Freshdesk is asked to confirm the credentials before anything is saved/,
    );
    expect(
      howItConnects({
        name: "X",
        connection: { kind: "api_key", fields: [field("API key", true)], help: "" },
      }).title,
    ).toBe("Paste an API key");
  });

  it("says email forwarding is not available yet", () => {
    const how = howItConnects({
      name: "Email Forwarding",
      connection: { kind: "email", help: "Forward to your address." },
    });
    expect(how).toEqual({
      title: "Email forwarding",
      icon: "mail",
      steps: ["Not available yet: Pitchbar Admin cannot receive forwarded mail."],
      codes: null,
    });
  });
});
