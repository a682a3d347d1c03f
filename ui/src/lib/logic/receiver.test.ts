import { describe, expect, it } from "vitest";
import type { Verdict } from "$lib/api/bindings";
import {
  answerLabel,
  checkDelaySeconds,
  defaultResponse,
  formatSkew,
  verdictFacts,
  verdictShort,
  verdictTone,
} from "./receiver";

const verdict = (over: Partial<Verdict>): Verdict => ({
  valid: false,
  code: "body_altered_or_wrong_secret",
  title: "",
  detail: "",
  matched: null,
  timestamp: null,
  skew_secs: null,
  signatures_in_header: 0,
  ...over,
});

describe("answerLabel", () => {
  it("names the status, Retry-After where it applies, the delay and a closed connection", () => {
    expect(answerLabel(defaultResponse())).toBe("200");
    expect(answerLabel({ ...defaultResponse(), status: 429, retry_after_secs: 30 })).toBe(
      "429 · Retry-After 30 s",
    );
    expect(answerLabel({ ...defaultResponse(), status: 500, retry_after_secs: 30 })).toBe("500");
    expect(answerLabel({ ...defaultResponse(), delay_ms: 6000 })).toBe("200 · after 6 s");
    expect(answerLabel({ ...defaultResponse(), close_without_answer: true, delay_ms: 1500 })).toBe(
      "no answer (connection closed) · after 1.5 s",
    );
  });
});

describe("checkDelaySeconds", () => {
  it("turns seconds into milliseconds and refuses the rest", () => {
    expect(checkDelaySeconds("")).toEqual({ ms: 0, error: null });
    expect(checkDelaySeconds("6")).toEqual({ ms: 6000, error: null });
    expect(checkDelaySeconds("0.25")).toEqual({ ms: 250, error: null });
    expect(checkDelaySeconds("abc").error).toMatch(/number of seconds/);
    expect(checkDelaySeconds("-1").error).toMatch(/number of seconds/);
    expect(checkDelaySeconds("121").error).toMatch(/120 seconds or less/);
  });
});

describe("verdicts", () => {
  it("valid is ok, unsigned or unchecked is a warning, the rest are failures", () => {
    expect(verdictTone(verdict({ valid: true, code: "valid" }))).toBe("ok");
    expect(verdictTone(verdict({ code: "no_secret" }))).toBe("warn");
    expect(verdictTone(verdict({ code: "header_missing" }))).toBe("warn");
    expect(verdictTone(verdict({ code: "replayed" }))).toBe("bad");
    expect(verdictShort("body_reserialized")).toBe("Re-serialized");
  });

  it("says how far and which way a timestamp is off", () => {
    expect(formatSkew(-250)).toBe("4 min 10 s too old");
    expect(formatSkew(42)).toBe("42 s in the future");
    expect(formatSkew(-7300)).toBe("2 h 1 min too old");
  });

  it("lists the facts that are known", () => {
    const facts = verdictFacts(
      verdict({
        matched: "http://127.0.0.1:4000/hook",
        timestamp: 1700000000,
        skew_secs: -60,
        signatures_in_header: 2,
      }),
    );
    expect(facts.map((f) => f.label)).toEqual([
      "Matched",
      "Signed at",
      "Outside the 5-minute window",
      "Signatures in the header",
    ]);
    expect(facts[1]?.value).toBe("2023-11-14T22:13:20Z (t=1700000000)");
    expect(verdictFacts(verdict({}))).toEqual([]);
  });
});
