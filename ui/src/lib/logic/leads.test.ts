import { describe, expect, it } from "vitest";
import type { Agent } from "$lib/api/bindings";
import {
  agentName,
  exampleCurl,
  fieldsSummary,
  leadFieldForError,
  toLeadInput,
  valueText,
} from "./leads";

const fields = [
  { key: "company", label: "Company", required: true },
  { key: "size", label: "Team size" },
];

describe("toLeadInput", () => {
  it("trims, turns blanks into null, and sends only the agent's fields", () => {
    const input = toLeadInput(
      "a1",
      { name: " Ada ", email: "", phone: " ", fields: { company: "Acme ", size: "", other: "x" } },
      fields,
    );
    expect(input).toEqual({
      agent_id: "a1",
      name: "Ada",
      email: null,
      phone: null,
      fields: { company: "Acme" },
    });
  });
});

describe("lead text", () => {
  it("reads values", () => {
    expect(valueText(null)).toBe("—");
    expect(valueText(3)).toBe("3");
    expect(valueText(["a"])).toBe('["a"]');
    expect(fieldsSummary({ company: "Acme", size: null, n: 2 })).toBe("company: Acme · n: 2");
    expect(fieldsSummary({})).toBe("—");
  });

  it("names agents", () => {
    const agents = [{ id: "a1", name: "Website agent" }] as Agent[];
    expect(agentName(agents, "a1")).toBe("Website agent");
    expect(agentName(agents, "zz")).toBe("Deleted agent");
  });

  it("finds the field a message is about", () => {
    expect(leadFieldForError("“x” is not an email address.", fields)).toBe("email");
    expect(leadFieldForError("Company is required.", fields)).toBe("company");
    expect(leadFieldForError("Enter a phone number", [])).toBe("phone");
    expect(leadFieldForError("Something else", [])).toBeNull();
  });
});

describe("exampleCurl", () => {
  it("posts to /leads with a placeholder key", () => {
    const curl = exampleCurl("http://127.0.0.1:4787/v1/");
    expect(curl).toContain("'http://127.0.0.1:4787/v1/leads'");
    expect(curl).toContain("Bearer <your API key>");
    expect(curl).not.toMatch(/sk_live_/);
  });
});
