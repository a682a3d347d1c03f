import { describe, expect, it } from "vitest";
import type { OAuthAppView } from "$lib/api/bindings";
import { appStatus, loginHostChoice, redirectUriFor } from "./oauthApps";

const base: OAuthAppView = {
  provider: "notion",
  name: "Notion",
  source: "window",
  client_id: "1234567890abcdefghijkl",
  has_secret: true,
  redirect: "deep_link",
  loopback_port: null,
  redirect_uri: "pitchbar://oauth/callback",
  redirect_choice: true,
  fixed_port: false,
  scopes: [],
  console_url: null,
  setup_steps: [],
  asks: [],
  subdomain: null,
  login_host: null,
  connections: 1,
};

describe("redirectUriFor", () => {
  it("is the deep link, or the loopback address with the port when one is set", () => {
    expect(redirectUriFor("deep_link", "4000", false)).toBe("pitchbar://oauth/callback");
    expect(redirectUriFor("loopback", "47821", true)).toBe("http://127.0.0.1:47821/oauth/callback");
    expect(redirectUriFor("loopback", "", false)).toBe("http://127.0.0.1/oauth/callback");
    expect(redirectUriFor("loopback", "x", true)).toBe("http://127.0.0.1:<port>/oauth/callback");
  });
});

describe("loginHostChoice", () => {
  it("reads production, sandbox and My Domain hosts", () => {
    expect(loginHostChoice(null)).toBe("production");
    expect(loginHostChoice("test.salesforce.com")).toBe("sandbox");
    expect(loginHostChoice("acme.my.salesforce.com")).toBe("my_domain");
  });
});

describe("appStatus", () => {
  it("says whether a provider can be connected, and how much its app is used", () => {
    expect(appStatus({ ...base, source: "none", client_id: null })).toMatch(/Not set up/);
    expect(appStatus(base)).toBe("Client ID 1234567890abcd… · 1 connection");
    expect(appStatus({ ...base, source: "providers_file", connections: 0 })).toMatch(
      /providers file\) · no connections/,
    );
  });
});
