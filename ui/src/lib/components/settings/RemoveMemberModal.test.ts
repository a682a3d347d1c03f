import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Member } from "$lib/api/bindings";
import RemoveMemberModal from "./RemoveMemberModal.svelte";

afterEach(() => clearMocks());

const erin: Member = {
  id: "01ERIN",
  name: "Erin Cole",
  email: "erin@acme.test",
  role: "member",
  created_at: "2026-01-01T00:00:00Z",
};

const confirm = () =>
  fireEvent.click(document.querySelector("[data-testid=confirm-remove]") as HTMLButtonElement);

describe("RemoveMemberModal (through ConfirmModal)", () => {
  it("removes through the command, then reports to the page", async () => {
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      return null;
    });
    const onremoved = vi.fn();
    render(RemoveMemberModal, { member: erin, onclose: vi.fn(), onremoved });
    await confirm();
    await waitFor(() => expect(onremoved).toHaveBeenCalledWith(erin));
    expect(calls).toEqual([["remove_member", { memberId: "01ERIN" }]]);
  });

  it("shows the backend's reason, stays open and can be tried again", async () => {
    mockIPC(() => {
      throw { code: "conflict", message: "Erin Cole is the only Owner and cannot be removed." };
    });
    const onremoved = vi.fn();
    render(RemoveMemberModal, { member: erin, onclose: vi.fn(), onremoved });
    await confirm();
    await screen.findByText("Erin Cole is the only Owner and cannot be removed.");
    expect(onremoved).not.toHaveBeenCalled();
    const button = document.querySelector("[data-testid=confirm-remove]") as HTMLButtonElement;
    expect(button.disabled).toBe(false);
  });
});
