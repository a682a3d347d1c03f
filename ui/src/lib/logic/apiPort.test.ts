import { describe, expect, it } from "vitest";
import { checkPort } from "./apiPort";

describe("checkPort", () => {
  it("accepts a user port, trimmed", () => {
    expect(checkPort(" 4787 ")).toEqual({ port: 4787, error: null });
    expect(checkPort("1024")).toEqual({ port: 1024, error: null });
    expect(checkPort("65535")).toEqual({ port: 65535, error: null });
  });

  it("says what is wrong with anything else", () => {
    expect(checkPort("").error).toMatch(/Enter a port/);
    expect(checkPort("47a7").error).toMatch(/not a port number/);
    expect(checkPort("-1").error).toMatch(/not a port number/);
    expect(checkPort("4787.5").error).toMatch(/not a port number/);
    expect(checkPort("80").error).toMatch(/administrator rights/);
    expect(checkPort("70000").error).toMatch(/stop at 65535/);
  });
});
