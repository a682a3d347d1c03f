//! The webhook event catalog and the payloads deliveries carry: typed data per event, samples for
//! "Send test event", and the JSON Schema of each event type.
//!
//! Every payload is `{"event", "occurred_at", "data": {…}}`. Keys are stable: a value that is
//! not known is `null`, never absent, so receivers can rely on the shape (spec 002). The data
//! structs hold `Option`s for that reason and are serialized without skipping any field.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use specta::Type;
use time::OffsetDateTime;
use ulid::Ulid;

use crate::clock::rfc3339_utc_seconds;
use crate::error::{Error, Result};

/// The catalog of design.md. Wire names are the canonical ones; the UI mock-up of spec 001 and
/// the roadmap of spec 004 use older names, which [`EventType::from_str`] points to these.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Type,
)]
pub enum EventType {
    #[serde(rename = "lead.captured")]
    LeadCaptured,
    #[serde(rename = "lead.updated")]
    LeadUpdated,
    #[serde(rename = "conversation.started")]
    ConversationStarted,
    #[serde(rename = "conversation.message")]
    ConversationMessage,
    #[serde(rename = "conversation.routed")]
    ConversationRouted,
    #[serde(rename = "conversation.closed")]
    ConversationClosed,
}

impl EventType {
    /// In the order the UI lists them.
    pub const ALL: [EventType; 6] = [
        EventType::LeadCaptured,
        EventType::LeadUpdated,
        EventType::ConversationStarted,
        EventType::ConversationMessage,
        EventType::ConversationRouted,
        EventType::ConversationClosed,
    ];

    /// The wire name, as in the payload's `event` and the `X-Pitchbar-Event` header.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::LeadCaptured => "lead.captured",
            EventType::LeadUpdated => "lead.updated",
            EventType::ConversationStarted => "conversation.started",
            EventType::ConversationMessage => "conversation.message",
            EventType::ConversationRouted => "conversation.routed",
            EventType::ConversationClosed => "conversation.closed",
        }
    }

    /// One line for the UI: when the event fires.
    pub fn fires_when(self) -> &'static str {
        match self {
            EventType::LeadCaptured => "The lead form was submitted.",
            EventType::LeadUpdated => "A lead's fields changed.",
            EventType::ConversationStarted => "A visitor started a conversation.",
            EventType::ConversationMessage => {
                "A message was received or sent in a conversation (see data.direction)."
            }
            EventType::ConversationRouted => {
                "The conversation needs a human and was routed to the inbox."
            }
            EventType::ConversationClosed => "The conversation ended.",
        }
    }

    /// The JSON Schema (draft 2020-12) of this event's whole payload, as the UI shows it.
    pub fn schema_text(self) -> &'static str {
        match self {
            EventType::LeadCaptured => include_str!("schemas/lead.captured.json"),
            EventType::LeadUpdated => include_str!("schemas/lead.updated.json"),
            EventType::ConversationStarted => include_str!("schemas/conversation.started.json"),
            EventType::ConversationMessage => include_str!("schemas/conversation.message.json"),
            EventType::ConversationRouted => include_str!("schemas/conversation.routed.json"),
            EventType::ConversationClosed => include_str!("schemas/conversation.closed.json"),
        }
    }

    /// The name an older document used for this event, and which of them.
    fn from_older_name(name: &str) -> Option<EventType> {
        match name {
            "conversation.created" => Some(EventType::ConversationStarted),
            "message.received" | "message.sent" => Some(EventType::ConversationMessage),
            "escalation.triggered" | "conversation.escalated" => {
                Some(EventType::ConversationRouted)
            }
            _ => None,
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventType {
    type Err = Error;

    /// Exact wire names only. An older name (`message.received`, `escalation.triggered`, …) is
    /// refused too, but the message names its replacement: silently mapping it would hide that
    /// `message.received` and `message.sent` became one event.
    fn from_str(s: &str) -> Result<Self> {
        let name = s.trim();
        if let Some(found) = EventType::ALL.into_iter().find(|t| t.as_str() == name) {
            return Ok(found);
        }
        let valid = EventType::ALL.map(EventType::as_str).join(", ");
        let shown: String = name.chars().take(60).collect();
        let hint = match EventType::from_older_name(name) {
            Some(EventType::ConversationMessage) => format!(
                " (it is an older name: use \"{}\", whose data.direction tells received from sent)",
                EventType::ConversationMessage
            ),
            Some(current) => format!(" (it is an older name: use \"{current}\")"),
            None => String::new(),
        };
        Err(Error::invalid(format!(
            "\"{shown}\" is not a webhook event type{hint}. Valid event types: {valid}."
        )))
    }
}

/// One catalog entry, for the UI's event picker.
#[derive(Debug, Clone, Serialize, Type)]
pub struct EventInfo {
    pub event: EventType,
    pub fires_when: &'static str,
}

/// The catalog, in display order.
pub fn catalog() -> Vec<EventInfo> {
    EventType::ALL
        .into_iter()
        .map(|event| EventInfo {
            event,
            fires_when: event.fires_when(),
        })
        .collect()
}

/// The JSON Schema (draft 2020-12) of an event type's payload.
pub fn schema(event_type: EventType) -> Value {
    // Embedded at build time and parsed by the tests: a failure here is a broken build.
    serde_json::from_str(event_type.schema_text()).expect("embedded event schemas are valid JSON")
}

/// Custom lead fields, by key. Values are text, numbers, booleans or `null`.
pub type CustomFields = BTreeMap<String, Value>;

/// The `fields` object of a lead: every field the agent defines is present (`null` when the
/// visitor left it empty or blank), and submitted fields the agent does not define are kept, so
/// nothing a visitor typed is lost. Nested objects and arrays are refused: receivers (CRMs,
/// spreadsheets) expect flat values.
pub fn custom_fields<'a>(
    defined: impl IntoIterator<Item = &'a str>,
    submitted: serde_json::Map<String, Value>,
) -> Result<CustomFields> {
    let mut fields: CustomFields = defined
        .into_iter()
        .map(|key| (key.to_owned(), Value::Null))
        .collect();
    for (key, value) in submitted {
        let value = match value {
            Value::String(s) if s.trim().is_empty() => Value::Null,
            Value::Array(_) | Value::Object(_) => {
                return Err(Error::invalid(format!(
                    "The custom field \"{key}\" must be text, a number, true/false or empty, \
                     not a list or an object."
                )))
            }
            other => other,
        };
        fields.insert(key, value);
    }
    Ok(fields)
}

/// `lead.captured` data, as spec 002 prints it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeadData {
    pub lead_id: Ulid,
    pub agent_id: Ulid,
    /// The conversation that produced the lead; `null` for a lead submitted outside one.
    pub conversation_id: Option<Ulid>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Every custom field defined on the agent (see [`custom_fields`]).
    pub fields: CustomFields,
}

/// `lead.updated` data: the lead as it now is, and what changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeadUpdatedData {
    #[serde(flatten)]
    pub lead: LeadData,
    /// The keys whose values changed: `name`, `email`, `phone`, or `fields.<key>`.
    pub changed: Vec<String>,
}

/// The person on the other side of a conversation; what they have not told is `null`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Visitor {
    pub id: Ulid,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// What every conversation event carries; `conversation.started` carries only this.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConversationData {
    pub conversation_id: Ulid,
    pub agent_id: Ulid,
    pub visitor: Visitor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From the visitor (spec 001's `message.received`).
    Inbound,
    /// To the visitor, by the agent or a human (spec 001's `message.sent`).
    Outbound,
}

/// `conversation.message` data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessageData {
    #[serde(flatten)]
    pub conversation: ConversationData,
    pub message_id: Ulid,
    pub direction: Direction,
    pub text: String,
}

/// `conversation.routed` data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoutedData {
    #[serde(flatten)]
    pub conversation: ConversationData,
    /// Why a human is needed, as the agent or the API caller put it.
    pub reason: Option<String>,
}

/// `conversation.closed` data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClosedData {
    #[serde(flatten)]
    pub conversation: ConversationData,
    pub reason: Option<String>,
    /// Messages exchanged in the conversation, both directions.
    pub message_count: u64,
}

/// The data of one event; its variant decides the payload's `event`, so the two cannot disagree.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum EventData {
    LeadCaptured(LeadData),
    LeadUpdated(LeadUpdatedData),
    ConversationStarted(ConversationData),
    ConversationMessage(MessageData),
    ConversationRouted(RoutedData),
    ConversationClosed(ClosedData),
}

impl EventData {
    pub fn event_type(&self) -> EventType {
        match self {
            EventData::LeadCaptured(_) => EventType::LeadCaptured,
            EventData::LeadUpdated(_) => EventType::LeadUpdated,
            EventData::ConversationStarted(_) => EventType::ConversationStarted,
            EventData::ConversationMessage(_) => EventType::ConversationMessage,
            EventData::ConversationRouted(_) => EventType::ConversationRouted,
            EventData::ConversationClosed(_) => EventType::ConversationClosed,
        }
    }
}

/// A whole payload. Serialized in the spec's key order: `event`, `occurred_at`, `data`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Payload {
    event: EventType,
    occurred_at: String,
    data: EventData,
}

impl Payload {
    /// The payload of `data`, which happened at `occurred_at` (any offset; it is written in UTC,
    /// whole seconds, with `Z`).
    pub fn new(data: EventData, occurred_at: OffsetDateTime) -> Self {
        Self {
            event: data.event_type(),
            occurred_at: rfc3339_utc_seconds(occurred_at),
            data,
        }
    }

    /// The payload of something that happened just now.
    pub fn now(data: EventData) -> Self {
        Self::new(data, OffsetDateTime::now_utc())
    }

    pub fn event_type(&self) -> EventType {
        self.event
    }

    pub fn occurred_at(&self) -> &str {
        &self.occurred_at
    }

    pub fn data(&self) -> &EventData {
        &self.data
    }

    /// The bytes of the request body: compact JSON in the spec's key order. Sign these exact
    /// bytes; re-serializing a parsed copy may not reproduce them.
    pub fn to_body(&self) -> Vec<u8> {
        // Cannot fail: every field is a string, number, ULID or a string-keyed map.
        serde_json::to_vec(self).expect("payloads always serialize")
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("payloads always serialize")
    }
}

/// Realistic data for "Send test event": fresh IDs, a plausible visitor, and some `null`s, so the
/// receiver sees what a real delivery looks like, missing values included.
pub fn sample_data(event_type: EventType) -> EventData {
    let agent_id = Ulid::new();
    let conversation_id = Ulid::new();
    let visitor = Visitor {
        id: Ulid::new(),
        name: Some("Alex Rivera".into()),
        email: Some("alex.rivera@example.com".into()),
        phone: None,
    };
    let conversation = ConversationData {
        conversation_id,
        agent_id,
        visitor,
    };
    let lead = || LeadData {
        lead_id: Ulid::new(),
        agent_id,
        conversation_id: Some(conversation_id),
        name: Some("Alex Rivera".into()),
        email: Some("alex.rivera@example.com".into()),
        phone: Some("+1 415 555 0132".into()),
        fields: BTreeMap::from([
            ("company".to_owned(), Value::from("Acme")),
            ("team_size".to_owned(), Value::from(25)),
            ("budget".to_owned(), Value::Null),
        ]),
    };
    match event_type {
        EventType::LeadCaptured => EventData::LeadCaptured(lead()),
        EventType::LeadUpdated => {
            let mut lead = lead();
            lead.fields
                .insert("budget".into(), Value::from("$10k–$25k / year"));
            EventData::LeadUpdated(LeadUpdatedData {
                lead,
                changed: vec!["fields.budget".into()],
            })
        }
        EventType::ConversationStarted => EventData::ConversationStarted(conversation),
        EventType::ConversationMessage => EventData::ConversationMessage(MessageData {
            conversation,
            message_id: Ulid::new(),
            direction: Direction::Inbound,
            text: "Hi! Do you offer a free trial for teams of about 25?".into(),
        }),
        EventType::ConversationRouted => EventData::ConversationRouted(RoutedData {
            conversation,
            reason: Some("The visitor asked to talk to someone from sales.".into()),
        }),
        EventType::ConversationClosed => EventData::ConversationClosed(ClosedData {
            conversation,
            reason: None,
            message_count: 8,
        }),
    }
}

/// A sample payload of `event_type`, timestamped now: what "Send test event" starts from.
pub fn sample(event_type: EventType) -> Value {
    Payload::now(sample_data(event_type)).to_value()
}
