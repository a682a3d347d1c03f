//! What the outbox holds: a delivery to attempt (`Job`), what started its run (`Trigger`),
//! and what accepting an event returns (`Fired`).

use std::sync::Arc;

use bytes::Bytes;
use rusqlite::OptionalExtension;
use serde::Serialize;
use specta::Type;

use crate::error::Result;

/// What started one run of attempts of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    Event,
    Test,
    Redeliver,
    Replay,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Event => "event",
            Trigger::Test => "test",
            Trigger::Redeliver => "redeliver",
            Trigger::Replay => "replay",
        }
    }

    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "test" => Trigger::Test,
            "redeliver" => Trigger::Redeliver,
            "replay" => Trigger::Replay,
            _ => Trigger::Event,
        }
    }
}

/// One delivery to attempt, with everything an attempt needs but the endpoint's settings.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub delivery_id: Arc<str>,
    pub endpoint_id: Arc<str>,
    pub event_type: Arc<str>,
    pub trigger: Trigger,
    pub body: Bytes,
    /// Attempts made so far, in all and in this run.
    pub attempts: u32,
    pub run_attempts: u32,
    pub due_ms: i64,
}

/// What [`crate::outbox::Outbox::fire`] accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type)]
pub struct Fired {
    pub event_id: String,
    /// One per subscribed active endpoint; each is that delivery's `X-Pitchbar-Delivery`.
    pub delivery_ids: Vec<String>,
}

/// A pending delivery with its event's payload, ready to attempt.
pub(crate) fn load_job(conn: &rusqlite::Connection, id: &str) -> Result<Option<Job>> {
    Ok(conn
        .prepare_cached(
            "SELECT d.id, d.endpoint_id, d.event_type, d.trigger, e.payload, d.attempts,
                    d.run_attempts, coalesce(d.next_attempt_at, 0)
             FROM webhook_delivery d JOIN webhook_event e ON e.id = d.event_id WHERE d.id = ?1",
        )?
        .query_row([id], |r| {
            Ok(Job {
                delivery_id: Arc::from(r.get::<_, String>(0)?),
                endpoint_id: Arc::from(r.get::<_, String>(1)?),
                event_type: Arc::from(r.get::<_, String>(2)?),
                trigger: Trigger::parse(&r.get::<_, String>(3)?),
                body: Bytes::from(r.get::<_, Vec<u8>>(4)?),
                attempts: r.get(5)?,
                run_attempts: r.get(6)?,
                due_ms: r.get(7)?,
            })
        })
        .optional()?)
}
