//! Agents and the custom lead fields their lead forms ask for (Settings › Agents).

use std::collections::HashSet;

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use specta::Type;

use crate::audit::{self, Area};
use crate::clock::{rfc3339_ms, unix_ms};
use crate::error::{Error, Result};
use crate::store::Store;
use crate::workspace::Actor;

pub const MAX_LEAD_FIELDS: usize = 20;
const MAX_KEY_LEN: usize = 40;
const MAX_NAME_LEN: usize = 100;
pub const DEFAULT_AGENT_NAME: &str = "Website agent";

/// One custom field of an agent's lead form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct LeadField {
    /// `snake_case`: the key under `fields` in the lead and its webhooks.
    pub key: String,
    pub label: String,
    #[serde(default)]
    pub required: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type)]
pub struct Agent {
    pub id: String,
    pub name: String,
    pub lead_fields: Vec<LeadField>,
    pub created_at: String,
    pub updated_at: String,
}

/// What Settings submits when adding or editing an agent.
#[derive(Debug, Clone, Default, Deserialize, Type)]
pub struct AgentInput {
    pub name: String,
    #[serde(default)]
    pub lead_fields: Vec<LeadField>,
}

/// The agent service over the store.
pub struct Agents<'a> {
    pub(crate) store: &'a Store,
}

impl Agents<'_> {
    /// Every agent, oldest first. A fresh workspace gets its default agent here.
    pub fn list(&self) -> Result<Vec<Agent>> {
        let conn = self.store.conn();
        ensure_default(&conn)?;
        let mut stmt = conn.prepare_cached(
            "SELECT id, name, lead_fields, created_at, updated_at FROM agent ORDER BY created_at, id",
        )?;
        let rows = stmt.query_map([], agent_from_row)?;
        rows.collect::<rusqlite::Result<_>>().map_err(Into::into)
    }

    pub fn get(&self, id: &str) -> Result<Agent> {
        let conn = self.store.conn();
        ensure_default(&conn)?;
        find(&conn, id)?.ok_or_else(|| not_found(id))
    }

    /// The agent leads and conversations go to when the caller names none: the oldest.
    pub fn default_agent(&self) -> Result<Agent> {
        let conn = self.store.conn();
        ensure_default(&conn)?;
        default_of(&conn)
    }

    pub fn create(&self, actor: &Actor, input: AgentInput) -> Result<Agent> {
        actor.require_manage()?;
        let (name, fields) = check(input)?;
        let id = crate::ids::new_id();
        let now = unix_ms();
        self.store.write(|tx| {
            // The default agent stays the oldest, so it remains the default.
            ensure_default(tx)?;
            tx.execute(
                "INSERT INTO agent (id, name, lead_fields, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
                params![id, name, fields_json(&fields), now],
            )?;
            audit::record(
                tx,
                actor,
                Area::Agents,
                "agent.created",
                &name,
                format!("Added the agent “{name}” with {} lead fields.", fields.len()),
            )?;
            find(tx, &id)?.ok_or_else(|| not_found(&id))
        })
    }

    /// Changes name and fields. Leads already captured keep the fields they were captured with.
    pub fn update(&self, actor: &Actor, id: &str, input: AgentInput) -> Result<Agent> {
        actor.require_manage()?;
        let (name, fields) = check(input)?;
        self.store.write(|tx| {
            let before = find(tx, id)?.ok_or_else(|| not_found(id))?;
            let changed = tx.execute(
                "UPDATE agent SET name = ?2, lead_fields = ?3, updated_at = ?4 WHERE id = ?1",
                params![id, name, fields_json(&fields), unix_ms()],
            )?;
            if changed == 0 {
                return Err(not_found(id));
            }
            audit::record(
                tx,
                actor,
                Area::Agents,
                "agent.updated",
                &name,
                if before.name == name {
                    format!("Changed the agent “{name}”: {} lead fields.", fields.len())
                } else {
                    format!(
                        "Renamed the agent “{}” to “{name}”: {} lead fields.",
                        before.name,
                        fields.len()
                    )
                },
            )?;
            find(tx, id)?.ok_or_else(|| not_found(id))
        })
    }

    /// Removes an agent that has no leads or conversations; the last one stays, so leads can
    /// always be taken.
    pub fn delete(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.require_manage()?;
        self.store.write(|tx| {
            let agent = find(tx, id)?.ok_or_else(|| not_found(id))?;
            let count: i64 = tx.query_row("SELECT count(*) FROM agent", [], |r| r.get(0))?;
            if count <= 1 {
                return Err(Error::Conflict(format!(
                    "\"{}\" is the only agent, and leads need one. Add another agent first.",
                    agent.name
                )));
            }
            let used: i64 = tx.query_row(
                "SELECT (SELECT count(*) FROM lead WHERE agent_id = ?1)
                      + (SELECT count(*) FROM conversation WHERE agent_id = ?1)",
                [id],
                |r| r.get(0),
            )?;
            if used > 0 {
                return Err(Error::Conflict(format!(
                    "\"{}\" has {used} leads and conversations, which would lose their agent. \
                     Keep it, or rename it instead.",
                    agent.name
                )));
            }
            tx.execute("DELETE FROM agent WHERE id = ?1", [id])?;
            audit::record(
                tx,
                actor,
                Area::Agents,
                "agent.deleted",
                &agent.name,
                format!("Deleted the agent “{}”.", agent.name),
            )
        })
    }
}

/// Makes the default agent when there is none (a fresh workspace).
pub(crate) fn ensure_default(conn: &Connection) -> Result<()> {
    let now = unix_ms();
    let fields = vec![LeadField {
        key: "company".into(),
        label: "Company".into(),
        required: false,
    }];
    conn.execute(
        "INSERT INTO agent (id, name, lead_fields, created_at, updated_at)
         SELECT ?1, ?2, ?3, ?4, ?4 WHERE NOT EXISTS (SELECT 1 FROM agent)",
        params![
            crate::ids::new_id(),
            DEFAULT_AGENT_NAME,
            fields_json(&fields),
            now
        ],
    )?;
    Ok(())
}

pub(crate) fn default_of(conn: &Connection) -> Result<Agent> {
    conn.query_row(
        "SELECT id, name, lead_fields, created_at, updated_at FROM agent ORDER BY created_at, id LIMIT 1",
        [],
        agent_from_row,
    )
    .optional()?
    .ok_or_else(|| Error::NotFound("There is no agent. Add one in Settings › Agents.".into()))
}

/// The agent `id`, or `None`.
pub(crate) fn find(conn: &Connection, id: &str) -> Result<Option<Agent>> {
    conn.query_row(
        "SELECT id, name, lead_fields, created_at, updated_at FROM agent WHERE id = ?1",
        [id],
        agent_from_row,
    )
    .optional()
    .map_err(Into::into)
}

/// The agent a caller named (or the default one), refused as invalid input when unknown.
pub(crate) fn resolve(conn: &Connection, agent_id: Option<&str>) -> Result<Agent> {
    ensure_default(conn)?;
    match agent_id.map(str::trim).filter(|s| !s.is_empty()) {
        None => default_of(conn),
        Some(id) => find(conn, id)?.ok_or_else(|| {
            let shown: String = id.chars().take(40).collect();
            Error::invalid(format!(
                "There is no agent \"{shown}\". Use the ID of an agent in Settings › Agents, \
                 or leave agent_id out to use the default agent."
            ))
        }),
    }
}

fn not_found(id: &str) -> Error {
    let shown: String = id.chars().take(40).collect();
    Error::NotFound(format!(
        "There is no agent \"{shown}\". It may have been deleted."
    ))
}

fn agent_from_row(row: &Row<'_>) -> rusqlite::Result<Agent> {
    let fields: String = row.get(2)?;
    Ok(Agent {
        id: row.get(0)?,
        name: row.get(1)?,
        // Written only by this module from checked values; an unreadable list shows as empty.
        lead_fields: serde_json::from_str(&fields).unwrap_or_default(),
        created_at: rfc3339_ms(row.get(3)?),
        updated_at: rfc3339_ms(row.get(4)?),
    })
}

fn fields_json(fields: &[LeadField]) -> String {
    serde_json::to_string(fields).unwrap_or_else(|_| "[]".into())
}

/// Checks and tidies an agent's name and fields.
fn check(input: AgentInput) -> Result<(String, Vec<LeadField>)> {
    let name = input.name.trim().to_owned();
    if name.is_empty() {
        return Err(Error::invalid("Give the agent a name."));
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(Error::invalid(format!(
            "The agent's name is too long: keep it to {MAX_NAME_LEN} characters."
        )));
    }
    if input.lead_fields.len() > MAX_LEAD_FIELDS {
        return Err(Error::invalid(format!(
            "An agent can ask for at most {MAX_LEAD_FIELDS} custom fields; this one has {}.",
            input.lead_fields.len()
        )));
    }
    let mut seen = HashSet::new();
    let mut fields = Vec::with_capacity(input.lead_fields.len());
    for field in input.lead_fields {
        let key = field.key.trim().to_owned();
        let label = field.label.trim().to_owned();
        if !is_snake_case(&key) {
            let shown: String = key.chars().take(40).collect();
            return Err(Error::invalid(format!(
                "\"{shown}\" is not a usable field key. Use lowercase letters, digits and \
                 underscores, starting with a letter (like company_size), up to {MAX_KEY_LEN} characters."
            )));
        }
        if matches!(key.as_str(), "name" | "email" | "phone") {
            return Err(Error::invalid(format!(
                "\"{key}\" is already a standard lead field; custom fields need another key."
            )));
        }
        if label.is_empty() {
            return Err(Error::invalid(format!(
                "The field \"{key}\" needs a label: what the visitor sees beside it."
            )));
        }
        if !seen.insert(key.clone()) {
            return Err(Error::invalid(format!(
                "The field key \"{key}\" is used twice. Each field needs its own key."
            )));
        }
        fields.push(LeadField {
            key,
            label,
            required: field.required,
        });
    }
    Ok((name, fields))
}

fn is_snake_case(key: &str) -> bool {
    let mut chars = key.chars();
    key.len() <= MAX_KEY_LEN
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
