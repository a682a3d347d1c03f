//! The one Owner set-up: a Core in a temp dir (or a given one) whose workspace "Acme" has Ada
//! as Owner and as the session's actor, and Mia, a Member to be refused.

use std::path::Path;

use pitchbar_core::workspace::{Actor, Member, MemberInput, Role};
use pitchbar_core::Core;

/// A Core on a fresh temp dir whose workspace "Acme" has Ada as Owner (the actor).
pub fn owner_core() -> (tempfile::TempDir, Core, Actor) {
    let dir = tempfile::tempdir().unwrap();
    let (core, actor) = owner_core_at(dir.path());
    (dir, core, actor)
}

/// The same on `dir`.
pub fn owner_core_at(dir: &Path) -> (Core, Actor) {
    let core = Core::open(dir).unwrap();
    let actor = set_up_owner(&core);
    (core, actor)
}

/// Sets up workspace "Acme" on `core` with Ada as Owner and returns her as the actor.
pub fn set_up_owner(core: &Core) -> Actor {
    core.workspaces()
        .set_up(
            "Acme",
            member_input("Ada Owner", "ada@acme.test", Role::Owner),
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

/// Adds Mia as a Member; the session stays the Owner's.
pub fn add_member(core: &Core, owner: &Actor) -> Member {
    core.workspaces()
        .add_member(
            owner,
            member_input("Mia Member", "mia@acme.test", Role::Member),
        )
        .unwrap()
}

/// Adds Mia as a Member and returns her as an actor; the session stays the Owner's.
pub fn member_actor(core: &Core, owner: &Actor) -> Actor {
    let m = add_member(core, owner);
    core.workspaces().switch_to(&m.id).unwrap();
    let actor = core.workspaces().actor().unwrap();
    core.workspaces().switch_to(&owner.member().id).unwrap();
    actor
}

/// Makes the workspace's first member with `role` the session's actor, and returns it.
pub fn switch_to_role(core: &Core, role: Role) -> Actor {
    let session = core.workspaces().session().unwrap().unwrap();
    let id = session
        .members
        .iter()
        .find(|m| m.role == role)
        .unwrap()
        .id
        .clone();
    core.workspaces().switch_to(&id).unwrap();
    core.workspaces().actor().unwrap()
}
