//! The workspace, its members, their roles, and the permission check every change goes through.

use rusqlite::{params, OptionalExtension, Row, Transaction};
use serde::{Deserialize, Serialize};
use specta::Type;

mod role;

pub use role::Role;

use crate::audit::{self, Area, By, Surface};
use crate::clock::now_rfc3339;
use crate::error::{Error, Result};
use crate::ids::new_id;
use crate::store::Store;

/// Whom the window shows the app as: the device user, or a member previewed ("View as").
const ACTIVE_MEMBER: &str = "active_member_id";
/// Who uses the app on this computer: who set it up, or whom an Owner named.
const DEVICE_MEMBER: &str = "device_member_id";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type)]
pub struct Workspace {
    pub id: String,
    pub name: String,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type)]
pub struct Member {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub created_at: String,
}

/// What a member fills in: on first run, in Settings when adding or editing one.
#[derive(Debug, Clone, Deserialize, Type)]
pub struct MemberInput {
    pub name: String,
    pub email: String,
    pub role: Role,
}

/// Everything the window needs to draw who is working in which workspace.
#[derive(Debug, Clone, Serialize, Type)]
pub struct Session {
    pub workspace: Workspace,
    pub members: Vec<Member>,
    /// Whom the app is shown as: the device user, or the member previewed.
    pub active: Member,
    /// Who uses the app on this computer (what the CLI acts as, too).
    pub device_user: Member,
    /// Whether the active member holds `integrations.manage`.
    pub can_manage: bool,
    /// The roles the active member may give.
    pub assignable_roles: Vec<Role>,
    /// Per member, whether the active member may edit or remove them, and if not, why.
    pub member_actions: Vec<MemberActions>,
}

/// What the active member may do to one member: `None` where allowed, else the reason.
#[derive(Debug, Clone, Serialize, Type)]
pub struct MemberActions {
    pub member_id: String,
    pub edit: Option<String>,
    pub remove: Option<String>,
}

/// The member a change is made by, as checked against the store, and from where: what the
/// permission checks and the audit trail read.
pub struct Actor {
    member: Member,
    surface: Surface,
    /// The device user, when `member` is a preview ("View as").
    previewed_by: Option<Member>,
}

impl Actor {
    pub fn member(&self) -> &Member {
        &self.member
    }

    pub fn surface(&self) -> Surface {
        self.surface
    }

    pub fn previewed_by(&self) -> Option<&Member> {
        self.previewed_by.as_ref()
    }

    /// Refuses the change unless the actor holds `integrations.manage`.
    pub fn require_manage(&self) -> Result<()> {
        if self.member.role.can_manage() {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "{} is a Member and can only view. Ask a workspace Owner or Admin to make this change.",
                self.member.name
            )))
        }
    }
}

impl From<&Actor> for By {
    fn from(actor: &Actor) -> Self {
        let m = &actor.member;
        By::person(
            &m.id,
            &m.name,
            m.role,
            actor.previewed_by.as_ref().map(|d| d.name.as_str()),
            actor.surface,
        )
    }
}

/// The rules for changing members, in one place: the checks below and the session's
/// `member_actions` (which the window shows as enabled buttons or reasons) both use them.
impl Actor {
    fn may_grant(&self, role: Role) -> Result<()> {
        self.require_manage()?;
        if role == Role::Owner && self.member.role != Role::Owner {
            return Err(Error::Forbidden(
                "Only an Owner can grant, change or remove the Owner role.".into(),
            ));
        }
        Ok(())
    }

    /// May `target` (now holding `target.role`) be given `new_role`, with `owners` Owners in all?
    fn may_edit(&self, target: &Member, new_role: Role, owners: usize) -> Result<()> {
        self.may_grant(target.role)?;
        self.may_grant(new_role)?;
        if target.role == Role::Owner && new_role != Role::Owner && owners <= 1 {
            return Err(Error::Conflict(format!(
                "{} is the only Owner. Make another member Owner first, then change this role.",
                target.name
            )));
        }
        Ok(())
    }

    fn may_remove(&self, target: &Member, owners: usize) -> Result<()> {
        self.may_grant(target.role)?;
        if target.role == Role::Owner && owners <= 1 {
            return Err(Error::Conflict(format!(
                "{} is the only Owner and cannot be removed. Make another member Owner first.",
                target.name
            )));
        }
        if target.id == self.member.id {
            return Err(Error::Conflict(
                "You can't remove yourself. Switch to another Owner or Admin first.".into(),
            ));
        }
        Ok(())
    }
}

/// The workspace service over the store.
pub struct Workspaces<'a> {
    pub(crate) store: &'a Store,
}

impl Workspaces<'_> {
    /// The session, or `None` on first run (no workspace yet).
    pub fn session(&self) -> Result<Option<Session>> {
        let conn = self.store.conn();
        let tx = conn.unchecked_transaction()?;
        let Some(workspace) = workspace(&tx)? else {
            return Ok(None);
        };
        let members = members(&tx)?;
        let device = device_member(&tx, &members)?;
        let active = active_member(&tx, &members, &device)?;
        let active = Actor {
            previewed_by: (active.id != device.id).then(|| device.clone()),
            member: active,
            surface: Surface::Window,
        };
        let owners = members.iter().filter(|m| m.role == Role::Owner).count();
        let member_actions = members
            .iter()
            .map(|m| MemberActions {
                member_id: m.id.clone(),
                edit: active
                    .may_edit(m, m.role, owners)
                    .err()
                    .map(|e| e.to_string()),
                remove: active.may_remove(m, owners).err().map(|e| e.to_string()),
            })
            .collect();
        let assignable_roles = [Role::Owner, Role::Admin, Role::Member]
            .into_iter()
            .filter(|r| {
                active.member.role.can_manage()
                    && (*r != Role::Owner || active.member.role == Role::Owner)
            })
            .collect();
        Ok(Some(Session {
            can_manage: active.member.role.can_manage(),
            assignable_roles,
            member_actions,
            workspace,
            members,
            active: active.member,
            device_user: device,
        }))
    }

    /// The member the window's changes are made by: the active member (a preview, or the
    /// device user).
    pub fn actor(&self) -> Result<Actor> {
        let session = self
            .session()?
            .ok_or_else(|| Error::Conflict("Set up the workspace first.".into()))?;
        Ok(Actor {
            previewed_by: (session.active.id != session.device_user.id)
                .then_some(session.device_user),
            member: session.active,
            surface: Surface::Window,
        })
    }

    /// First run: creates the workspace and its first member, who becomes the Owner.
    pub fn set_up(&self, workspace_name: &str, owner: MemberInput) -> Result<Session> {
        self.set_up_from(Surface::Window, workspace_name, owner)
    }

    /// [`Workspaces::set_up`] from `surface` (the window's first run, or `pitchbar-admin init`),
    /// which the audit trail records.
    pub fn set_up_from(
        &self,
        surface: Surface,
        workspace_name: &str,
        owner: MemberInput,
    ) -> Result<Session> {
        let name = workspace_name_checked(workspace_name)?;
        let owner = MemberInput {
            role: Role::Owner,
            ..member_checked(owner)?
        };
        self.store.write(|tx| {
            if workspace(tx)?.is_some() {
                return Err(Error::Conflict(
                    "This workspace is already set up. Reload the window to open it.".into(),
                ));
            }
            tx.execute(
                "INSERT INTO workspace (id, name, created_at) VALUES (?1, ?2, ?3)",
                params![new_id(), name, now_rfc3339()],
            )?;
            let id = insert_member(tx, &owner)?;
            put_setting(tx, DEVICE_MEMBER, &id)?;
            set_active(tx, &id)?;
            let actor = Actor {
                member: member(tx, &id)?,
                surface,
                previewed_by: None,
            };
            audit::record(
                tx,
                &actor,
                Area::Workspace,
                "workspace.created",
                &name,
                format!(
                    "Set up the workspace “{name}” with {} as its Owner.",
                    owner.name
                ),
            )
        })?;
        self.session()?
            .ok_or_else(|| Error::Internal("The workspace was not saved; try again.".into()))
    }

    pub fn rename(&self, actor: &Actor, name: &str) -> Result<Workspace> {
        actor.require_manage()?;
        let name = workspace_name_checked(name)?;
        self.store.write(|tx| {
            let before = workspace(tx)?
                .ok_or_else(|| Error::NotFound("There is no workspace to rename.".into()))?;
            tx.execute("UPDATE workspace SET name = ?1", params![name])?;
            audit::record(
                tx,
                actor,
                Area::Workspace,
                "workspace.renamed",
                &name,
                format!("Renamed the workspace from “{}” to “{name}”.", before.name),
            )?;
            workspace(tx)?.ok_or_else(|| Error::NotFound("There is no workspace to rename.".into()))
        })
    }

    /// Shows the app as another member ("View as"): a preview that can only lower rights —
    /// a member with the device user's role or a lesser one — or, with the device user's own
    /// ID, back to the device user.
    pub fn switch_to(&self, member_id: &str) -> Result<Session> {
        self.store.write(|tx| {
            let target = member(tx, member_id)?;
            let device = device_member(tx, &members(tx)?)?;
            if target.id != device.id && target.role.rights() > device.role.rights() {
                return Err(Error::Forbidden(format!(
                    "This computer's user is {} ({}): the app can be viewed as members with the same rights or fewer, not as {} ({}). An Owner can make {} this computer's user in Workspace settings.",
                    device.name,
                    device.role.label(),
                    target.name,
                    target.role.label(),
                    target.name
                )));
            }
            set_active(tx, member_id)
        })?;
        self.session()?
            .ok_or_else(|| Error::Conflict("Set up the workspace first.".into()))
    }

    /// Makes `member_id` the person who uses the app on this computer (an Owner's decision),
    /// and ends any preview.
    pub fn set_device_user(&self, actor: &Actor, member_id: &str) -> Result<Session> {
        if actor.member.role != Role::Owner {
            return Err(Error::Forbidden(
                "Only an Owner can choose who uses the app on this computer.".into(),
            ));
        }
        self.store.write(|tx| {
            let target = member(tx, member_id)?;
            put_setting(tx, DEVICE_MEMBER, member_id)?;
            audit::record(
                tx,
                actor,
                Area::Members,
                "device_user.changed",
                &target.name,
                format!("Made {} this computer's user.", target.name),
            )?;
            set_active(tx, member_id)
        })?;
        self.session()?
            .ok_or_else(|| Error::Conflict("Set up the workspace first.".into()))
    }

    /// What the CLI and other surfaces without a window act as: the device user, never a
    /// preview.
    pub fn device_actor(&self, surface: Surface) -> Result<Actor> {
        let conn = self.store.conn();
        let tx = conn.unchecked_transaction()?;
        if workspace(&tx)?.is_none() {
            return Err(Error::Conflict("Set up the workspace first.".into()));
        }
        Ok(Actor {
            member: device_member(&tx, &members(&tx)?)?,
            surface,
            previewed_by: None,
        })
    }

    pub fn add_member(&self, actor: &Actor, input: MemberInput) -> Result<Member> {
        actor.may_grant(input.role)?;
        let input = member_checked(input)?;
        self.store.write(|tx| {
            ensure_email_free(tx, &input.email, None)?;
            let id = insert_member(tx, &input)?;
            audit::record(
                tx,
                actor,
                Area::Members,
                "member.added",
                &input.name,
                format!(
                    "Added {} ({}) as {}.",
                    input.name,
                    input.email,
                    input.role.label()
                ),
            )?;
            member(tx, &id)
        })
    }

    pub fn update_member(&self, actor: &Actor, id: &str, input: MemberInput) -> Result<Member> {
        actor.require_manage()?;
        let input = member_checked(input)?;
        self.store.write(|tx| {
            let current = member(tx, id)?;
            actor.may_edit(&current, input.role, owner_count(tx)?)?;
            ensure_email_free(tx, &input.email, Some(id))?;
            tx.execute(
                "UPDATE member SET name = ?1, email = ?2, role = ?3 WHERE id = ?4",
                params![input.name, input.email, input.role.as_str(), id],
            )?;
            audit::record(
                tx,
                actor,
                Area::Members,
                if current.role == input.role {
                    "member.updated"
                } else {
                    "member.role_changed"
                },
                &input.name,
                member_change(&current, &input),
            )?;
            member(tx, id)
        })
    }

    pub fn remove_member(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.require_manage()?;
        self.store.write(|tx| {
            let current = member(tx, id)?;
            actor.may_remove(&current, owner_count(tx)?)?;
            if device_member(tx, &members(tx)?)?.id == current.id {
                return Err(Error::Conflict(format!(
                    "{} uses the app on this computer and cannot be removed here. An Owner can make another member this computer's user first.",
                    current.name
                )));
            }
            tx.execute("DELETE FROM member WHERE id = ?1", params![id])?;
            audit::record(
                tx,
                actor,
                Area::Members,
                "member.removed",
                &current.name,
                format!(
                    "Removed {} ({}, {}).",
                    current.name,
                    current.email,
                    current.role.label()
                ),
            )
        })
    }
}

/// What an edit of a member changed, in words.
fn member_change(before: &Member, after: &MemberInput) -> String {
    let mut changes = Vec::new();
    if before.role != after.role {
        changes.push(format!(
            "role {} → {}",
            before.role.label(),
            after.role.label()
        ));
    }
    if before.name != after.name {
        changes.push(format!("name “{}” → “{}”", before.name, after.name));
    }
    if before.email != after.email {
        changes.push(format!("email {} → {}", before.email, after.email));
    }
    if changes.is_empty() {
        format!("Saved {} without changes.", after.name)
    } else {
        format!("Changed {}: {}.", before.name, changes.join(", "))
    }
}

fn workspace_name_checked(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::invalid("Enter a workspace name."));
    }
    if name.chars().count() > 80 {
        return Err(Error::invalid(
            "Keep the workspace name to 80 characters or fewer.",
        ));
    }
    Ok(name.to_string())
}

fn member_checked(input: MemberInput) -> Result<MemberInput> {
    let name = input.name.trim().to_string();
    let email = input.email.trim().to_string();
    if name.is_empty() {
        return Err(Error::invalid("Enter the member's name."));
    }
    if name.chars().count() > 80 {
        return Err(Error::invalid("Keep the name to 80 characters or fewer."));
    }
    if !looks_like_email(&email) {
        return Err(Error::invalid(format!(
            "“{email}” is not an email address. Enter one like name@company.com."
        )));
    }
    Ok(MemberInput {
        name,
        email,
        role: input.role,
    })
}

/// A plausibility check, not RFC 5322: one `@`, something before it, a dotted domain after.
fn looks_like_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    email.len() <= 254
        && !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(char::is_whitespace)
}

fn ensure_email_free(tx: &Transaction<'_>, email: &str, except: Option<&str>) -> Result<()> {
    let taken: Option<String> = tx
        .query_row(
            "SELECT name FROM member WHERE lower(email) = lower(?1) AND id IS NOT ?2",
            params![email, except],
            |r| r.get(0),
        )
        .optional()?;
    match taken {
        Some(name) => Err(Error::Conflict(format!(
            "{email} already belongs to {name}. Each member needs their own email address."
        ))),
        None => Ok(()),
    }
}

fn insert_member(tx: &Transaction<'_>, input: &MemberInput) -> Result<String> {
    let id = new_id();
    tx.execute(
        "INSERT INTO member (id, name, email, role, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            id,
            input.name,
            input.email,
            input.role.as_str(),
            now_rfc3339()
        ],
    )?;
    Ok(id)
}

/// The workspace's id: the first part of every keychain entry's name.
pub(crate) fn workspace_id(conn: &rusqlite::Connection) -> Result<String> {
    conn.query_row("SELECT id FROM workspace", [], |r| r.get(0))
        .optional()?
        .ok_or_else(|| Error::Conflict("Set up the workspace first.".into()))
}

fn workspace(tx: &Transaction<'_>) -> Result<Option<Workspace>> {
    Ok(tx
        .query_row("SELECT id, name, created_at FROM workspace", [], |r| {
            Ok(Workspace {
                id: r.get(0)?,
                name: r.get(1)?,
                created_at: r.get(2)?,
            })
        })
        .optional()?)
}

fn member_from_row(r: &Row<'_>) -> rusqlite::Result<Member> {
    Ok(Member {
        id: r.get(0)?,
        name: r.get(1)?,
        email: r.get(2)?,
        role: Role::parse(&r.get::<_, String>(3)?),
        created_at: r.get(4)?,
    })
}

const MEMBER_COLUMNS: &str = "SELECT id, name, email, role, created_at FROM member";

fn member(tx: &Transaction<'_>, id: &str) -> Result<Member> {
    tx.query_row(
        &format!("{MEMBER_COLUMNS} WHERE id = ?1"),
        [id],
        member_from_row,
    )
    .optional()?
    .ok_or_else(|| Error::NotFound("That member no longer exists. Reload the list.".into()))
}

fn members(tx: &Transaction<'_>) -> Result<Vec<Member>> {
    let mut stmt = tx.prepare(&format!(
        "{MEMBER_COLUMNS} ORDER BY CASE role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, lower(name)"
    ))?;
    let rows = stmt.query_map([], member_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn owner_count(tx: &Transaction<'_>) -> Result<usize> {
    let n: i64 = tx.query_row(
        "SELECT count(*) FROM member WHERE role = 'owner'",
        [],
        |r| r.get(0),
    )?;
    Ok(usize::try_from(n).unwrap_or_default())
}

fn set_active(tx: &Transaction<'_>, id: &str) -> Result<()> {
    put_setting(tx, ACTIVE_MEMBER, id)
}

fn put_setting(tx: &Transaction<'_>, key: &str, value: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO setting (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

fn setting(tx: &Transaction<'_>, key: &str) -> Result<Option<String>> {
    Ok(tx
        .query_row("SELECT value FROM setting WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()?)
}

/// The device user; when none is recorded (a workspace set up before there was one) or it
/// points nowhere, the first Owner.
fn device_member(tx: &Transaction<'_>, members: &[Member]) -> Result<Member> {
    let id = setting(tx, DEVICE_MEMBER)?;
    members
        .iter()
        .find(|m| Some(&m.id) == id.as_ref())
        .or_else(|| {
            members
                .iter()
                .filter(|m| m.role == Role::Owner)
                .min_by(|a, b| a.created_at.cmp(&b.created_at))
        })
        .cloned()
        .ok_or_else(|| {
            Error::Storage("The workspace has no members. Restore a backup of the database.".into())
        })
}

/// The member previewed, if that preview still lowers rights (the device user's role may have
/// changed since); else the device user.
fn active_member(tx: &Transaction<'_>, members: &[Member], device: &Member) -> Result<Member> {
    let id = setting(tx, ACTIVE_MEMBER)?;
    Ok(members
        .iter()
        .find(|m| Some(&m.id) == id.as_ref())
        .filter(|m| m.id == device.id || m.role.rights() <= device.role.rights())
        .unwrap_or(device)
        .clone())
}
