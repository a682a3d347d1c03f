import { fireEvent, render } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import type { Integration } from "$lib/api/bindings";
import catalog from "../../../../../src-tauri/core/src/catalog/integrations.json";
import ApiKeyForm from "./ApiKeyForm.svelte";

const byId = (id: string) => (catalog as Integration[]).find((i) => i.id === id)!;
const input = (key: string) =>
  document.querySelector<HTMLInputElement>(`[data-testid=api-key-field-${key}]`)!;

describe("ApiKeyForm", () => {
  it("asks for the catalog's fields, secrets in password fields", () => {
    render(ApiKeyForm, { integration: byId("woocommerce"), onclose: () => {} });
    expect(input("store_url").type).toBe("text");
    expect(input("consumer_key").type).toBe("password");
    expect(input("consumer_secret").type).toBe("password");
    expect(document.body.textContent).toMatch(/confirm these credentials before anything is saved/);
  });

  it("names the empty field instead of calling the backend", async () => {
    render(ApiKeyForm, { integration: byId("freshdesk"), onclose: () => {} });
    await fireEvent.input(input("subdomain"), { target: { value: "acme" } });
    await fireEvent.click(document.querySelector("[data-testid=api-key-connect]")!);
    expect(input("api_key").getAttribute("aria-invalid")).toBe("true");
    expect(input("subdomain").getAttribute("aria-invalid")).toBeNull();
  });
});
