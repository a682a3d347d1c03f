//! What each destination provider offers (its events, its default mapping, whether it needs an
//! audience or list picked first), and the destination row that follows a connection: made
//! when it is connected, stopped when it is disconnected.

use rusqlite::{params, OptionalExtension, Transaction};

use crate::error::Result;
use crate::webhooks::EventType;

use EventType::*;

/// One destination provider.
pub(crate) struct Kind {
    pub id: &'static str,
    /// The events it can follow, each with what it makes there.
    pub offered: &'static [(EventType, &'static str)],
    /// What a new destination follows.
    pub default_events: &'static [EventType],
    /// Our lead field → its property, for a new destination. Empty when it maps no fields.
    pub default_mapping: &'static [(&'static str, &'static str)],
    /// Whether lead fields can be mapped to its properties.
    pub maps_fields: bool,
    /// What must be picked before anything is sent (an audience, a list), if anything.
    pub needs_target: Option<&'static str>,
    /// What can be picked (optional when `needs_target` is `None`).
    pub target_label: Option<&'static str>,
    /// Whether a consent field decides the subscription (marketing lists).
    pub consent: bool,
}

const LEAD_EVENTS: &[(EventType, &str)] = &[
    (LeadCaptured, "Create or update the contact"),
    (LeadUpdated, "Update the contact"),
];

pub(crate) const KINDS: &[Kind] = &[
    Kind {
        id: "hubspot",
        offered: &[
            (LeadCaptured, "Create or update the contact (by email)"),
            (LeadUpdated, "Update the contact"),
            (
                ConversationClosed,
                "Log the transcript as a note on the contact",
            ),
        ],
        default_events: &[LeadCaptured, LeadUpdated, ConversationClosed],
        default_mapping: &[
            ("email", "email"),
            ("first_name", "firstname"),
            ("last_name", "lastname"),
            ("phone", "phone"),
        ],
        maps_fields: true,
        needs_target: None,
        target_label: None,
        consent: false,
    },
    Kind {
        id: "salesforce",
        offered: &[
            (LeadCaptured, "Create the Lead (or find it by email)"),
            (
                ConversationClosed,
                "Log the transcript as a completed Task on the Lead",
            ),
        ],
        default_events: &[LeadCaptured, ConversationClosed],
        default_mapping: &[
            ("email", "Email"),
            ("first_name", "FirstName"),
            ("last_name", "LastName"),
            ("phone", "Phone"),
        ],
        maps_fields: true,
        needs_target: None,
        target_label: None,
        consent: false,
    },
    Kind {
        id: "pipedrive",
        offered: &[
            (
                LeadCaptured,
                "Find or create the person and add a lead to the Leads Inbox",
            ),
            (
                ConversationClosed,
                "Add the transcript as a note on the lead",
            ),
        ],
        default_events: &[LeadCaptured, ConversationClosed],
        default_mapping: &[("name", "name"), ("email", "email"), ("phone", "phone")],
        maps_fields: true,
        needs_target: None,
        target_label: None,
        consent: false,
    },
    Kind {
        id: "zendesk",
        offered: &[
            (ConversationRouted, "Create a ticket with the transcript"),
            (
                ConversationMessage,
                "Add later messages as internal notes on the ticket",
            ),
            (
                ConversationClosed,
                "Add an internal note that the chat ended",
            ),
        ],
        default_events: &[ConversationRouted, ConversationMessage, ConversationClosed],
        default_mapping: &[],
        maps_fields: false,
        needs_target: None,
        target_label: Some("Ticket group"),
        consent: false,
    },
    Kind {
        id: "freshdesk",
        offered: &[
            (ConversationRouted, "Create a ticket with the transcript"),
            (
                ConversationMessage,
                "Add later messages as private notes on the ticket",
            ),
            (ConversationClosed, "Add a private note that the chat ended"),
        ],
        default_events: &[ConversationRouted, ConversationMessage, ConversationClosed],
        default_mapping: &[],
        maps_fields: false,
        needs_target: None,
        target_label: Some("Ticket group"),
        consent: false,
    },
    Kind {
        id: "mailchimp",
        offered: LEAD_EVENTS,
        default_events: &[LeadCaptured],
        default_mapping: &[
            ("first_name", "FNAME"),
            ("last_name", "LNAME"),
            ("phone", "PHONE"),
        ],
        maps_fields: true,
        needs_target: Some("Audience"),
        target_label: Some("Audience"),
        consent: true,
    },
    Kind {
        id: "activecampaign",
        offered: LEAD_EVENTS,
        default_events: &[LeadCaptured],
        default_mapping: &[
            ("first_name", "firstName"),
            ("last_name", "lastName"),
            ("phone", "phone"),
        ],
        maps_fields: true,
        needs_target: Some("List"),
        target_label: Some("List"),
        consent: true,
    },
    Kind {
        id: "segment",
        offered: &[
            (LeadCaptured, "identify the lead"),
            (LeadUpdated, "identify the lead again"),
            (ConversationStarted, "track “Conversation Started”"),
            (
                ConversationMessage,
                "track “Message Sent” / “Message Received”",
            ),
            (ConversationRouted, "track “Conversation Routed”"),
            (ConversationClosed, "track “Conversation Closed”"),
        ],
        default_events: &[
            LeadCaptured,
            LeadUpdated,
            ConversationStarted,
            ConversationRouted,
            ConversationClosed,
        ],
        default_mapping: &[],
        maps_fields: false,
        needs_target: None,
        target_label: None,
        consent: false,
    },
    Kind {
        id: "google-analytics",
        offered: &[
            (LeadCaptured, "generate_lead"),
            (ConversationStarted, "conversation_started"),
            (ConversationMessage, "conversation_message"),
            (ConversationRouted, "conversation_routed"),
            (ConversationClosed, "conversation_closed"),
        ],
        default_events: &[
            LeadCaptured,
            ConversationStarted,
            ConversationRouted,
            ConversationClosed,
        ],
        default_mapping: &[],
        maps_fields: false,
        needs_target: None,
        target_label: None,
        consent: false,
    },
];

pub(crate) fn kind(provider: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.id == provider)
}

/// The provider's connection became active: its destination follows events again (made with
/// the defaults if it is new; its configuration kept if not). Nothing is queued while an
/// audience or list it needs is not picked.
pub(crate) fn connected(
    tx: &Transaction<'_>,
    provider: &str,
    connection_id: &str,
    now: i64,
) -> Result<()> {
    let Some(kind) = kind(provider) else {
        return Ok(());
    };
    let existing: Option<String> = tx
        .query_row(
            "SELECT options FROM destination WHERE provider = ?1",
            [provider],
            |r| r.get(0),
        )
        .optional()?;
    let ready = kind.needs_target.is_none()
        || existing
            .as_deref()
            .and_then(|o| serde_json::from_str::<serde_json::Value>(o).ok())
            .is_some_and(|o| o["target"].is_object());
    let events: Vec<&str> = kind.default_events.iter().map(|e| e.as_str()).collect();
    let mapping: Vec<serde_json::Value> = kind
        .default_mapping
        .iter()
        .map(|(from, to)| serde_json::json!({ "from": from, "to": to }))
        .collect();
    tx.execute(
        "INSERT INTO destination (provider, connection_id, enabled, events, mapping, options, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, '{}', ?6)
         ON CONFLICT (provider) DO UPDATE SET connection_id = excluded.connection_id,
             enabled = excluded.enabled, hold_until = 0, updated_at = excluded.updated_at",
        params![
            provider,
            connection_id,
            ready,
            serde_json::to_string(&events).unwrap_or_default(),
            serde_json::to_string(&mapping).unwrap_or_default(),
            now
        ],
    )?;
    Ok(())
}

/// The connection was disconnected: nothing more is queued, what was pending is cancelled
/// (kept in the log). Returns how many items were pending.
pub(crate) fn disconnected(tx: &Transaction<'_>, connection_id: &str, now: i64) -> Result<u32> {
    tx.execute(
        "UPDATE destination SET enabled = 0, updated_at = ?2 WHERE connection_id = ?1",
        params![connection_id, now],
    )?;
    let cancelled = tx.execute(
        "UPDATE destination_item SET status = 'cancelled', updated_at = ?2,
             last_error = 'Not sent: the integration was disconnected while this was waiting.'
         WHERE status = 'pending'
           AND destination IN (SELECT provider FROM destination WHERE connection_id = ?1)",
        params![connection_id, now],
    )?;
    Ok(u32::try_from(cancelled).unwrap_or(u32::MAX))
}

/// How many items wait for the connection's destination (what disconnecting would cancel).
pub(crate) fn pending_for_connection(
    conn: &rusqlite::Connection,
    connection_id: &str,
) -> Result<u32> {
    Ok(conn.query_row(
        "SELECT count(*) FROM destination_item i JOIN destination d ON d.provider = i.destination
         WHERE d.connection_id = ?1 AND i.status = 'pending'",
        [connection_id],
        |r| r.get(0),
    )?)
}
