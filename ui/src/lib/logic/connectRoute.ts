// What Connect does for an integration, from its catalog entry: a browser sign-in, an API-key
// form, a pasted webhook URL (Teams, Discord), an endpoint prefilled for a Zapier catch hook —
// or nothing yet, with the reason shown instead of a Connect button.

import type { Integration } from "$lib/api/bindings";
import { isWebhookTarget } from "./notify";

export type ConnectRoute =
  | { kind: "oauth" }
  | { kind: "api_key" }
  | { kind: "webhook_target" }
  | { kind: "zapier" }
  | { kind: "unavailable"; reason: string };

export function connectRoute(
  integration: Pick<Integration, "id" | "name" | "connection">,
): ConnectRoute {
  if (isWebhookTarget(integration.id)) return { kind: "webhook_target" };
  if (integration.id === "zapier") return { kind: "zapier" };
  switch (integration.connection.kind) {
    case "oauth":
      return { kind: "oauth" };
    case "api_key":
      return { kind: "api_key" };
    case "email":
      return {
        kind: "unavailable",
        reason: `${integration.name} is not available yet: Pitchbar Admin cannot receive forwarded mail, so there is no address to forward to. It arrives in a later version.`,
      };
    case "incoming_webhook":
      return {
        kind: "unavailable",
        reason: `${integration.name} is not available yet in Pitchbar Admin.`,
      };
  }
}
