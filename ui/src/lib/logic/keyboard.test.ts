import { describe, expect, it } from "vitest";
import { focusableIn, isTypingTarget, trapIndex } from "./keyboard";

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
