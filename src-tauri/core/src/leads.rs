//! Leads: capturing one (validated against its agent's fields), the admin lead list (keyset
//! paged, newest first) and changing one. Every write fires its webhook event.

use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row, Transaction};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use specta::Type;

use crate::agents::{self, Agent};
use crate::clock::{parse_time, rfc3339_ms, unix_ms};
use crate::error::{Error, Result};
use crate::notices::{self, NoticeKind};
use crate::outbox::{Hub, Outbox};
use crate::store::Store;
use crate::webhooks::events::{custom_fields, CustomFields, LeadData, LeadUpdatedData};
use crate::webhooks::{EventData, Payload};

pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 500;
const MAX_TEXT: usize = 2_000;

#[derive(Debug, Clone, PartialEq, Serialize, Type)]
pub struct Lead {
    pub id: String,
    pub agent_id: String,
    pub conversation_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub fields: CustomFields,
    pub created_at: String,
    pub updated_at: String,
}

/// A submitted lead form. `agent_id` left out means the default agent.
#[derive(Debug, Clone, Default, Deserialize, Type)]
#[serde(deny_unknown_fields)]
pub struct LeadInput {
    #[serde(default)]
    pub agent_id: Option<String>,
    #[serde(default)]
    pub conversation_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub fields: Map<String, Value>,
}

#[derive(Debug, Clone, Default, Deserialize, Type)]
pub struct LeadQuery {
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
    /// RFC 3339, inclusive: only leads captured from then on.
    #[serde(default)]
    pub since: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Type)]
pub struct LeadPage {
    pub leads: Vec<Lead>,
    /// Pass back as `cursor` for the next (older) page; `null` at the end.
    pub next_cursor: Option<String>,
}

/// The lead service over the store and the webhook outbox.
pub struct Leads<'a> {
    pub(crate) store: &'a Store,
    pub(crate) hub: &'a Hub,
}

impl Leads<'_> {
    /// Stores a lead and fires `lead.captured`; both happen or neither.
    pub fn capture(&self, input: LeadInput) -> Result<Lead> {
        let now = unix_ms();
        let id = crate::ids::new_id();
        let lead = self.store.write(|tx| {
            let conversation = match text(input.conversation_id, "conversation_id")? {
                None => None,
                Some(cid) => Some(conversation_agent(tx, &cid)?),
            };
            let agent_id = text(input.agent_id, "agent_id")?
                .or_else(|| conversation.as_ref().map(|(_, a)| a.clone()));
            let agent = agents::resolve(tx, agent_id.as_deref())?;
            if let Some((cid, owner)) = &conversation {
                if *owner != agent.id {
                    return Err(Error::invalid(format!(
                        "The conversation \"{cid}\" belongs to another agent than \"{}\". \
                         Leave agent_id out to use the conversation's agent.",
                        agent.id
                    )));
                }
            }
            let lead = Lead {
                id: id.clone(),
                agent_id: agent.id.clone(),
                conversation_id: conversation.map(|(cid, _)| cid),
                name: text(input.name, "name")?,
                email: email(input.email)?,
                phone: text(input.phone, "phone")?,
                fields: check_fields(&agent, input.fields, true)?,
                created_at: rfc3339_ms(now),
                updated_at: rfc3339_ms(now),
            };
            if lead.name.is_none() && lead.email.is_none() && lead.phone.is_none() {
                return Err(Error::invalid(
                    "A lead needs at least a name, an email or a phone number.",
                ));
            }
            tx.execute(
                "INSERT INTO lead (id, agent_id, conversation_id, name, email, phone, fields, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
                params![
                    lead.id,
                    lead.agent_id,
                    lead.conversation_id,
                    lead.name,
                    lead.email,
                    lead.phone,
                    json(&lead.fields),
                    now
                ],
            )?;
            Ok(lead)
        })?;
        let payload = Payload::now(EventData::LeadCaptured(lead_data(&lead)));
        fire_or_undo(self.store, self.hub, &payload, |tx| {
            tx.execute("DELETE FROM lead WHERE id = ?1", [&id])?;
            Ok(())
        })?;
        // Once the lead stands (its event fired): a notice, for those who want one per lead.
        let who = [&lead.name, &lead.email, &lead.phone]
            .into_iter()
            .flatten()
            .next()
            .cloned()
            .unwrap_or_default();
        let told = self.store.write(|tx| {
            notices::raise_if_wanted(
                tx,
                NoticeKind::LeadCaptured,
                &lead.id,
                &format!("New lead: {who}"),
                &[lead.email.as_deref(), lead.phone.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" · "),
                "leads",
            )
        });
        if let Err(err) = told {
            tracing::warn!(error = %err, "the new lead's notice could not be written");
        }
        Ok(lead)
    }

    pub fn get(&self, id: &str) -> Result<Lead> {
        find(&self.store.conn(), id)?.ok_or_else(|| not_found(id))
    }

    /// The admin lead list: newest first; the cursor continues strictly after the last row.
    pub fn list(&self, query: &LeadQuery) -> Result<LeadPage> {
        let limit = query.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
        let mut wheres = Vec::new();
        let mut args = Vec::new();
        if let Some(since) = &query.since {
            wheres.push("created_at >= ?");
            args.push(SqlValue::Integer(parse_time(since)?));
        }
        if let Some(cursor) = &query.cursor {
            let (at, id) = parse_cursor(cursor)?;
            wheres.push("(created_at < ? OR (created_at = ? AND id < ?))");
            args.extend([
                SqlValue::Integer(at),
                SqlValue::Integer(at),
                SqlValue::Text(id),
            ]);
        }
        let where_sql = if wheres.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", wheres.join(" AND "))
        };
        args.push(SqlValue::Integer(i64::from(limit) + 1));
        let sql = format!(
            "SELECT {COLUMNS} FROM lead {where_sql} ORDER BY created_at DESC, id DESC LIMIT ?"
        );
        let conn = self.store.conn();
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows: Vec<(Lead, i64)> = stmt
            .query_map(params_from_iter(args), |r| {
                Ok((lead_from_row(r)?, r.get(9)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let next_cursor = if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            rows.last().map(|(lead, at)| format!("{at}.{}", lead.id))
        } else {
            None
        };
        Ok(LeadPage {
            leads: rows.into_iter().map(|(lead, _)| lead).collect(),
            next_cursor,
        })
    }

    /// Changes a lead: `name`, `email`, `phone` (a value or `null`) and `fields` (merged by
    /// key). Fires `lead.updated` with the changed keys, when any changed.
    pub fn update(&self, id: &str, patch: Map<String, Value>) -> Result<Lead> {
        let mut before = None;
        let (lead, changed) = self.store.write(|tx| {
            let old = find(tx, id)?.ok_or_else(|| not_found(id))?;
            let agent = agents::find(tx, &old.agent_id)?
                .ok_or_else(|| Error::Internal("The lead's agent is missing.".into()))?;
            let mut lead = old.clone();
            for (key, value) in patch {
                match key.as_str() {
                    "name" => lead.name = text(opt_string(value, "name")?, "name")?,
                    "email" => lead.email = email(opt_string(value, "email")?)?,
                    "phone" => lead.phone = text(opt_string(value, "phone")?, "phone")?,
                    "fields" => {
                        let Value::Object(map) = value else {
                            return Err(Error::invalid(
                                "\"fields\" must be an object of custom field values by key.",
                            ));
                        };
                        for (k, v) in check_fields(&agent, map, false)? {
                            lead.fields.insert(k, v);
                        }
                    }
                    other => {
                        let shown: String = other.chars().take(40).collect();
                        return Err(Error::invalid(format!(
                            "\"{shown}\" cannot be changed. A lead's name, email, phone and fields can."
                        )));
                    }
                }
            }
            let changed = changed_keys(&old, &lead);
            if !changed.is_empty() {
                lead.updated_at = rfc3339_ms(unix_ms());
                tx.execute(
                    "UPDATE lead SET name = ?2, email = ?3, phone = ?4, fields = ?5, updated_at = ?6 WHERE id = ?1",
                    params![id, lead.name, lead.email, lead.phone, json(&lead.fields), unix_ms()],
                )?;
                before = Some(old);
            }
            Ok((lead, changed))
        })?;
        if let Some(old) = before {
            let payload = Payload::now(EventData::LeadUpdated(LeadUpdatedData {
                lead: lead_data(&lead),
                changed,
            }));
            fire_or_undo(self.store, self.hub, &payload, |tx| {
                tx.execute(
                    "UPDATE lead SET name = ?2, email = ?3, phone = ?4, fields = ?5 WHERE id = ?1",
                    params![id, old.name, old.email, old.phone, json(&old.fields)],
                )?;
                Ok(())
            })?;
        }
        Ok(lead)
    }
}

/// Fires `payload`; if the outbox refuses it, `undo` takes back the write it announces, so a
/// row never exists without its event.
pub(crate) fn fire_or_undo(
    store: &Store,
    hub: &Hub,
    payload: &Payload,
    undo: impl FnOnce(&Transaction<'_>) -> Result<()>,
) -> Result<()> {
    if let Err(err) = (Outbox { store, hub }).fire(payload) {
        if let Err(undo_err) = store.write(undo) {
            tracing::error!(error = %undo_err, "could not take back a write whose event failed");
        }
        return Err(err);
    }
    Ok(())
}

/// `value` without the spaces around it: the characters JSON Schema's `\s` matches (so
/// openapi.json's "not blank" pattern, `\S`, and the server agree on what is blank).
pub(crate) fn trim_blank(value: &str) -> &str {
    value.trim_matches(|c: char| (c.is_whitespace() && c != '\u{85}') || c == '\u{feff}')
}

/// A trimmed text value, `None` when blank, refused when too long.
pub(crate) fn text(value: Option<String>, what: &str) -> Result<Option<String>> {
    let Some(value) = value else { return Ok(None) };
    let value = trim_blank(&value);
    if value.chars().count() > MAX_TEXT {
        return Err(Error::invalid(format!(
            "\"{what}\" is too long: keep it to {MAX_TEXT} characters."
        )));
    }
    Ok((!value.is_empty()).then(|| value.to_owned()))
}

pub(crate) fn email(value: Option<String>) -> Result<Option<String>> {
    let value = text(value, "email")?;
    if let Some(email) = &value {
        let plausible = email.chars().count() <= 254
            && !email.contains(char::is_whitespace)
            && email
                .split_once('@')
                .is_some_and(|(user, host)| !user.is_empty() && host.contains('.'));
        if !plausible {
            let shown: String = email.chars().take(60).collect();
            return Err(Error::invalid(format!(
                "\"{shown}\" is not an email address, like alex@example.com."
            )));
        }
    }
    Ok(value)
}

fn opt_string(value: Value, what: &str) -> Result<Option<String>> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        _ => Err(Error::invalid(format!("\"{what}\" must be text or null."))),
    }
}

/// Checks submitted custom fields against the agent's: unknown keys are refused with the list
/// of defined ones; on capture (`complete`) every required field must have a value.
fn check_fields(
    agent: &Agent,
    submitted: Map<String, Value>,
    complete: bool,
) -> Result<CustomFields> {
    let defined: Vec<&str> = agent.lead_fields.iter().map(|f| f.key.as_str()).collect();
    let mut unknown: Vec<&str> = submitted
        .keys()
        .map(String::as_str)
        .filter(|k| !defined.contains(k))
        .collect();
    if !unknown.is_empty() {
        unknown.sort_unstable();
        let list = if defined.is_empty() {
            "it defines no custom fields".to_owned()
        } else {
            format!("its fields are: {}", defined.join(", "))
        };
        let shown: Vec<String> = unknown
            .iter()
            .take(5)
            .map(|k| format!("\"{}\"", k.chars().take(40).collect::<String>()))
            .collect();
        return Err(Error::invalid(format!(
            "The agent \"{}\" has no field {}; {list}.",
            agent.name,
            shown.join(", ")
        )));
    }
    for (key, value) in &submitted {
        if matches!(value, Value::String(s) if s.chars().count() > MAX_TEXT) {
            return Err(Error::invalid(format!(
                "The custom field \"{key}\" is too long: keep it to {MAX_TEXT} characters."
            )));
        }
    }
    let fields = if complete {
        custom_fields(defined.iter().copied(), submitted)?
    } else {
        custom_fields([], submitted)?
    };
    let missing: Vec<&str> = agent
        .lead_fields
        .iter()
        .filter(|f| f.required)
        .filter(|f| {
            (complete || fields.contains_key(&f.key))
                && fields.get(&f.key).is_none_or(Value::is_null)
        })
        .map(|f| f.label.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(Error::invalid(format!(
            "The agent \"{}\" requires a value for: {}.",
            agent.name,
            missing.join(", ")
        )));
    }
    Ok(fields)
}

fn changed_keys(old: &Lead, new: &Lead) -> Vec<String> {
    let mut changed = Vec::new();
    for (key, a, b) in [
        ("name", &old.name, &new.name),
        ("email", &old.email, &new.email),
        ("phone", &old.phone, &new.phone),
    ] {
        if a != b {
            changed.push(key.to_owned());
        }
    }
    for (key, value) in &new.fields {
        if old.fields.get(key) != Some(value) {
            changed.push(format!("fields.{key}"));
        }
    }
    changed
}

/// The conversation `id` and its agent, refused as invalid input when unknown.
fn conversation_agent(conn: &Connection, id: &str) -> Result<(String, String)> {
    conn.query_row(
        "SELECT id, agent_id FROM conversation WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?
    .ok_or_else(|| {
        let shown: String = id.chars().take(40).collect();
        Error::invalid(format!("There is no conversation \"{shown}\"."))
    })
}

pub(crate) fn lead_data(lead: &Lead) -> LeadData {
    LeadData {
        lead_id: ulid(&lead.id),
        agent_id: ulid(&lead.agent_id),
        conversation_id: lead.conversation_id.as_deref().map(ulid),
        name: lead.name.clone(),
        email: lead.email.clone(),
        phone: lead.phone.clone(),
        fields: lead.fields.clone(),
    }
}

/// IDs in the store are ULIDs this crate made.
pub(crate) fn ulid(id: &str) -> ulid::Ulid {
    id.parse().unwrap_or_default()
}

pub(crate) fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "{}".into())
}

const COLUMNS: &str =
    "id, agent_id, conversation_id, name, email, phone, fields, created_at, updated_at, created_at";

fn find(conn: &Connection, id: &str) -> Result<Option<Lead>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM lead WHERE id = ?1"),
        [id],
        lead_from_row,
    )
    .optional()
    .map_err(Into::into)
}

fn lead_from_row(row: &Row<'_>) -> rusqlite::Result<Lead> {
    let fields: String = row.get(6)?;
    Ok(Lead {
        id: row.get(0)?,
        agent_id: row.get(1)?,
        conversation_id: row.get(2)?,
        name: row.get(3)?,
        email: row.get(4)?,
        phone: row.get(5)?,
        fields: serde_json::from_str(&fields).unwrap_or_default(),
        created_at: rfc3339_ms(row.get(7)?),
        updated_at: rfc3339_ms(row.get(8)?),
    })
}

fn parse_cursor(cursor: &str) -> Result<(i64, String)> {
    cursor
        .split_once('.')
        .and_then(|(at, id)| Some((at.parse().ok()?, id.to_owned())))
        .filter(|(_, id)| id.parse::<ulid::Ulid>().is_ok())
        .ok_or_else(|| {
            Error::invalid("The cursor is not one a lead page returned. Start again without it.")
        })
}

fn not_found(id: &str) -> Error {
    let shown: String = id.chars().take(40).collect();
    Error::NotFound(format!("There is no lead \"{shown}\"."))
}
