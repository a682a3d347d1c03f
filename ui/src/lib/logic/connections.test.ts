import { describe, expect, it } from "vitest";
import { STATUS, connectedLine, zapierEndpoints, zapsLine } from "./connections";

const utc = { locale: "en-US", timeZone: "UTC" };

describe("connectedLine", () => {
  it("names who connected it and when, in local time", () => {
    expect(
      connectedLine({ connected_by: "Ada Lovelace", connected_at: "2024-01-15T10:00:00Z" }, utc),
    ).toBe("Connected by Ada Lovelace · Jan 15, 2024");
    expect(
      connectedLine(
        { connected_by: "Ada", connected_at: "2024-01-15T02:00:00Z" },
        { locale: "en-US", timeZone: "America/New_York" },
      ),
    ).toBe("Connected by Ada · Jan 14, 2024");
  });

  it("leaves the name out when the member is gone or blank", () => {
    expect(connectedLine({ connected_by: null, connected_at: "2024-01-15T10:00:00Z" }, utc)).toBe(
      "Connected · Jan 15, 2024",
    );
    expect(connectedLine({ connected_by: "  ", connected_at: "2024-01-15T10:00:00Z" }, utc)).toBe(
      "Connected · Jan 15, 2024",
    );
  });
});

describe("STATUS", () => {
  it("reads every status, flagging the ones that need attention", () => {
    expect(STATUS.active).toEqual({ label: "Connected", tone: "success" });
    expect(STATUS.needs_reauth.tone).toBe("warning");
    expect(STATUS.revocation_pending.tone).toBe("warning");
    expect(STATUS.inactive.tone).toBe("neutral");
  });
});

describe("Zapier", () => {
  it("finds the endpoints that are Zapier catch hooks", () => {
    const eps = [
      { url: "https://hooks.zapier.com/hooks/catch/123/abc/", active: true },
      { url: "https://example.com/hooks/catch/123/", active: true },
      { url: "HTTPS://hooks.zapier.com/hooks/catch/9/x", active: false },
      { url: "https://hooks.zapier.com/other/1", active: true },
    ];
    expect(zapierEndpoints(eps).map((e) => e.url)).toEqual([eps[0]?.url, eps[2]?.url]);
  });

  it("counts the active Zaps", () => {
    expect(zapsLine([{ active: true }, { active: true }, { active: true }])).toBe("3 active Zaps");
    expect(zapsLine([{ active: true }, { active: false }])).toBe("1 active Zap · 1 off");
    expect(zapsLine([{ active: false }, { active: false }])).toBe("No active Zaps · 2 off");
  });
});
