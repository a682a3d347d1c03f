//! Deliveries started by hand: a test event to one endpoint, redelivery of one delivery, and
//! replay of every failed delivery since a time. Each is written first, then handed over.

use std::sync::Arc;

use bytes::Bytes;
use rusqlite::{params, OptionalExtension};

use crate::audit::{self, Area};
use crate::clock::{parse_time, unix_ms};
use crate::error::{Error, Result};
use crate::ids::new_id;
use crate::outbox::{insert_delivery, insert_event, load_job, Hub, Job, Trigger};
use crate::store::Store;
use crate::webhooks::events::{self, EventType};
use crate::workspace::Actor;

/// Deliveries started by hand, over the store.
pub struct Deliveries<'a> {
    pub(crate) store: &'a Store,
    pub(crate) hub: &'a Hub,
}

impl Deliveries<'_> {
    /// Sends one event of `event_type` to one endpoint, whatever it subscribes to and whether
    /// or not it is active: the sample payload, or `payload` as edited in the modal. One attempt.
    /// Returns the delivery's ID.
    pub fn send_test(
        &self,
        actor: &Actor,
        endpoint_id: &str,
        event_type: EventType,
        payload: Option<serde_json::Value>,
    ) -> Result<String> {
        actor.require_manage()?;
        let value = match payload {
            None => events::sample(event_type),
            Some(serde_json::Value::Object(map)) => {
                match map.get("event") {
                    None => {}
                    Some(serde_json::Value::String(e)) if e == event_type.as_str() => {}
                    Some(other) => {
                        return Err(Error::invalid(format!(
                            "The payload's \"event\" is {other} but the event type chosen is \"{event_type}\". Make them match, or remove \"event\" from the payload."
                        )))
                    }
                }
                serde_json::Value::Object(map)
            }
            Some(_) => {
                return Err(Error::invalid(
                    "The test payload must be a JSON object like {\"event\": …, \"occurred_at\": …, \"data\": {…}}.",
                ))
            }
        };
        let occurred_at = value
            .get("occurred_at")
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .unwrap_or_else(crate::clock::now_rfc3339);
        let body = Bytes::from(
            serde_json::to_vec(&value)
                .map_err(|_| Error::invalid("The test payload could not be written as JSON."))?,
        );
        let now = unix_ms();
        let event_id = new_id();
        let id = new_id();
        let mut conn = self.store.conn();
        let tx = conn.transaction()?;
        let url: Option<String> = tx
            .query_row(
                "SELECT url FROM webhook_endpoint WHERE id = ?1",
                [endpoint_id],
                |r| r.get(0),
            )
            .optional()?;
        let Some(url) = url else {
            return Err(Error::NotFound(
                "That webhook endpoint no longer exists. Reload the list.".into(),
            ));
        };
        let label = audit::url_label(&url);
        audit::record(
            &tx,
            actor,
            Area::Deliveries,
            "delivery.test_sent",
            &label,
            format!("Sent a test {event_type} event to {label} (delivery {id})."),
        )?;
        insert_event(&tx, &event_id, event_type, &body, &occurred_at, now)?;
        insert_delivery(
            &tx,
            &id,
            &event_id,
            endpoint_id,
            event_type,
            Trigger::Test,
            now,
        )?;
        tx.commit()?;
        self.hub.enqueue(vec![Job {
            delivery_id: Arc::from(id.as_str()),
            endpoint_id: Arc::from(endpoint_id),
            event_type: Arc::from(event_type.as_str()),
            trigger: Trigger::Test,
            body,
            attempts: 0,
            run_attempts: 0,
            due_ms: now,
        }]);
        drop(conn);
        Ok(id)
    }

    /// Sends a finished delivery again: the same payload bytes and delivery ID, a fresh
    /// timestamp and signature, under the endpoint's policy, logged with trigger `redeliver`.
    pub fn redeliver(&self, actor: &Actor, delivery_id: &str) -> Result<()> {
        actor.require_manage()?;
        let now = unix_ms();
        let mut conn = self.store.conn();
        let tx = conn.transaction()?;
        let row: Option<(String, String, String)> = tx
            .query_row(
                "SELECT d.status, d.event_type, e.url FROM webhook_delivery d
                 JOIN webhook_endpoint e ON e.id = d.endpoint_id WHERE d.id = ?1",
                [delivery_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((status, event_type, url)) = row else {
            return Err(Error::NotFound(
                "That delivery is no longer in the log (its endpoint may have been deleted)."
                    .into(),
            ));
        };
        if status == "pending" {
            return Err(Error::Conflict(
                "This delivery is still being attempted. Wait for its attempts to finish, then redeliver it.".into(),
            ));
        }
        let jobs = restart_runs(&tx, &[delivery_id.to_owned()], Trigger::Redeliver, now)?;
        let label = audit::url_label(&url);
        audit::record(
            &tx,
            actor,
            Area::Deliveries,
            "delivery.redelivered",
            &label,
            format!("Redelivered {event_type} delivery {delivery_id} to {label}."),
        )?;
        tx.commit()?;
        self.hub.enqueue(jobs);
        drop(conn);
        Ok(())
    }

    /// How many deliveries [`Deliveries::replay_failed_since`] would send again: failed or
    /// dead-lettered since `since` (RFC 3339), to endpoints that are on.
    pub fn count_failed_since(&self, since: &str) -> Result<u64> {
        let since = parse_time(since)?;
        let conn = self.store.conn();
        let n: i64 = conn.query_row(
            &format!("SELECT count(*) FROM webhook_delivery d {FAILED_SINCE}"),
            [since],
            |r| r.get(0),
        )?;
        Ok(n.max(0) as u64)
    }

    /// Sends again every delivery counted by [`Deliveries::count_failed_since`]; returns how many.
    pub fn replay_failed_since(&self, actor: &Actor, since: &str) -> Result<u64> {
        actor.require_manage()?;
        let since = parse_time(since)?;
        let now = unix_ms();
        let mut conn = self.store.conn();
        let tx = conn.transaction()?;
        let ids: Vec<String> = {
            let mut stmt = tx.prepare(&format!(
                "SELECT d.id FROM webhook_delivery d {FAILED_SINCE}"
            ))?;
            let rows = stmt.query_map([since], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let jobs = restart_runs(&tx, &ids, Trigger::Replay, now)?;
        audit::record(
            &tx,
            actor,
            Area::Deliveries,
            "deliveries.replayed",
            "Failed deliveries",
            format!(
                "Replayed {} failed deliveries since {}.",
                jobs.len(),
                crate::clock::rfc3339_ms(since)
            ),
        )?;
        tx.commit()?;
        let n = jobs.len() as u64;
        self.hub.enqueue(jobs);
        drop(conn);
        Ok(n)
    }
}

const FAILED_SINCE: &str = "JOIN webhook_endpoint e ON e.id = d.endpoint_id
    WHERE d.status IN ('failed', 'dead') AND d.updated_at >= ?1 AND e.active = 1";

/// Marks deliveries pending again for a new run and returns their jobs (payload loaded).
fn restart_runs(
    tx: &rusqlite::Transaction<'_>,
    ids: &[String],
    trigger: Trigger,
    now: i64,
) -> Result<Vec<Job>> {
    let mut jobs = Vec::with_capacity(ids.len());
    for id in ids {
        tx.execute(
            "UPDATE webhook_delivery SET status = 'pending', run_attempts = 0, trigger = ?2,
                 next_attempt_at = ?3, updated_at = ?3 WHERE id = ?1",
            params![id, trigger.as_str(), now],
        )?;
        if let Some(job) = load_job(tx, id)? {
            jobs.push(job);
        }
    }
    Ok(jobs)
}
