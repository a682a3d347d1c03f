//! Conversations and their messages: start, message, route to a human, close. Every step fires
//! its webhook event.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use specta::Type;

use crate::agents;
use crate::clock::{rfc3339_ms, unix_ms};
use crate::error::{Error, Result};
use crate::leads::{email, fire_or_undo, json, text, trim_blank, ulid};
use crate::outbox::Hub;
use crate::store::Store;
use crate::webhooks::events::{
    ClosedData, ConversationData, Direction, MessageData, RoutedData, Visitor,
};
use crate::webhooks::{EventData, Payload};

const MAX_MESSAGE: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Open,
    /// A human is needed: it is in the inbox.
    Routed,
    Closed,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Routed => "routed",
            Status::Closed => "closed",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "routed" => Status::Routed,
            "closed" => Status::Closed,
            _ => Status::Open,
        }
    }
}

/// The visitor as stored and shown; what they have not told is `null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct VisitorInfo {
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type)]
pub struct Conversation {
    pub id: String,
    pub agent_id: String,
    pub visitor: VisitorInfo,
    pub status: Status,
    pub route_reason: Option<String>,
    pub close_reason: Option<String>,
    pub message_count: u64,
    pub created_at: String,
    pub closed_at: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Type)]
#[serde(deny_unknown_fields)]
pub struct VisitorInput {
    /// The widget's visitor ULID, if it has one; otherwise one is made.
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Type)]
#[serde(deny_unknown_fields)]
pub struct ConversationInput {
    #[serde(default)]
    pub agent_id: Option<String>,
    #[serde(default)]
    pub visitor: Option<VisitorInput>,
}

#[derive(Debug, Clone, Deserialize, Type)]
#[serde(deny_unknown_fields)]
pub struct MessageInput {
    pub direction: Direction,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type)]
pub struct Message {
    pub id: String,
    pub conversation_id: String,
    pub direction: Direction,
    pub text: String,
    pub created_at: String,
}

/// Why a conversation is routed or closed.
#[derive(Debug, Clone, Default, Deserialize, Type)]
#[serde(deny_unknown_fields)]
pub struct ReasonInput {
    #[serde(default)]
    pub reason: Option<String>,
}

/// The conversation service over the store and the webhook outbox.
pub struct Conversations<'a> {
    pub(crate) store: &'a Store,
    pub(crate) hub: &'a Hub,
}

impl Conversations<'_> {
    /// Starts a conversation and fires `conversation.started`.
    pub fn start(&self, input: ConversationInput) -> Result<Conversation> {
        let id = crate::ids::new_id();
        let now = unix_ms();
        let conversation = self.store.write(|tx| {
            let agent_id = text(input.agent_id, "agent_id")?;
            let agent = agents::resolve(tx, agent_id.as_deref())?;
            let v = input.visitor.unwrap_or_default();
            let visitor_id = match text(v.id, "visitor.id")? {
                None => crate::ids::new_id(),
                Some(vid) => {
                    vid.parse::<ulid::Ulid>().map_err(|_| {
                        let shown: String = vid.chars().take(40).collect();
                        Error::invalid(format!(
                            "\"{shown}\" is not a visitor ID: use a ULID, or leave visitor.id out to get one."
                        ))
                    })?;
                    vid
                }
            };
            let visitor = VisitorInfo {
                id: visitor_id,
                name: text(v.name, "visitor.name")?,
                email: email(v.email)?,
                phone: text(v.phone, "visitor.phone")?,
            };
            tx.execute(
                "INSERT INTO conversation (id, agent_id, visitor, status, created_at) VALUES (?1, ?2, ?3, 'open', ?4)",
                params![id, agent.id, json(&visitor), now],
            )?;
            find(tx, &id)?.ok_or_else(|| not_found(&id))
        })?;
        let payload = Payload::now(EventData::ConversationStarted(data(&conversation)));
        fire_or_undo(self.store, self.hub, &payload, |tx| {
            tx.execute("DELETE FROM conversation WHERE id = ?1", [&id])?;
            Ok(())
        })?;
        Ok(conversation)
    }

    pub fn get(&self, id: &str) -> Result<Conversation> {
        find(&self.store.conn(), id)?.ok_or_else(|| not_found(id))
    }

    /// Adds a message and fires `conversation.message`. A closed conversation takes none.
    pub fn add_message(&self, id: &str, input: MessageInput) -> Result<Message> {
        let message_id = crate::ids::new_id();
        let now = unix_ms();
        let (conversation, message) = self.store.write(|tx| {
            let conversation = find(tx, id)?.ok_or_else(|| not_found(id))?;
            if conversation.status == Status::Closed {
                return Err(Error::Conflict(format!(
                    "The conversation \"{id}\" is closed and takes no more messages. Start a new one."
                )));
            }
            let body = trim_blank(&input.text);
            if body.is_empty() {
                return Err(Error::invalid("The message has no text."));
            }
            if body.chars().count() > MAX_MESSAGE {
                return Err(Error::invalid(format!(
                    "The message is too long: keep it to {MAX_MESSAGE} characters."
                )));
            }
            tx.execute(
                "INSERT INTO message (id, conversation_id, direction, text, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![message_id, id, direction_str(input.direction), body, now],
            )?;
            let message = Message {
                id: message_id.clone(),
                conversation_id: id.to_owned(),
                direction: input.direction,
                text: body.to_owned(),
                created_at: rfc3339_ms(now),
            };
            Ok((conversation, message))
        })?;
        let payload = Payload::now(EventData::ConversationMessage(MessageData {
            conversation: data(&conversation),
            message_id: ulid(&message.id),
            direction: message.direction,
            text: message.text.clone(),
        }));
        fire_or_undo(self.store, self.hub, &payload, |tx| {
            tx.execute("DELETE FROM message WHERE id = ?1", [&message_id])?;
            Ok(())
        })?;
        Ok(message)
    }

    /// Routes an open conversation to a human and fires `conversation.routed`.
    pub fn route(&self, id: &str, input: ReasonInput) -> Result<Conversation> {
        let reason = text(input.reason, "reason")?;
        let conversation = self.store.write(|tx| {
            let old = find(tx, id)?.ok_or_else(|| not_found(id))?;
            match old.status {
                Status::Open => {}
                Status::Routed => {
                    return Err(Error::Conflict(format!(
                        "The conversation \"{id}\" is already routed to a human."
                    )))
                }
                Status::Closed => {
                    return Err(Error::Conflict(format!(
                        "The conversation \"{id}\" is closed and cannot be routed. Start a new one."
                    )))
                }
            }
            tx.execute(
                "UPDATE conversation SET status = 'routed', route_reason = ?2 WHERE id = ?1",
                params![id, reason],
            )?;
            find(tx, id)?.ok_or_else(|| not_found(id))
        })?;
        let payload = Payload::now(EventData::ConversationRouted(RoutedData {
            conversation: data(&conversation),
            reason: conversation.route_reason.clone(),
        }));
        fire_or_undo(self.store, self.hub, &payload, |tx| {
            tx.execute(
                "UPDATE conversation SET status = 'open', route_reason = NULL WHERE id = ?1",
                [id],
            )?;
            Ok(())
        })?;
        Ok(conversation)
    }

    /// Closes an open or routed conversation and fires `conversation.closed`.
    pub fn close(&self, id: &str, input: ReasonInput) -> Result<Conversation> {
        let reason = text(input.reason, "reason")?;
        let mut previous = Status::Open;
        let conversation = self.store.write(|tx| {
            let old = find(tx, id)?.ok_or_else(|| not_found(id))?;
            if old.status == Status::Closed {
                return Err(Error::Conflict(format!(
                    "The conversation \"{id}\" is already closed."
                )));
            }
            previous = old.status;
            tx.execute(
                "UPDATE conversation SET status = 'closed', close_reason = ?2, closed_at = ?3 WHERE id = ?1",
                params![id, reason, unix_ms()],
            )?;
            find(tx, id)?.ok_or_else(|| not_found(id))
        })?;
        let payload = Payload::now(EventData::ConversationClosed(ClosedData {
            conversation: data(&conversation),
            reason: conversation.close_reason.clone(),
            message_count: conversation.message_count,
        }));
        fire_or_undo(self.store, self.hub, &payload, |tx| {
            tx.execute(
                "UPDATE conversation SET status = ?2, close_reason = NULL, closed_at = NULL WHERE id = ?1",
                params![id, previous.as_str()],
            )?;
            Ok(())
        })?;
        Ok(conversation)
    }
}

fn direction_str(direction: Direction) -> &'static str {
    match direction {
        Direction::Inbound => "inbound",
        Direction::Outbound => "outbound",
    }
}

fn data(c: &Conversation) -> ConversationData {
    ConversationData {
        conversation_id: ulid(&c.id),
        agent_id: ulid(&c.agent_id),
        visitor: Visitor {
            id: ulid(&c.visitor.id),
            name: c.visitor.name.clone(),
            email: c.visitor.email.clone(),
            phone: c.visitor.phone.clone(),
        },
    }
}

fn find(conn: &Connection, id: &str) -> Result<Option<Conversation>> {
    conn.query_row(
        "SELECT id, agent_id, visitor, status, route_reason, close_reason, created_at, closed_at,
                (SELECT count(*) FROM message WHERE conversation_id = conversation.id)
         FROM conversation WHERE id = ?1",
        [id],
        from_row,
    )
    .optional()
    .map_err(Into::into)
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<Conversation> {
    let visitor: String = row.get(2)?;
    let status: String = row.get(3)?;
    let closed_at: Option<i64> = row.get(7)?;
    let count: i64 = row.get(8)?;
    Ok(Conversation {
        id: row.get(0)?,
        agent_id: row.get(1)?,
        visitor: serde_json::from_str(&visitor).unwrap_or(VisitorInfo {
            id: String::new(),
            name: None,
            email: None,
            phone: None,
        }),
        status: Status::parse(&status),
        route_reason: row.get(4)?,
        close_reason: row.get(5)?,
        message_count: u64::try_from(count).unwrap_or_default(),
        created_at: rfc3339_ms(row.get(6)?),
        closed_at: closed_at.map(rfc3339_ms),
    })
}

fn not_found(id: &str) -> Error {
    let shown: String = id.chars().take(40).collect();
    Error::NotFound(format!("There is no conversation \"{shown}\"."))
}
