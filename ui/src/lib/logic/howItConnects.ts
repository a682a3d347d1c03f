// "How it connects", in words, for an integration's detail modal.

import type { Integration } from "$lib/api/bindings";

export type ConnectIcon = "globe" | "link" | "key" | "mail";

export interface HowItConnects {
  title: string;
  icon: ConnectIcon;
  /** Sentences, in order. */
  steps: string[];
  /** Labelled bits worth showing as they are: scopes, fields, URL prefix. */
  codes: { label: string; values: string[] } | null;
}

function host(url: string): string | null {
  try {
    return new URL(url).host || null;
  } catch {
    return null;
  }
}

export function howItConnects(
  integration: Pick<Integration, "name" | "connection">,
): HowItConnects {
  const { name, connection } = integration;
  switch (connection.kind) {
    case "oauth": {
      const site = host(connection.authorize_url);
      const back =
        connection.redirect === "deep_link"
          ? `${name} then sends you back to Pitchbar Admin through a pitchbar:// link.`
          : `${name} then sends you back to Pitchbar Admin on a one-time address on this computer (127.0.0.1), as ${name} does not accept app links.`;
      const revoke = connection.revocation
        ? `Disconnecting revokes Pitchbar's access at ${name}.`
        : `${name} offers no way to revoke access from outside: after disconnecting, also remove Pitchbar in ${name}'s settings.`;
      return {
        title: "OAuth in your browser",
        icon: "globe",
        steps: [
          `Your browser opens ${site ?? name}, where you sign in and approve access.`,
          back,
          revoke,
        ],
        codes: connection.scopes.length
          ? { label: "Scopes requested", values: connection.scopes }
          : null,
      };
    }
    case "incoming_webhook":
      return {
        title: "Paste a webhook URL",
        icon: "link",
        steps: [
          connection.help,
          `Pitchbar posts to the URL you paste; nothing is read from ${name}.`,
        ],
        codes: { label: "The URL starts with", values: [connection.url_prefix] },
      };
    case "api_key":
      return {
        title: connection.fields.length > 1 ? "Paste an API key and details" : "Paste an API key",
        icon: "key",
        steps: [
          connection.help,
          `${name} is asked to confirm the credentials before anything is saved; they are kept in your system keychain only, and removed from it when you disconnect.`,
        ],
        codes: connection.fields.length
          ? { label: "You'll enter", values: connection.fields.map((f) => f.label) }
          : null,
      };
    case "email":
      return {
        title: "Email forwarding",
        icon: "mail",
        steps: ["Not available yet: Pitchbar Admin cannot receive forwarded mail."],
        codes: null,
      };
  }
}
