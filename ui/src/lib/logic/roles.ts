// Role labels, and what the active member may do to members — as the core decided it in the
// session (`assignable_roles`, `member_actions`). The rules themselves live in the core only.

import type { Role, Session } from "$lib/api/bindings";

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

/** The roles on offer: those the core lets the active member give, plus the current one. */
export function roleOptions(session: Session, currentRole?: Role): RoleOption[] {
  const roles = (["owner", "admin", "member"] as const).filter(
    (r) => session.assignable_roles.includes(r) || r === currentRole,
  );
  return roles.map((value) => ({ value, label: ROLE_LABELS[value], hint: ROLE_HINTS[value] }));
}

/** Allowed, or the reason it isn't, for a title attribute and a screen reader. */
export type Permission = { allowed: true } | { allowed: false; reason: string };

const permission = (reason: string | null | undefined): Permission =>
  reason ? { allowed: false, reason } : { allowed: true };

/** What the session says the active member may do to this member. */
export function memberPermissions(
  session: Session,
  memberId: string,
): { edit: Permission; remove: Permission } {
  const actions = session.member_actions.find((a) => a.member_id === memberId);
  const unknown = "Reload the window: this member is not in the current session.";
  return {
    edit: permission(actions ? actions.edit : unknown),
    remove: permission(actions ? actions.remove : unknown),
  };
}
