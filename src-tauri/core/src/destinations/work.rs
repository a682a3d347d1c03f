//! What a queue item is about, read from the store when it is sent (so an update made
//! meanwhile goes out too): the lead with its fields, or the conversation with its transcript.

use rusqlite::{params, OptionalExtension};
use serde_json::{Map, Value};

use super::model::OurField;
use crate::error::Result;
use crate::webhooks::EventType;

/// A lead as the destinations read it.
#[derive(Debug, Clone)]
pub(crate) struct Lead {
    pub id: String,
    pub conversation_id: Option<String>,
    pub agent: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub fields: Map<String, Value>,
    pub created_at_ms: i64,
}

impl Lead {
    /// The value of one of our fields (`email`, `first_name`, `fields.<key>` …), if it has one.
    pub fn value(&self, key: &str) -> Option<Value> {
        let text = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::from(s.to_owned()))
        };
        match key {
            "name" => text(&self.name),
            "first_name" => self.split_name().0.map(Value::from),
            "last_name" => self.split_name().1.map(Value::from),
            "email" => text(&self.email),
            "phone" => text(&self.phone),
            "agent" => Some(Value::from(self.agent.clone())),
            _ => {
                let v = self.fields.get(key.strip_prefix("fields.")?)?;
                match v {
                    Value::Null => None,
                    Value::String(s) if s.trim().is_empty() => None,
                    other => Some(other.clone()),
                }
            }
        }
    }

    /// The name as first and last: the last word is the last name.
    pub fn split_name(&self) -> (Option<String>, Option<String>) {
        let name = self.name.as_deref().unwrap_or("").trim();
        match name.rsplit_once(char::is_whitespace) {
            Some((first, last)) => (Some(first.trim().to_owned()), Some(last.to_owned())),
            None if name.is_empty() => (None, None),
            None => (None, Some(name.to_owned())),
        }
    }

    /// The sample lead of "Send a test lead".
    pub fn sample(now_ms: i64) -> Self {
        let mut fields = Map::new();
        fields.insert("company".into(), Value::from("Acme (test lead)"));
        Lead {
            id: crate::ids::new_id(),
            conversation_id: None,
            agent: "Test".into(),
            name: Some("Alex Rivera".into()),
            email: Some("alex.rivera.test@example.com".into()),
            phone: Some("+1 415 555 0132".into()),
            fields,
            created_at_ms: now_ms,
        }
    }
}

/// One message of a transcript.
#[derive(Debug, Clone)]
pub(crate) struct Said {
    pub id: String,
    pub inbound: bool,
    pub text: String,
    pub at_ms: i64,
}

/// A conversation as the destinations read it.
#[derive(Debug, Clone)]
pub(crate) struct Conversation {
    pub id: String,
    pub agent: String,
    pub visitor_name: Option<String>,
    pub visitor_email: Option<String>,
    pub visitor_phone: Option<String>,
    pub route_reason: Option<String>,
    pub messages: Vec<Said>,
    pub created_at_ms: i64,
    /// The lead captured in it, if any.
    pub lead_id: Option<String>,
}

impl Conversation {
    pub fn visitor(&self) -> String {
        self.visitor_name
            .clone()
            .or_else(|| self.visitor_email.clone())
            .unwrap_or_else(|| "A visitor".into())
    }

    /// The transcript as plain text, one message per line.
    pub fn transcript(&self, upto: Option<&str>) -> String {
        let mut out = String::new();
        for m in &self.messages {
            let who = if m.inbound {
                self.visitor()
            } else {
                self.agent.clone()
            };
            out.push_str(&format!(
                "[{}] {who}: {}\n",
                crate::clock::rfc3339_ms(m.at_ms),
                m.text
            ));
            if upto == Some(m.id.as_str()) {
                break;
            }
        }
        out
    }
}

/// What one queue item asks for.
#[derive(Debug, Clone)]
pub(crate) enum Work {
    Lead(EventType, Lead),
    Conversation {
        event: EventType,
        conversation: Conversation,
        /// The message of a `conversation.message`.
        message: Option<Said>,
    },
}

/// The work of an event, or `None` when what it is about does not exist here (a test event's
/// sample, a deleted record): there is nothing to send.
pub(crate) fn load(
    conn: &rusqlite::Connection,
    event_type: EventType,
    payload: &Value,
) -> Result<Option<Work>> {
    let data = &payload["data"];
    let id = |k: &str| data[k].as_str().map(str::to_owned);
    match event_type {
        EventType::LeadCaptured | EventType::LeadUpdated => {
            let Some(lead_id) = id("lead_id") else {
                return Ok(None);
            };
            Ok(lead(conn, &lead_id)?.map(|l| Work::Lead(event_type, l)))
        }
        _ => {
            let Some(conversation_id) = id("conversation_id") else {
                return Ok(None);
            };
            let Some(conversation) = conversation(conn, &conversation_id)? else {
                return Ok(None);
            };
            let message = id("message_id")
                .and_then(|mid| conversation.messages.iter().find(|m| m.id == mid).cloned());
            if event_type == EventType::ConversationMessage && message.is_none() {
                return Ok(None);
            }
            Ok(Some(Work::Conversation {
                event: event_type,
                conversation,
                message,
            }))
        }
    }
}

pub(crate) fn lead(conn: &rusqlite::Connection, id: &str) -> Result<Option<Lead>> {
    Ok(conn
        .query_row(
            "SELECT l.id, l.conversation_id, a.name, l.name, l.email, l.phone, l.fields, l.created_at
             FROM lead l JOIN agent a ON a.id = l.agent_id WHERE l.id = ?1",
            [id],
            |r| {
                let fields: String = r.get(6)?;
                Ok(Lead {
                    id: r.get(0)?,
                    conversation_id: r.get(1)?,
                    agent: r.get(2)?,
                    name: r.get(3)?,
                    email: r.get(4)?,
                    phone: r.get(5)?,
                    fields: serde_json::from_str(&fields).unwrap_or_default(),
                    created_at_ms: r.get(7)?,
                })
            },
        )
        .optional()?)
}

fn conversation(conn: &rusqlite::Connection, id: &str) -> Result<Option<Conversation>> {
    let row: Option<(String, String, Option<String>, i64)> = conn
        .query_row(
            "SELECT a.name, c.visitor, c.route_reason, c.created_at
             FROM conversation c JOIN agent a ON a.id = c.agent_id WHERE c.id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let Some((agent, visitor, route_reason, created_at_ms)) = row else {
        return Ok(None);
    };
    let visitor: Value = serde_json::from_str(&visitor).unwrap_or_default();
    let text = |k: &str| {
        visitor[k]
            .as_str()
            .filter(|s| !s.trim().is_empty())
            .map(str::to_owned)
    };
    let mut stmt = conn.prepare_cached(
        "SELECT id, direction, text, created_at FROM message WHERE conversation_id = ?1
         ORDER BY created_at, id",
    )?;
    let messages = stmt
        .query_map(params![id], |r| {
            Ok(Said {
                id: r.get(0)?,
                inbound: r.get::<_, String>(1)? == "inbound",
                text: r.get(2)?,
                at_ms: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let lead_id: Option<String> = conn
        .query_row(
            "SELECT id FROM lead WHERE conversation_id = ?1 ORDER BY created_at DESC, id DESC LIMIT 1",
            [id],
            |r| r.get(0),
        )
        .optional()?;
    Ok(Some(Conversation {
        id: id.to_owned(),
        agent,
        visitor_name: text("name"),
        visitor_email: text("email"),
        visitor_phone: text("phone"),
        route_reason,
        messages,
        created_at_ms,
        lead_id,
    }))
}

/// Our fields that can be mapped: the lead's own, then every agent's custom fields (the default
/// agent's too, before it captured anything).
pub(crate) fn our_fields(conn: &rusqlite::Connection) -> Result<Vec<OurField>> {
    crate::agents::ensure_default(conn)?;
    let mut out: Vec<OurField> = [
        ("email", "Email"),
        ("name", "Full name"),
        ("first_name", "First name"),
        ("last_name", "Last name"),
        ("phone", "Phone"),
        ("agent", "Agent"),
    ]
    .iter()
    .map(|(k, l)| OurField {
        key: (*k).into(),
        label: (*l).into(),
    })
    .collect();
    let mut stmt = conn.prepare("SELECT lead_fields FROM agent ORDER BY created_at")?;
    let defined = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for list in defined {
        let list: Vec<Value> = serde_json::from_str(&list).unwrap_or_default();
        for f in list {
            let Some(key) = f["key"].as_str() else {
                continue;
            };
            let key = format!("fields.{key}");
            if out.iter().any(|o| o.key == key) {
                continue;
            }
            let label = f["label"].as_str().unwrap_or(&key[7..]).to_owned();
            out.push(OurField { key, label });
        }
    }
    Ok(out)
}
