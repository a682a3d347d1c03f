// What the active member may do to other members, mirroring the backend's rules so the UI can
// say why an action is unavailable before anyone tries it. The backend still decides.

import type { Member, Role } from "$lib/api/bindings";

export const ROLE_LABELS: Record<Role, string> = {
  owner: "Owner",
  admin: "Admin",
  member: "Member",
};

export const READ_ONLY_REASON = "Only Owners and Admins can make changes.";

export interface RoleOption {
  value: Role;
  label: string;
  hint: string;
}

const ROLE_HINTS: Record<Role, string> = {
  owner: "Everything, including granting the Owner role",
  admin: "Manages integrations, webhooks and members",
  member: "Sees everything, changes nothing",
};

/** Roles the active member can give; Owner only by an Owner (or kept, to show it as it is). */
export function roleOptions(activeRole: Role, currentRole?: Role): RoleOption[] {
  const roles: Role[] =
    activeRole === "owner" || currentRole === "owner"
      ? ["owner", "admin", "member"]
      : ["admin", "member"];
  return roles.map((value) => ({ value, label: ROLE_LABELS[value], hint: ROLE_HINTS[value] }));
}

/** Allowed, or the reason it isn't, for a title attribute and a screen reader. */
export type Permission = { allowed: true } | { allowed: false; reason: string };

const ALLOWED: Permission = { allowed: true };

function ownerCount(members: readonly Member[]): number {
  return members.filter((m) => m.role === "owner").length;
}

export function canEditMember(active: Member, canManage: boolean, target: Member): Permission {
  if (!canManage) return { allowed: false, reason: READ_ONLY_REASON };
  if (target.role === "owner" && active.role !== "owner") {
    return { allowed: false, reason: "Only an Owner can change an Owner." };
  }
  return ALLOWED;
}

export function canRemoveMember(
  active: Member,
  canManage: boolean,
  target: Member,
  members: readonly Member[],
): Permission {
  const edit = canEditMember(active, canManage, target);
  if (!edit.allowed) return edit;
  if (target.id === active.id) {
    return { allowed: false, reason: "You can't remove yourself. Switch to another member first." };
  }
  if (target.role === "owner" && ownerCount(members) <= 1) {
    return {
      allowed: false,
      reason: `${target.name} is the only Owner. Make another member Owner first.`,
    };
  }
  return ALLOWED;
}
