// Pure helpers of the OAuth apps form: the redirect URI as the person edits the form, the
// Salesforce login host as a choice, and a one-line status of an app for the Settings list.

import type { OAuthAppView, RedirectStyle } from "$lib/api/bindings";

export const DEEP_LINK_CALLBACK = "pitchbar://oauth/callback";

/** The redirect URI the form shows: what the backend will use once saved. */
export function redirectUriFor(style: RedirectStyle, port: string, fixedPort: boolean): string {
  if (style === "deep_link") return DEEP_LINK_CALLBACK;
  const p = port.trim();
  if (/^\d{4,5}$/.test(p)) return `http://127.0.0.1:${p}/oauth/callback`;
  // A provider that fixes a port always has one; without it, any port matches (RFC 8252 §7.3).
  return fixedPort ? "http://127.0.0.1:<port>/oauth/callback" : "http://127.0.0.1/oauth/callback";
}

export type LoginHostChoice = "production" | "sandbox" | "my_domain";

export function loginHostChoice(host: string | null): LoginHostChoice {
  if (!host || host === "login.salesforce.com") return "production";
  if (host === "test.salesforce.com") return "sandbox";
  return "my_domain";
}

/** What the Settings list says about a provider's app. */
export function appStatus(app: OAuthAppView): string {
  if (app.source === "none") return "Not set up — it cannot be connected yet";
  const used =
    app.connections === 0
      ? "no connections"
      : `${app.connections} connection${app.connections === 1 ? "" : "s"}`;
  const from = app.source === "providers_file" ? " (from the providers file)" : "";
  return `Client ID ${shortId(app.client_id ?? "")}${from} · ${used}`;
}

function shortId(id: string): string {
  return id.length > 18 ? `${id.slice(0, 14)}…` : id;
}
