import { describe, expect, it } from "vitest";
import { fieldForMessage } from "./apiKeyForm";

const fields = [
  { key: "api_url", label: "API URL", secret: false, placeholder: "" },
  { key: "api_key", label: "API key", secret: true, placeholder: "" },
];

describe("fieldForMessage", () => {
  it("names the field the message starts with", () => {
    expect(fieldForMessage(fields, "API URL must be an https:// address.")).toBe("api_url");
    expect(fieldForMessage(fields, "API key is required. Nothing was saved.")).toBe("api_key");
  });

  it("leaves the provider's refusal to the whole form", () => {
    expect(fieldForMessage(fields, "ActiveCampaign refused these credentials: “x”")).toBeNull();
  });
});
