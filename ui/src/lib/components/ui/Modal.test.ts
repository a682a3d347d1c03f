import { fireEvent, render } from "@testing-library/svelte";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import ModalHarness from "../../../test/ModalHarness.svelte";

let app: HTMLElement;

beforeEach(() => {
  app = document.createElement("div");
  app.id = "app";
  document.body.appendChild(app);
});

afterEach(() => {
  app.remove();
});

async function openModal() {
  render(ModalHarness, { target: app });
  const opener = document.getElementById("opener")!;
  opener.focus();
  await fireEvent.click(opener);
  return opener;
}

const dialog = () => document.querySelector<HTMLElement>("[role=dialog][data-testid=test-modal]");
const active = () =>
  document.activeElement?.id || document.activeElement?.getAttribute("data-testid");

describe("Modal", () => {
  it("opens outside #app, labelled by its title, and makes the rest inert", async () => {
    await openModal();
    const node = dialog();
    expect(node).not.toBeNull();
    expect(app.contains(node)).toBe(false);
    expect(node!.getAttribute("aria-modal")).toBe("true");
    const title = document.getElementById(node!.getAttribute("aria-labelledby")!);
    expect(title?.textContent?.trim()).toBe("Test dialog");
    expect(app.hasAttribute("inert")).toBe(true);
  });

  it("focuses the first field of its body", async () => {
    await openModal();
    expect(active()).toBe("first");
  });

  it("keeps Tab and Shift+Tab inside, wrapping at both ends", async () => {
    await openModal();
    const order: (string | null | undefined)[] = [];
    for (let i = 0; i < 4; i++) {
      await fireEvent.keyDown(document.activeElement!, { key: "Tab" });
      order.push(active());
    }
    expect(order).toEqual(["inside", "last", "modal-close", "first"]);
    await fireEvent.keyDown(document.activeElement!, { key: "Tab", shiftKey: true });
    expect(active()).toBe("modal-close");
    await fireEvent.keyDown(document.activeElement!, { key: "Tab", shiftKey: true });
    expect(active()).toBe("last");
  });

  it("closes on Esc and gives focus back to the opener", async () => {
    const opener = await openModal();
    await fireEvent.keyDown(document.activeElement!, { key: "Escape" });
    expect(dialog()).toBeNull();
    expect(document.getElementById("closes")?.textContent).toBe("1");
    expect(app.hasAttribute("inert")).toBe(false);
    expect(document.activeElement).toBe(opener);
  });

  it("closes with the × button", async () => {
    await openModal();
    await fireEvent.click(document.querySelector("[data-testid=modal-close]")!);
    expect(dialog()).toBeNull();
  });
});
