import { fireEvent, render } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import type { OAuthAppView } from "$lib/api/bindings";
import OAuthAppForm from "./OAuthAppForm.svelte";

const notion: OAuthAppView = {
  provider: "notion",
  name: "Notion",
  source: "none",
  client_id: null,
  has_secret: false,
  redirect: "deep_link",
  loopback_port: null,
  redirect_uri: "pitchbar://oauth/callback",
  redirect_choice: true,
  fixed_port: false,
  scopes: [],
  console_url: "https://www.notion.so/profile/integrations",
  setup_steps: ["New integration → type Public."],
  asks: [],
  subdomain: null,
  login_host: null,
  connections: 0,
};

const zendesk: OAuthAppView = {
  ...notion,
  provider: "zendesk",
  name: "Zendesk",
  redirect: "loopback",
  loopback_port: 47822,
  redirect_uri: "http://127.0.0.1:47822/oauth/callback",
  redirect_choice: false,
  fixed_port: true,
  scopes: ["read", "write"],
  asks: ["subdomain"],
};

const q = (id: string) => document.querySelector<HTMLElement>(`[data-testid=${id}]`);
const show = (app: OAuthAppView) => render(OAuthAppForm, { app, formId: "f", onsaved: () => {} });

describe("OAuthAppForm", () => {
  it("shows the guide, the exact redirect URI, and no detail the provider does not need", () => {
    show(notion);
    expect(q("oauth-guide")?.textContent).toMatch(/Register Pitchbar Admin at Notion/);
    expect(q("oauth-guide")?.textContent).toMatch(/New integration/);
    expect(q("redirect-uri")?.textContent).toBe("pitchbar://oauth/callback");
    expect(q("oauth-subdomain")).toBeNull();
    expect(q("oauth-port")).toBeNull();
  });

  it("follows the redirect style chosen: a loopback address without a port matches any", async () => {
    show(notion);
    const loopback = document.querySelector<HTMLInputElement>("input[value=loopback]")!;
    await fireEvent.click(loopback);
    expect(q("redirect-uri")?.textContent).toBe("http://127.0.0.1/oauth/callback");
    expect(q("oauth-port")).not.toBeNull();
  });

  it("asks Zendesk's subdomain and shows its fixed port and scopes", () => {
    show(zendesk);
    expect(q("oauth-subdomain")).not.toBeNull();
    expect(q("redirect-uri")?.textContent).toBe("http://127.0.0.1:47822/oauth/callback");
    expect(q("oauth-scopes")?.textContent).toMatch(/read.*write/s);
    expect(document.querySelector("input[value=deep_link]")).toBeNull();
  });
});
