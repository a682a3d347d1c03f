//! Agents and their custom lead fields on a real SQLite file: checks, the default agent, and
//! that a Member changes nothing.

mod support;

use pitchbar_core::agents::{AgentInput, LeadField, DEFAULT_AGENT_NAME, MAX_LEAD_FIELDS};
use pitchbar_core::workspace::{Actor, Role};
use pitchbar_core::{Core, Error};
use support::workspace::{add_member, owner_core, switch_to_role};

/// A workspace with an Owner (active) and a Member.
fn set_up() -> (tempfile::TempDir, Core, Actor) {
    let (dir, core, owner) = owner_core();
    add_member(&core, &owner);
    (dir, core, owner)
}

fn member(core: &Core) -> Actor {
    switch_to_role(core, Role::Member)
}

fn field(key: &str, label: &str, required: bool) -> LeadField {
    LeadField {
        key: key.into(),
        label: label.into(),
        required,
    }
}

fn agent(name: &str, fields: Vec<LeadField>) -> AgentInput {
    AgentInput {
        name: name.into(),
        lead_fields: fields,
    }
}

fn count(core: &Core) -> i64 {
    core.store()
        .conn()
        .query_row("SELECT count(*) FROM agent", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_fresh_workspace_has_a_default_agent() {
    let (_dir, core, _) = set_up();
    let agents = core.agents().list().unwrap();
    assert_eq!(agents.len(), 1);
    assert_eq!(agents[0].name, DEFAULT_AGENT_NAME);
    assert_eq!(core.agents().default_agent().unwrap(), agents[0]);
    assert_eq!(core.agents().list().unwrap().len(), 1, "made once");
}

#[test]
fn agents_are_created_updated_and_deleted() {
    let (_dir, core, owner) = set_up();
    let made = core
        .agents()
        .create(
            &owner,
            agent(" Sales ", vec![field("team_size", " Team size ", true)]),
        )
        .unwrap();
    assert_eq!(made.name, "Sales");
    assert_eq!(
        made.lead_fields,
        vec![field("team_size", "Team size", true)]
    );
    assert_eq!(core.agents().get(&made.id).unwrap(), made);
    let changed = core
        .agents()
        .update(&owner, &made.id, agent("Sales team", vec![]))
        .unwrap();
    assert_eq!(changed.name, "Sales team");
    assert!(changed.lead_fields.is_empty());
    core.agents().delete(&owner, &made.id).unwrap();
    assert!(matches!(
        core.agents().get(&made.id),
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        core.agents().update(&owner, &made.id, agent("X", vec![])),
        Err(Error::NotFound(_))
    ));
}

#[test]
fn bad_fields_are_refused_and_nothing_is_written() {
    let (_dir, core, owner) = set_up();
    core.agents().list().unwrap();
    let before = count(&core);
    let too_many = (0..=MAX_LEAD_FIELDS)
        .map(|i| field(&format!("f{i}"), "F", false))
        .collect();
    let cases = [
        agent("", vec![]),
        agent("A", vec![field("Company", "Company", false)]),
        agent("A", vec![field("company size", "Size", false)]),
        agent("A", vec![field("1st", "First", false)]),
        agent("A", vec![field("company", "  ", false)]),
        agent(
            "A",
            vec![field("company", "C", false), field("company", "D", false)],
        ),
        agent("A", vec![field("email", "Email", false)]),
        agent("A", too_many),
    ];
    for case in cases {
        let shown = format!("{case:?}");
        match core.agents().create(&owner, case) {
            Err(Error::InvalidInput(message)) => assert!(!message.is_empty()),
            other => panic!("{shown}: {other:?}"),
        }
    }
    assert_eq!(count(&core), before);
}

#[test]
fn the_last_agent_stays() {
    let (_dir, core, owner) = set_up();
    let only = core.agents().default_agent().unwrap();
    assert!(matches!(
        core.agents().delete(&owner, &only.id),
        Err(Error::Conflict(_))
    ));
    assert_eq!(count(&core), 1);
}

#[test]
fn a_member_changes_nothing() {
    let (_dir, core, owner) = set_up();
    let made = core
        .agents()
        .create(
            &owner,
            agent("Sales", vec![field("budget", "Budget", false)]),
        )
        .unwrap();
    let mo = member(&core);
    let before = core.agents().list().unwrap();
    let attempts = [
        core.agents()
            .create(&mo, agent("Support", vec![]))
            .map(|_| ()),
        core.agents()
            .update(&mo, &made.id, agent("Renamed", vec![]))
            .map(|_| ()),
        core.agents().delete(&mo, &made.id),
    ];
    for attempt in attempts {
        assert!(matches!(attempt, Err(Error::Forbidden(_))), "{attempt:?}");
    }
    assert_eq!(core.agents().list().unwrap(), before, "nothing written");
}
