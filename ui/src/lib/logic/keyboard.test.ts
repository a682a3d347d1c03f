import { describe, expect, it } from "vitest";
import { focusableIn, isTypingTarget, shortcutOf, trapIndex } from "./keyboard";

describe("trapIndex", () => {
  it("wraps forwards and backwards", () => {
    expect(trapIndex(3, 0, false)).toBe(1);
    expect(trapIndex(3, 2, false)).toBe(0);
    expect(trapIndex(3, 0, true)).toBe(2);
    expect(trapIndex(3, 1, true)).toBe(0);
  });

  it("enters at the right end when focus is outside", () => {
    expect(trapIndex(3, -1, false)).toBe(0);
    expect(trapIndex(3, -1, true)).toBe(2);
  });

  it("stays put with one element and gives -1 with none", () => {
    expect(trapIndex(1, 0, false)).toBe(0);
    expect(trapIndex(1, 0, true)).toBe(0);
    expect(trapIndex(0, -1, false)).toBe(-1);
  });
});

describe("focusableIn", () => {
  it("finds enabled controls in document order and skips disabled, hidden and inert ones", () => {
    document.body.innerHTML = `
      <div id="root">
        <button id="a">A</button>
        <button id="b" disabled>B</button>
        <input id="c" />
        <input id="d" type="hidden" />
        <a id="e">no href</a>
        <a id="f" href="#x">link</a>
        <div id="g" tabindex="0">div</div>
        <div id="h" tabindex="-1">not in order</div>
        <button id="i" hidden>hidden</button>
        <div inert><button id="j">inert</button></div>
        <select id="k"><option>1</option></select>
      </div>`;
    const ids = focusableIn(document.getElementById("root")!).map((el) => el.id);
    expect(ids).toEqual(["a", "c", "f", "g", "k"]);
  });
});

describe("isTypingTarget", () => {
  it("is true for text fields and false for buttons and checkboxes", () => {
    document.body.innerHTML = `
      <input id="text" /><input id="search" type="search" /><textarea id="area"></textarea>
      <input id="check" type="checkbox" /><button id="btn">x</button><div id="div"></div>`;
    const is = (id: string) => isTypingTarget(document.getElementById(id));
    expect(is("text")).toBe(true);
    expect(is("search")).toBe(true);
    expect(is("area")).toBe(true);
    expect(is("check")).toBe(false);
    expect(is("btn")).toBe(false);
    expect(is("div")).toBe(false);
    expect(isTypingTarget(null)).toBe(false);
  });
});

describe("shortcutOf", () => {
  const press = (
    key: string,
    mods: Partial<KeyboardEvent> = {},
    target: EventTarget | null = null,
  ) => ({
    key,
    ctrlKey: false,
    metaKey: false,
    altKey: false,
    shiftKey: false,
    target,
    ...mods,
  });

  it("maps Ctrl (⌘ on a Mac) with 1–3, K and , to the tabs, search and Settings", () => {
    expect(shortcutOf(press("1", { ctrlKey: true }), false)).toEqual({
      kind: "tab",
      tab: "connected",
    });
    expect(shortcutOf(press("2", { ctrlKey: true }), false)).toEqual({
      kind: "tab",
      tab: "available",
    });
    expect(shortcutOf(press("3", { ctrlKey: true }), false)).toEqual({
      kind: "tab",
      tab: "webhooks",
    });
    expect(shortcutOf(press("k", { ctrlKey: true }), false)).toEqual({ kind: "search" });
    expect(shortcutOf(press("K", { ctrlKey: true }), false)).toEqual({ kind: "search" });
    expect(shortcutOf(press(",", { ctrlKey: true }), false)).toEqual({ kind: "settings" });
    expect(shortcutOf(press("3", { metaKey: true }), true)).toEqual({
      kind: "tab",
      tab: "webhooks",
    });
  });

  it("leaves other keys, other modifiers and the other platform's command key alone", () => {
    expect(shortcutOf(press("4", { ctrlKey: true }), false)).toBeNull();
    expect(shortcutOf(press("1", { metaKey: true }), false)).toBeNull();
    expect(shortcutOf(press("1", { ctrlKey: true }), true)).toBeNull();
    expect(shortcutOf(press("k", { ctrlKey: true, altKey: true }), false)).toBeNull();
    expect(shortcutOf(press("k", { ctrlKey: true, shiftKey: true }), false)).toBeNull();
    expect(shortcutOf(press("1"), false)).toBeNull();
  });

  it("takes / for search outside text fields only", () => {
    document.body.innerHTML = `<input id="text" /><button id="btn">x</button>`;
    expect(shortcutOf(press("/", {}, document.getElementById("btn")), false)).toEqual({
      kind: "search",
    });
    expect(shortcutOf(press("/", {}, document.getElementById("text")), false)).toBeNull();
  });
});
