//! Webhook events into notifications: each target's unseen events (its cursor over
//! `webhook_event`) become the notices it wants, written to `notify_outbox` in the same
//! transaction that moves the cursor.

use rusqlite::{params, OptionalExtension, Transaction};
use serde_json::Value;

use super::format::{Notice, Said, LAST_MESSAGES};
use super::targets::TargetRow;
use crate::error::{Error, Result};

/// Events read per target per pass.
const EVENT_BATCH: i64 = 256;

/// Turns the target's unseen events into outbox rows and moves its cursor past them, in one
/// transaction. Returns whether more events wait.
pub(super) fn enqueue_events(tx: &Transaction<'_>, target: &TargetRow, now: i64) -> Result<bool> {
    let events: Vec<(i64, String, Vec<u8>)> = {
        let mut stmt = tx.prepare_cached(
            "SELECT rowid, type, payload FROM webhook_event WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![target.cursor, EVENT_BATCH], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let Some(last) = events.last().map(|e| e.0) else {
        return Ok(false);
    };
    for (_, event_type, payload) in &events {
        let Ok(payload) = serde_json::from_slice::<Value>(payload) else {
            continue;
        };
        if let Some(notice) = notice_for(tx, target, event_type, &payload["data"])? {
            insert_outbox(tx, &target.provider, &notice, now)?;
        }
    }
    tx.execute(
        "UPDATE notify_target SET event_cursor = ?2 WHERE provider = ?1",
        params![target.provider, last],
    )?;
    Ok(events.len() as i64 == EVENT_BATCH)
}

pub(crate) fn insert_outbox(
    tx: &Transaction<'_>,
    provider: &str,
    notice: &Notice,
    now: i64,
) -> Result<String> {
    let id = crate::ids::new_id();
    let body = serde_json::to_string(notice)
        .map_err(|_| Error::Internal("A notification could not be written.".into()))?;
    tx.execute(
        "INSERT INTO notify_outbox (id, provider, kind, conversation_id, notice, status, next_attempt_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?6)",
        params![id, provider, notice.kind(), notice.conversation_id(), body, now],
    )?;
    Ok(id)
}

/// The notification an event makes for this target, if it wants one. Events about things
/// that do not exist here (test events' samples, undone writes) make none.
fn notice_for(
    tx: &Transaction<'_>,
    target: &TargetRow,
    event_type: &str,
    data: &Value,
) -> Result<Option<Notice>> {
    let t = &target.toggles;
    let s = |v: &Value| v.as_str().map(str::to_owned);
    let conversation_id = s(&data["conversation_id"]);
    Ok(match event_type {
        "lead.captured" if t.new_leads => {
            let Some(lead_id) = s(&data["lead_id"]) else {
                return Ok(None);
            };
            let found: Option<String> = tx
                .query_row(
                    "SELECT a.lead_fields FROM lead l JOIN agent a ON a.id = l.agent_id WHERE l.id = ?1",
                    [&lead_id],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(defined) = found else {
                return Ok(None);
            };
            // Labels in the agent's order; fields it does not define keep their key.
            let defined: Vec<Value> = serde_json::from_str(&defined).unwrap_or_default();
            let values = data["fields"].as_object().cloned().unwrap_or_default();
            let mut fields = Vec::new();
            for d in &defined {
                if let Some(key) = d["key"].as_str() {
                    if let Some(v) = values.get(key).and_then(shown_value) {
                        fields.push((d["label"].as_str().unwrap_or(key).to_owned(), v));
                    }
                }
            }
            for (key, v) in &values {
                if !defined.iter().any(|d| d["key"].as_str() == Some(key)) {
                    if let Some(v) = shown_value(v) {
                        fields.push((key.clone(), v));
                    }
                }
            }
            Some(Notice::Lead {
                lead_id,
                conversation_id,
                agent: agent_name(tx, data["agent_id"].as_str())?,
                name: s(&data["name"]),
                email: s(&data["email"]),
                phone: s(&data["phone"]),
                fields,
            })
        }
        "conversation.started" if t.new_conversations => {
            let Some(id) = conversation_id.filter(|id| conversation_exists(tx, id)) else {
                return Ok(None);
            };
            Some(Notice::Started {
                conversation_id: id,
                agent: agent_name(tx, data["agent_id"].as_str())?,
                visitor: visitor_name(&data["visitor"]),
            })
        }
        "conversation.routed" if t.escalations => {
            let Some(id) = conversation_id.filter(|id| conversation_exists(tx, id)) else {
                return Ok(None);
            };
            let mut stmt = tx.prepare_cached(
                "SELECT direction, text FROM message WHERE conversation_id = ?1
                 ORDER BY created_at DESC, rowid DESC LIMIT ?2",
            )?;
            let mut last_messages: Vec<Said> = stmt
                .query_map(params![id, LAST_MESSAGES as i64], |r| {
                    Ok(Said {
                        direction: r.get(0)?,
                        text: r.get(1)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            last_messages.reverse();
            Some(Notice::Routed {
                conversation_id: id,
                agent: agent_name(tx, data["agent_id"].as_str())?,
                visitor: visitor_name(&data["visitor"]),
                reason: s(&data["reason"]),
                last_messages,
            })
        }
        "conversation.message" if t.all_messages => {
            let Some(id) = conversation_id.filter(|id| conversation_exists(tx, id)) else {
                return Ok(None);
            };
            Some(Notice::Message {
                conversation_id: id,
                visitor: visitor_name(&data["visitor"]),
                said: Said {
                    direction: s(&data["direction"]).unwrap_or_else(|| "inbound".into()),
                    text: s(&data["text"]).unwrap_or_default(),
                },
            })
        }
        _ => None,
    })
}

fn shown_value(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(true) => Some("Yes".into()),
        Value::Bool(false) => Some("No".into()),
        other => Some(other.to_string()),
    }
}

fn conversation_exists(tx: &Transaction<'_>, id: &str) -> bool {
    tx.query_row("SELECT 1 FROM conversation WHERE id = ?1", [id], |_| Ok(()))
        .is_ok()
}

fn agent_name(tx: &Transaction<'_>, id: Option<&str>) -> Result<String> {
    let Some(id) = id else {
        return Ok("Agent".into());
    };
    Ok(tx
        .query_row("SELECT name FROM agent WHERE id = ?1", [id], |r| r.get(0))
        .optional()?
        .unwrap_or_else(|| "Agent".into()))
}

fn visitor_name(v: &Value) -> String {
    v["name"]
        .as_str()
        .or(v["email"].as_str())
        .or(v["phone"].as_str())
        .unwrap_or("A visitor")
        .to_owned()
}
