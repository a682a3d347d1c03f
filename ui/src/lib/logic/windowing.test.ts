import { describe, expect, it } from "vitest";
import { OVERSCAN, UNMEASURED_ROWS, rowWindow } from "./windowing";

describe("rowWindow", () => {
  it("renders the rows in view and OVERSCAN more on each side", () => {
    // Rows of 40 px, the view from 400 to 800 px: rows 10 to 19 are visible.
    expect(rowWindow(500, 40, 400, 800)).toEqual({ start: 10 - OVERSCAN, end: 20 + OVERSCAN });
  });
  it("starts at the first row when the list's top is in view or below it", () => {
    expect(rowWindow(500, 40, -300, 200)).toEqual({ start: 0, end: 5 + OVERSCAN });
  });
  it("stops at the last row", () => {
    expect(rowWindow(30, 40, 1000, 1400)).toEqual({ start: 25 - OVERSCAN, end: 30 });
  });
  it("renders nothing when the list is far above the view", () => {
    const { start, end } = rowWindow(30, 40, 5000, 5400);
    expect(end - start).toBe(0);
  });
  it("renders the first rows until a row has been measured", () => {
    expect(rowWindow(500, 0, 0, 800)).toEqual({ start: 0, end: UNMEASURED_ROWS });
    expect(rowWindow(20, 0, 0, 800)).toEqual({ start: 0, end: 20 });
  });
});
