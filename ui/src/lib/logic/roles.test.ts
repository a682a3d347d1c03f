import { describe, expect, it } from "vitest";
import type { Member, Role, Session } from "$lib/api/bindings";
import { memberPermissions, roleOptions } from "./roles";

const m = (id: string, role: Role): Member => ({
  id,
  name: id,
  email: `${id}@acme.com`,
  role,
  created_at: "2024-01-01T00:00:00Z",
});

const session = (assignable: Role[]): Session => ({
  workspace: { id: "w", name: "Acme", created_at: "2024-01-01T00:00:00Z" },
  members: [m("olive", "owner"), m("mo", "member")],
  active: m("olive", "owner"),
  device_user: m("olive", "owner"),
  can_manage: true,
  assignable_roles: assignable,
  member_actions: [
    { member_id: "olive", edit: null, remove: "olive is the only Owner." },
    { member_id: "mo", edit: null, remove: null },
  ],
});

describe("roleOptions", () => {
  it("offers what the core allows, in a fixed order", () => {
    expect(roleOptions(session(["member", "owner", "admin"])).map((o) => o.value)).toEqual([
      "owner",
      "admin",
      "member",
    ]);
    expect(roleOptions(session(["admin", "member"])).map((o) => o.value)).toEqual([
      "admin",
      "member",
    ]);
  });

  it("keeps the edited member's current role listed even if it can't be granted", () => {
    expect(roleOptions(session(["admin", "member"]), "owner").map((o) => o.value)).toEqual([
      "owner",
      "admin",
      "member",
    ]);
  });
});

describe("memberPermissions", () => {
  it("passes on the core's reasons", () => {
    const p = memberPermissions(session([]), "olive");
    expect(p.edit).toEqual({ allowed: true });
    expect(p.remove).toEqual({ allowed: false, reason: "olive is the only Owner." });
    expect(memberPermissions(session([]), "mo").remove).toEqual({ allowed: true });
  });

  it("refuses a member the session doesn't know, saying what to do", () => {
    const p = memberPermissions(session([]), "ghost");
    expect(p.edit.allowed).toBe(false);
    expect(p.remove.allowed).toBe(false);
  });
});
