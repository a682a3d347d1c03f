import { describe, expect, it } from "vitest";
import type { Member, Role } from "$lib/api/bindings";
import { canEditMember, canRemoveMember, roleOptions } from "./roles";

const m = (id: string, role: Role, name = id): Member => ({
  id,
  name,
  email: `${id}@acme.com`,
  role,
  created_at: "2024-01-01T00:00:00Z",
});

const owner = m("owner", "owner", "Olive");
const owner2 = m("owner2", "owner", "Otto");
const admin = m("admin", "admin", "Ada");
const member = m("member", "member", "Mo");

describe("roleOptions", () => {
  it("offers Owner only to an Owner", () => {
    expect(roleOptions("owner").map((o) => o.value)).toEqual(["owner", "admin", "member"]);
    expect(roleOptions("admin").map((o) => o.value)).toEqual(["admin", "member"]);
    expect(roleOptions("member").map((o) => o.value)).toEqual(["admin", "member"]);
  });

  it("keeps Owner listed when the edited member already is one", () => {
    expect(roleOptions("admin", "owner").map((o) => o.value)).toContain("owner");
  });
});

describe("canEditMember", () => {
  it("refuses everything to a Member, with a reason", () => {
    const result = canEditMember(member, false, admin);
    expect(result.allowed).toBe(false);
    expect(!result.allowed && result.reason).toMatch(/Owners and Admins/);
  });

  it("lets an Admin edit Admins and Members but not Owners", () => {
    expect(canEditMember(admin, true, member).allowed).toBe(true);
    expect(canEditMember(admin, true, admin).allowed).toBe(true);
    expect(canEditMember(admin, true, owner).allowed).toBe(false);
  });

  it("lets an Owner edit anyone", () => {
    for (const target of [owner, owner2, admin, member]) {
      expect(canEditMember(owner, true, target).allowed).toBe(true);
    }
  });
});

describe("canRemoveMember", () => {
  const all = [owner, admin, member];

  it("refuses removing the last Owner and says who", () => {
    const result = canRemoveMember(owner2, true, owner, [owner, admin]);
    expect(result).toEqual({
      allowed: false,
      reason: "Olive is the only Owner. Make another member Owner first.",
    });
  });

  it("allows removing an Owner when another Owner remains", () => {
    expect(canRemoveMember(owner, true, owner2, [owner, owner2, admin]).allowed).toBe(true);
  });

  it("refuses removing yourself", () => {
    expect(canRemoveMember(admin, true, admin, all).allowed).toBe(false);
  });

  it("refuses an Admin removing an Owner even when several exist", () => {
    expect(canRemoveMember(admin, true, owner, [owner, owner2, admin]).allowed).toBe(false);
  });

  it("allows an Admin to remove a Member", () => {
    expect(canRemoveMember(admin, true, member, all).allowed).toBe(true);
  });

  it("refuses a read-only session first", () => {
    const result = canRemoveMember(member, false, admin, all);
    expect(!result.allowed && result.reason).toMatch(/Owners and Admins/);
  });
});
