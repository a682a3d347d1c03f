//! Workspace set-up, members and roles on a real SQLite file: each bad input gets a clear
//! error and changes nothing.

use pitchbar_core::workspace::{MemberInput, Role, Session};
use pitchbar_core::{Core, Error, Startup};

fn input(name: &str, email: &str, role: Role) -> MemberInput {
    MemberInput {
        name: name.into(),
        email: email.into(),
        role,
    }
}

fn set_up() -> (tempfile::TempDir, Core) {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path()).unwrap();
    core.workspaces()
        .set_up(
            "Acme Corporation",
            input("Carol Adams", "carol@acme.test", Role::Member),
        )
        .unwrap();
    (dir, core)
}

fn session(core: &Core) -> Session {
    core.workspaces().session().unwrap().unwrap()
}

/// The whole persisted state, to show a refused change left it as it was.
fn snapshot(core: &Core) -> String {
    let conn = core.store().conn();
    let mut out = String::new();
    for sql in [
        "SELECT id || name FROM workspace",
        "SELECT id || name || email || role FROM member ORDER BY id",
        "SELECT key || value FROM setting ORDER BY key",
    ] {
        let mut stmt = conn.prepare(sql).unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
        for row in rows {
            out.push_str(&row.unwrap());
            out.push('\n');
        }
    }
    out
}

/// The message a person reads (every variant displays just its message).
fn message(err: &Error) -> String {
    err.to_string()
}

#[test]
fn first_run_needs_setup_then_the_first_member_is_the_active_owner() {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path()).unwrap();
    assert!(matches!(core.startup().unwrap(), Startup::NeedsSetup));

    // The role asked for is ignored: the first member is always the Owner.
    let session = core
        .workspaces()
        .set_up(
            "  Acme Corporation ",
            input(" Carol Adams ", "carol@acme.test", Role::Member),
        )
        .unwrap();
    assert_eq!(session.workspace.name, "Acme Corporation");
    assert_eq!(session.active.name, "Carol Adams");
    assert_eq!(session.active.role, Role::Owner);
    assert!(session.can_manage);
    assert_eq!(session.workspace.id.len(), 26, "a ULID");
    assert!(matches!(core.startup().unwrap(), Startup::Ready { .. }));
}

#[test]
fn setup_refuses_bad_input_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path()).unwrap();
    let ws = core.workspaces();
    let cases = [
        ("   ", "Carol", "carol@acme.test", "workspace name"),
        (
            &"x".repeat(81) as &str,
            "Carol",
            "carol@acme.test",
            "80 characters",
        ),
        ("Acme", "", "carol@acme.test", "name"),
        ("Acme", "Carol", "carol-at-acme", "not an email"),
        ("Acme", "Carol", "carol@localhost", "not an email"),
        ("Acme", "Carol", "car ol@acme.test", "not an email"),
    ];
    for (workspace, name, email, expected) in cases {
        let err = ws
            .set_up(workspace, input(name, email, Role::Owner))
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
        assert!(
            message(&err).contains(expected),
            "{:?} should mention {expected}",
            message(&err)
        );
        assert!(matches!(core.startup().unwrap(), Startup::NeedsSetup));
    }
}

#[test]
fn a_second_setup_is_a_conflict() {
    let (_dir, core) = set_up();
    let before = snapshot(&core);
    let err = core
        .workspaces()
        .set_up("Other", input("Eve", "eve@other.test", Role::Owner))
        .unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    assert_eq!(snapshot(&core), before);
}

#[test]
fn owners_and_admins_manage_members() {
    let (_dir, core) = set_up();
    let ws = core.workspaces();
    let owner = ws.actor().unwrap();
    let admin = ws
        .add_member(&owner, input("Dan Brown", "dan@acme.test", Role::Admin))
        .unwrap();
    let member = ws
        .add_member(&owner, input("Erin Cole", "erin@acme.test", Role::Member))
        .unwrap();
    assert_eq!(session(&core).members.len(), 3);

    ws.switch_to(&admin.id).unwrap();
    let admin_actor = ws.actor().unwrap();
    let renamed = ws
        .update_member(
            &admin_actor,
            &member.id,
            input("Erin Cole-Smith", "erin@acme.test", Role::Admin),
        )
        .unwrap();
    assert_eq!(renamed.name, "Erin Cole-Smith");
    assert_eq!(renamed.role, Role::Admin);
    ws.remove_member(&admin_actor, &member.id).unwrap();
    assert_eq!(session(&core).members.len(), 2);
    assert_eq!(
        ws.rename(&admin_actor, "Acme Inc").unwrap().name,
        "Acme Inc"
    );
}

#[test]
fn a_member_can_change_nothing_and_gets_forbidden() {
    let (_dir, core) = set_up();
    let ws = core.workspaces();
    let owner = ws.actor().unwrap();
    let member = ws
        .add_member(&owner, input("Erin Cole", "erin@acme.test", Role::Member))
        .unwrap();
    let owner_id = owner.member().id.clone();

    let s = ws.switch_to(&member.id).unwrap();
    assert!(!s.can_manage);
    assert_eq!(s.active.id, member.id);
    let actor = ws.actor().unwrap();
    let before = snapshot(&core);

    let attempts: Vec<Error> = vec![
        ws.rename(&actor, "Hijacked").unwrap_err(),
        ws.add_member(&actor, input("Mallory", "m@acme.test", Role::Admin))
            .unwrap_err(),
        ws.update_member(
            &actor,
            &member.id,
            input("Erin", "erin@acme.test", Role::Owner),
        )
        .unwrap_err(),
        ws.update_member(&actor, &owner_id, input("X", "x@acme.test", Role::Member))
            .unwrap_err(),
        ws.remove_member(&actor, &owner_id).unwrap_err(),
    ];
    for err in attempts {
        assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
        assert!(
            message(&err).contains("Owner or Admin"),
            "{}",
            message(&err)
        );
    }
    assert_eq!(snapshot(&core), before);
}

#[test]
fn only_an_owner_grants_or_touches_the_owner_role() {
    let (_dir, core) = set_up();
    let ws = core.workspaces();
    let owner = ws.actor().unwrap();
    let owner_id = owner.member().id.clone();
    let admin = ws
        .add_member(&owner, input("Dan", "dan@acme.test", Role::Admin))
        .unwrap();
    ws.switch_to(&admin.id).unwrap();
    let actor = ws.actor().unwrap();
    let before = snapshot(&core);

    for err in [
        ws.add_member(&actor, input("Eve", "eve@acme.test", Role::Owner))
            .unwrap_err(),
        ws.update_member(
            &actor,
            &admin.id,
            input("Dan", "dan@acme.test", Role::Owner),
        )
        .unwrap_err(),
        ws.update_member(
            &actor,
            &owner_id,
            input("Carol", "carol@acme.test", Role::Admin),
        )
        .unwrap_err(),
        ws.remove_member(&actor, &owner_id).unwrap_err(),
    ] {
        assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
    }
    assert_eq!(snapshot(&core), before);
}

#[test]
fn the_last_owner_can_be_neither_removed_nor_demoted() {
    let (_dir, core) = set_up();
    let ws = core.workspaces();
    let owner = ws.actor().unwrap();
    let id = owner.member().id.clone();
    let before = snapshot(&core);

    let err = ws.remove_member(&owner, &id).unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    assert!(message(&err).contains("only Owner"), "{}", message(&err));
    let err = ws
        .update_member(
            &owner,
            &id,
            input("Carol Adams", "carol@acme.test", Role::Admin),
        )
        .unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    assert_eq!(snapshot(&core), before);

    // With a second Owner, the first may step down.
    let second = ws
        .add_member(&owner, input("Fay", "fay@acme.test", Role::Owner))
        .unwrap();
    ws.update_member(
        &owner,
        &id,
        input("Carol Adams", "carol@acme.test", Role::Admin),
    )
    .unwrap();
    assert_eq!(
        session(&core).members[0].id,
        second.id,
        "Owners are listed first"
    );
}

#[test]
fn emails_are_unique_regardless_of_case() {
    let (_dir, core) = set_up();
    let ws = core.workspaces();
    let owner = ws.actor().unwrap();
    let dan = ws
        .add_member(&owner, input("Dan", "dan@acme.test", Role::Member))
        .unwrap();
    let before = snapshot(&core);

    let err = ws
        .add_member(&owner, input("Other", "CAROL@acme.test", Role::Member))
        .unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    assert!(
        message(&err).contains("already belongs to Carol Adams"),
        "{}",
        message(&err)
    );
    let err = ws
        .update_member(
            &owner,
            &dan.id,
            input("Dan", "carol@acme.test", Role::Member),
        )
        .unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    assert_eq!(snapshot(&core), before);

    // Keeping one's own address (in another case) is not a clash.
    ws.update_member(&owner, &dan.id, input("Dan", "DAN@acme.test", Role::Member))
        .unwrap();
}

#[test]
fn unknown_members_are_not_found() {
    let (_dir, core) = set_up();
    let ws = core.workspaces();
    let owner = ws.actor().unwrap();
    assert!(matches!(
        ws.switch_to("01NOPE").unwrap_err(),
        Error::NotFound(_)
    ));
    assert!(matches!(
        ws.remove_member(&owner, "01NOPE").unwrap_err(),
        Error::NotFound(_)
    ));
    assert!(matches!(
        ws.update_member(&owner, "01NOPE", input("A", "a@b.test", Role::Member))
            .unwrap_err(),
        Error::NotFound(_)
    ));
}

#[test]
fn nobody_removes_themselves() {
    let (_dir, core) = set_up();
    let ws = core.workspaces();
    let owner = ws.actor().unwrap();
    let second = ws
        .add_member(&owner, input("Fay", "fay@acme.test", Role::Owner))
        .unwrap();
    ws.switch_to(&second.id).unwrap();
    let fay = ws.actor().unwrap();
    let before = snapshot(&core);
    let err = ws.remove_member(&fay, &second.id).unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    assert!(
        message(&err).contains("remove yourself"),
        "{}",
        message(&err)
    );
    assert_eq!(snapshot(&core), before);
    // Another Owner may.
    ws.remove_member(&owner, &second.id).unwrap();
}

#[test]
fn the_session_says_what_the_active_member_may_do_and_why_not() {
    let (_dir, core) = set_up();
    let ws = core.workspaces();
    let owner = ws.actor().unwrap();
    let admin = ws
        .add_member(&owner, input("Dan", "dan@acme.test", Role::Admin))
        .unwrap();
    let member = ws
        .add_member(&owner, input("Erin", "erin@acme.test", Role::Member))
        .unwrap();
    let actions = |s: &Session, id: &str| {
        s.member_actions
            .iter()
            .find(|a| a.member_id == id)
            .cloned()
            .unwrap()
    };

    let s = session(&core);
    assert_eq!(
        s.assignable_roles,
        vec![Role::Owner, Role::Admin, Role::Member]
    );
    let me = actions(&s, &owner.member().id);
    assert!(me.edit.is_none());
    assert!(me.remove.unwrap().contains("only Owner"));
    assert!(actions(&s, &member.id).remove.is_none());

    let s = ws.switch_to(&admin.id).unwrap();
    assert_eq!(s.assignable_roles, vec![Role::Admin, Role::Member]);
    assert!(actions(&s, &owner.member().id)
        .edit
        .unwrap()
        .contains("Only an Owner"));
    assert!(actions(&s, &member.id).edit.is_none());

    let s = ws.switch_to(&member.id).unwrap();
    assert!(s.assignable_roles.is_empty());
    for a in &s.member_actions {
        assert!(a.edit.as_deref().unwrap().contains("Owner or Admin"));
        assert!(a.remove.as_deref().unwrap().contains("Owner or Admin"));
    }
}

#[test]
fn connections_list_reads_the_store() {
    let (_dir, core) = set_up();
    assert!(pitchbar_core::connections::list(core.store())
        .unwrap()
        .is_empty());
    let owner_id = session(&core).active.id;
    core.store()
        .conn()
        .execute(
            "INSERT INTO integration_connection (id, provider, status, account_label, connected_by, connected_at)
             VALUES ('01A', 'slack', 'active', 'Acme Corp', ?1, '2026-01-15T10:00:00Z'),
                    ('01B', 'notion', 'inactive', NULL, NULL, '2026-01-16T10:00:00Z')",
            [owner_id],
        )
        .unwrap();
    let list = pitchbar_core::connections::list(core.store()).unwrap();
    assert_eq!(list.len(), 1, "inactive connections are not listed");
    assert_eq!(list[0].provider, "slack");
    assert_eq!(list[0].connected_by.as_deref(), Some("Carol Adams"));
}

/// "View as" is a preview that only lowers rights; an Owner names the device user, whom the
/// CLI acts as; the device user cannot be removed from under the computer.
#[test]
fn previews_only_lower_rights_and_the_device_user_is_an_owners_choice() {
    let (_dir, core) = set_up();
    let ws = core.workspaces();
    let carol = session(&core).active;
    let owner = ws.actor().unwrap();
    let admin = ws
        .add_member(&owner, input("Ann Admin", "ann@acme.test", Role::Admin))
        .unwrap();
    let member = ws
        .add_member(&owner, input("Mo Member", "mo@acme.test", Role::Member))
        .unwrap();
    let owner2 = ws
        .add_member(&owner, input("Otto Owner", "otto@acme.test", Role::Owner))
        .unwrap();
    assert_eq!(session(&core).device_user.id, carol.id);

    // The Owner at this computer may view the app as anyone, and come back in one step.
    let s = ws.switch_to(&member.id).unwrap();
    assert_eq!(
        (s.active.id.as_str(), s.can_manage),
        (member.id.as_str(), false)
    );
    assert!(matches!(
        ws.remove_member(&ws.actor().unwrap(), &admin.id),
        Err(Error::Forbidden(_))
    ));
    let s = ws.switch_to(&carol.id).unwrap();
    assert_eq!(s.active.id, carol.id);

    // Carol makes Mo this computer's user: now nobody at it can preview upwards.
    let s = ws
        .set_device_user(&ws.actor().unwrap(), &member.id)
        .unwrap();
    assert_eq!(
        (s.device_user.id.as_str(), s.active.id.as_str()),
        (member.id.as_str(), member.id.as_str())
    );
    let before = snapshot(&core);
    for target in [&carol.id, &admin.id, &owner2.id] {
        let err = ws.switch_to(target).unwrap_err();
        assert!(
            matches!(&err, Error::Forbidden(m) if m.contains("Mo Member (Member)") && m.contains("same rights or fewer")),
            "{err}"
        );
    }
    assert_eq!(
        snapshot(&core),
        before,
        "a refused preview changed something"
    );
    // The CLI acts as the device user: a Member, refused changes.
    assert!(ws
        .device_actor(pitchbar_core::audit::Surface::Cli)
        .unwrap()
        .require_manage()
        .is_err());
    assert!(matches!(
        ws.set_device_user(&ws.actor().unwrap(), &carol.id),
        Err(Error::Forbidden(m)) if m.contains("Only an Owner")
    ));

    // An Admin device user previews Admins and Members, not Owners.
    let conn = core.store().conn();
    conn.execute(
        "UPDATE setting SET value = ?1 WHERE key = 'device_member_id'",
        [&admin.id],
    )
    .unwrap();
    drop(conn);
    assert_eq!(session(&core).active.id, member.id);
    assert!(ws.switch_to(&admin.id).is_ok());
    assert!(ws.switch_to(&owner2.id).is_err());
    // A preview above the device user (its role lowered since) falls back to the device user.
    let conn = core.store().conn();
    conn.execute(
        "UPDATE setting SET value = ?1 WHERE key = 'active_member_id'",
        [&owner2.id],
    )
    .unwrap();
    drop(conn);
    assert_eq!(session(&core).active.id, admin.id);

    // The device user cannot be removed, even by an Owner previewed from an Owner's computer.
    let conn = core.store().conn();
    conn.execute(
        "UPDATE setting SET value = ?1 WHERE key = 'device_member_id'",
        [&carol.id],
    )
    .unwrap();
    drop(conn);
    ws.switch_to(&owner2.id).unwrap();
    let err = ws
        .remove_member(&ws.actor().unwrap(), &carol.id)
        .unwrap_err();
    assert!(
        matches!(&err, Error::Conflict(m) if m.contains("uses the app on this computer")),
        "{err}"
    );
}
