import { describe, expect, it } from "vitest";
import type { Integration } from "$lib/api/bindings";
import { connectRoute } from "./connectRoute";

const entry = (id: string, connection: Integration["connection"]) => ({ id, name: id, connection });

describe("connectRoute", () => {
  it("sends each kind to its own form", () => {
    expect(connectRoute(entry("freshdesk", { kind: "api_key", fields: [], help: "" })).kind).toBe(
      "api_key",
    );
    expect(
      connectRoute(entry("discord", { kind: "incoming_webhook", url_prefix: "", help: "" })).kind,
    ).toBe("webhook_target");
    expect(
      connectRoute(entry("zapier", { kind: "incoming_webhook", url_prefix: "", help: "" })).kind,
    ).toBe("zapier");
  });

  it("says why email forwarding cannot be connected, instead of a Connect that leads nowhere", () => {
    const route = connectRoute(entry("email-forwarding", { kind: "email", help: "" }));
    expect(route.kind).toBe("unavailable");
    expect(route.kind === "unavailable" && route.reason).toMatch(/not available yet/);
  });
});
