import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { fireEvent, render, waitFor } from "@testing-library/svelte";
import { afterEach, describe, expect, it } from "vitest";
import type { Session } from "$lib/api/bindings";
import { app } from "$lib/state/app.svelte";
import SetupScreen from "./SetupScreen.svelte";

afterEach(() => clearMocks());

function input(id: string, value: string) {
  const el = document.getElementById(id) as HTMLInputElement;
  el.value = value;
  return fireEvent.input(el);
}

const submit = () =>
  fireEvent.click(document.querySelector("[data-testid=setup-submit]") as HTMLButtonElement);

describe("SetupScreen", () => {
  it("shows the backend's message at the field it is about and focuses that field", async () => {
    mockIPC((cmd) => {
      if (cmd === "set_up_workspace") {
        throw {
          code: "invalid_input",
          message: "“ann” is not an email address. Enter one like name@company.com.",
        };
      }
    });
    render(SetupScreen);
    await input("setup-workspace", "Acme");
    await input("setup-name", "Ann");
    await input("setup-email", "ann");
    await submit();

    const error = await waitFor(() => {
      const el = document.querySelector("[data-testid=form-error]");
      if (!el) throw new Error("no error yet");
      return el;
    });
    expect(error.textContent).toContain("is not an email address");
    expect(error.id).toBe("setup-email-error");
    expect(document.getElementById("setup-email")?.getAttribute("aria-invalid")).toBe("true");
    await waitFor(() => expect(document.activeElement?.id).toBe("setup-email"));
    expect(document.querySelectorAll("[data-testid=form-error]")).toHaveLength(1);
  });

  it("shows a framework failure (a plain string) for the whole form", async () => {
    mockIPC(() => {
      throw "Command set_up_workspace not allowed by ACL";
    });
    render(SetupScreen);
    await submit();
    const alert = await waitFor(() => {
      const el = document.querySelector("[role=alert][data-testid=form-error]");
      if (!el) throw new Error("no alert yet");
      return el;
    });
    expect(alert.textContent).toContain("not allowed by ACL");
  });

  it("sends the three fields to set_up_workspace and opens the workspace", async () => {
    const calls: [string, unknown][] = [];
    const session: Session = {
      workspace: { id: "W", name: "Acme", created_at: "2024-01-01T00:00:00Z" },
      members: [],
      active: {
        id: "M",
        name: "Ann",
        email: "ann@acme.com",
        role: "owner",
        created_at: "2024-01-01T00:00:00Z",
      },
      device_user: {
        id: "M",
        name: "Ann",
        email: "ann@acme.com",
        role: "owner",
        created_at: "2024-01-01T00:00:00Z",
      },
      can_manage: true,
      assignable_roles: ["owner", "admin", "member"],
      member_actions: [],
    };
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      if (cmd === "set_up_workspace") return session;
      return [];
    });
    render(SetupScreen);
    await input("setup-workspace", "Acme");
    await input("setup-name", "Ann");
    await input("setup-email", "ann@acme.com");
    await submit();

    await waitFor(() => expect(app.boot.kind).toBe("ready"));
    expect(calls[0]).toEqual([
      "set_up_workspace",
      { workspaceName: "Acme", ownerName: "Ann", ownerEmail: "ann@acme.com" },
    ]);
    expect(app.session?.workspace.name).toBe("Acme");
  });
});
