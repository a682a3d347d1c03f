import { describe, expect, it } from "vitest";
import { move, newRow, rowForError, snakeCase, toLeadFields, withLabel } from "./agents";

describe("snakeCase", () => {
  it("turns a label into a key", () => {
    expect(snakeCase("Company size (approx.)")).toBe("company_size_approx");
    expect(snakeCase("  Café Name ")).toBe("cafe_name");
    expect(snakeCase("2nd phone")).toBe("_2nd_phone");
    expect(snakeCase("!!!")).toBe("");
  });
});

describe("rows", () => {
  it("the key follows the label until edited by hand", () => {
    const row = withLabel(newRow(), "Budget range");
    expect(row.key).toBe("budget_range");
    expect(withLabel({ ...row, key: "budget", keyEdited: true }, "Budget").key).toBe("budget");
  });

  it("existing fields keep their keys", () => {
    const row = newRow({ key: "co", label: "Company", required: true });
    expect(withLabel(row, "Company name").key).toBe("co");
    expect(row.required).toBe(true);
  });

  it("moves within bounds only", () => {
    expect(move([1, 2, 3], 0, 1)).toEqual([2, 1, 3]);
    expect(move([1, 2, 3], 2, -2)).toEqual([3, 1, 2]);
    expect(move([1, 2, 3], 0, -1)).toEqual([1, 2, 3]);
    expect(move([1, 2, 3], 2, 1)).toEqual([1, 2, 3]);
  });

  it("sends trimmed fields and drops empty rows", () => {
    const rows = [withLabel(newRow(), " Company "), newRow()];
    expect(toLeadFields(rows)).toEqual([{ key: "company", label: "Company", required: false }]);
  });

  it("finds the row a message quotes", () => {
    const rows = [newRow({ key: "a", label: "A" }), newRow({ key: "bad key", label: "B" })];
    expect(rowForError("The key “bad key” must be snake_case.", rows)).toBe(1);
    expect(rowForError("Enter a name.", rows)).toBeNull();
  });
});
