import { execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { EXAMPLE, EXAMPLE_REQUEST, VERIFY_SNIPPET, WEBHOOK_EVENTS } from "./webhooks";

type Case = [body: string, header: string, secret: string, tolerance?: number];

/** Runs the snippet exactly as documented, in a plain Node process, on each case. */
function runSnippet(cases: Case[]): boolean[] {
  const script = `${VERIFY_SNIPPET}
const cases = JSON.parse(process.argv[1]);
console.log(JSON.stringify(cases.map(([b, h, s, t]) => verify(b, h, s, t ?? undefined))));`;
  const out = execFileSync(
    process.execPath,
    ["--input-type=module", "-e", script, JSON.stringify(cases)],
    {
      encoding: "utf8",
    },
  );
  return JSON.parse(out) as boolean[];
}

const header = `t=${EXAMPLE.timestamp},v1=${EXAMPLE.signature}`;
const forever = 1e12;

describe("the documented example", () => {
  it("carries the real HMAC-SHA256 of '{t}.{body}' keyed by the whole whsec_ secret", () => {
    const expected = createHmac("sha256", EXAMPLE.secret)
      .update(`${EXAMPLE.timestamp}.${EXAMPLE.body}`)
      .digest("hex");
    expect(EXAMPLE.signature).toBe(expected);
  });

  it("has a body with the documented payload shape", () => {
    const payload = JSON.parse(EXAMPLE.body) as Record<string, unknown>;
    expect(Object.keys(payload)).toEqual(["event", "occurred_at", "data"]);
    expect(Object.keys(payload.data as object)).toEqual([
      "lead_id",
      "agent_id",
      "conversation_id",
      "name",
      "email",
      "phone",
      "fields",
    ]);
  });

  it("shows the request with all Pitchbar headers", () => {
    expect(EXAMPLE_REQUEST).toContain(`X-Pitchbar-Signature: ${header}`);
    expect(EXAMPLE_REQUEST).toContain("X-Pitchbar-Event: lead.captured");
    expect(EXAMPLE_REQUEST).toMatch(/X-Pitchbar-Delivery: [0-9A-HJKMNP-TV-Z]{26}\n/);
  });

  it("lists the canonical events, each once", () => {
    const names = WEBHOOK_EVENTS.map((e) => e.name);
    expect(names).toEqual([
      "lead.captured",
      "lead.updated",
      "conversation.started",
      "conversation.message",
      "conversation.routed",
      "conversation.closed",
    ]);
  });
});

describe("the documented verification snippet", () => {
  it("accepts the example delivery, and one of several v1 during a rotation", () => {
    const rotated = `t=${EXAMPLE.timestamp},v1=${"0".repeat(64)},v1=${EXAMPLE.signature}`;
    expect(
      runSnippet([
        [EXAMPLE.body, header, EXAMPLE.secret, forever],
        [EXAMPLE.body, rotated, EXAMPLE.secret, forever],
      ]),
    ).toEqual([true, true]);
  });

  it("rejects a changed body, a wrong secret, a stale timestamp and malformed headers", () => {
    expect(
      runSnippet([
        [EXAMPLE.body.replace("Ada", "Eve"), header, EXAMPLE.secret, forever],
        [EXAMPLE.body, header, EXAMPLE.secret.slice("whsec_".length), forever],
        [EXAMPLE.body, header, EXAMPLE.secret],
        [EXAMPLE.body, "garbage", EXAMPLE.secret, forever],
        [EXAMPLE.body, `t=${EXAMPLE.timestamp},v1=abc`, EXAMPLE.secret, forever],
      ]),
    ).toEqual([false, false, false, false, false]);
  });

  it("accepts a fresh signature within the default tolerance", () => {
    const t = Math.floor(Date.now() / 1000);
    const sig = createHmac("sha256", EXAMPLE.secret).update(`${t}.${EXAMPLE.body}`).digest("hex");
    expect(runSnippet([[EXAMPLE.body, `t=${t},v1=${sig}`, EXAMPLE.secret]])).toEqual([true]);
  });
});
