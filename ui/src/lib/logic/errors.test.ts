import { describe, expect, it } from "vitest";
import { errorMessage, fieldForError, toAppError, type FormField } from "./errors";

describe("toAppError", () => {
  it("keeps the backend's code and message as they are", () => {
    expect(toAppError({ code: "forbidden", message: "Ask an Owner." })).toEqual({
      code: "forbidden",
      message: "Ask an Owner.",
    });
  });

  it("shows a plain-string rejection (framework failure) with no code", () => {
    expect(toAppError("Command add_member not allowed by ACL")).toEqual({
      code: null,
      message: "Command add_member not allowed by ACL",
    });
  });

  it("reads an Error's message", () => {
    expect(errorMessage(new Error("IPC channel closed"))).toBe("IPC channel closed");
  });

  it("falls back to a readable sentence for empty or shapeless values", () => {
    for (const value of [undefined, null, 42, {}, "", "   ", { message: "" }]) {
      const { message } = toAppError(value);
      expect(message).toMatch(/Something went wrong/);
    }
  });

  it("keeps a code even when the message is missing", () => {
    expect(toAppError({ code: "storage" }).code).toBe("storage");
  });
});

describe("fieldForError", () => {
  const setup: FormField[] = ["workspace", "name", "email"];
  const member: FormField[] = ["name", "email", "role"];
  const invalid = (message: string) => ({ code: "invalid_input", message });

  it("maps each of the backend's validation messages to its field", () => {
    expect(fieldForError(invalid("Enter a workspace name."), setup)).toBe("workspace");
    expect(
      fieldForError(invalid("Keep the workspace name to 80 characters or fewer."), setup),
    ).toBe("workspace");
    expect(fieldForError(invalid("Enter the member's name."), setup)).toBe("name");
    expect(fieldForError(invalid("Keep the name to 80 characters or fewer."), member)).toBe("name");
    expect(
      fieldForError(
        invalid("“bob” is not an email address. Enter one like name@company.com."),
        member,
      ),
    ).toBe("email");
  });

  it("ignores what the person typed inside the quotes", () => {
    const message = "“Enter a workspace name” is not an email address. Enter one like a@b.co.";
    expect(fieldForError(invalid(message), setup)).toBe("email");
  });

  it("puts a duplicate email on the email field even if the other member's name misleads", () => {
    const error = {
      code: "conflict",
      message:
        "ann@acme.com already belongs to Workspace Name. Each member needs their own email address.",
    };
    expect(fieldForError(error, member)).toBe("email");
  });

  it("puts the Owner-role rules on the role field", () => {
    const forbidden = {
      code: "forbidden",
      message: "Only an Owner can grant, change or remove the Owner role.",
    };
    expect(fieldForError(forbidden, member)).toBe("role");
    const lastOwner = {
      code: "conflict",
      message: "Ann is the only Owner. Make another member Owner first, then change this role.",
    };
    expect(fieldForError(lastOwner, member)).toBe("role");
  });

  it("returns null for a field the form doesn't have", () => {
    expect(fieldForError(invalid("Enter a workspace name."), member)).toBeNull();
  });

  it("returns null for form-wide errors", () => {
    expect(
      fieldForError(
        { code: "forbidden", message: "Bo is a Member and can only view. Ask an Owner." },
        member,
      ),
    ).toBeNull();
    expect(
      fieldForError({ code: "storage", message: "Enter a workspace name." }, setup),
    ).toBeNull();
    expect(fieldForError({ code: null, message: "email broke" }, setup)).toBeNull();
  });
});
