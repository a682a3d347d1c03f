//! A workspace as most tests start from: a fresh data dir with its Owner, and a Member to be
//! refused.

use pitchbar_core::workspace::{Actor, MemberInput, Role};
use pitchbar_core::Core;

/// A Core on a fresh temp dir whose workspace "Acme" has Olivia as Owner (the actor).
pub fn owner_core() -> (tempfile::TempDir, Core, Actor) {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path()).unwrap();
    let actor = set_up_owner(&core);
    (dir, core, actor)
}

/// Sets up workspace "Acme" on `core` with Olivia as Owner and returns her as the actor.
pub fn set_up_owner(core: &Core) -> Actor {
    core.workspaces()
        .set_up(
            "Acme",
            member_input("Olivia Owner", "olivia@acme.test", Role::Owner),
        )
        .unwrap();
    core.workspaces().actor().unwrap()
}

pub fn member_input(name: &str, email: &str, role: Role) -> MemberInput {
    MemberInput {
        name: name.into(),
        email: email.into(),
        role,
    }
}

/// Adds Mia as a Member and returns her as an actor; the session stays the Owner's.
pub fn member_actor(core: &Core, owner: &Actor) -> Actor {
    let m = core
        .workspaces()
        .add_member(
            owner,
            member_input("Mia Member", "mia@acme.test", Role::Member),
        )
        .unwrap();
    core.workspaces().switch_to(&m.id).unwrap();
    let actor = core.workspaces().actor().unwrap();
    core.workspaces().switch_to(&owner.member().id).unwrap();
    actor
}
