//! The destinations' queues and sync logs in the store: the items due, what became of each
//! (with the calls made for it, in one transaction), and the log as the window reads it.

use rusqlite::{params, OptionalExtension, Transaction};
use serde_json::Value;

use super::cx::{CallRecord, Failure};
use super::model::{ItemStatus, SyncCall, SyncItem};
use super::providers::{Outcome, Sent};
use crate::clock::rfc3339_ms;
use crate::error::{Error, Result};
use crate::notices::{self, NoticeKind};
use crate::webhooks::EventType;

/// A destination the worker sends for.
pub(crate) struct Row {
    pub provider: String,
    pub connection_id: String,
    pub mapping: String,
    pub options: String,
    pub hold_until: i64,
}

/// The enabled destinations whose connection is active.
pub(crate) fn active(conn: &rusqlite::Connection) -> Result<Vec<Row>> {
    let mut stmt = conn.prepare_cached(
        "SELECT d.provider, d.connection_id, d.mapping, d.options, d.hold_until
         FROM destination d JOIN integration_connection c ON c.id = d.connection_id
         WHERE d.enabled = 1 AND c.status = 'active' ORDER BY d.provider",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Row {
            provider: r.get(0)?,
            connection_id: r.get(1)?,
            mapping: r.get(2)?,
            options: r.get(3)?,
            hold_until: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A queue item due now.
pub(crate) struct Due {
    pub event_id: String,
    pub event_type: String,
    pub payload: Vec<u8>,
    pub attempts: u32,
}

/// The destination's oldest pending items, in order, up to `limit`, stopping at the first one
/// not due yet (a backoff holds back those after it, so records are made in order: a ticket
/// before its comments). Returns them and when the first one not due is.
pub(crate) fn due(
    conn: &rusqlite::Connection,
    provider: &str,
    now: i64,
    limit: usize,
) -> Result<(Vec<Due>, Option<i64>)> {
    let mut stmt = conn.prepare_cached(
        "SELECT i.event_id, i.event_type, e.payload, i.attempts, i.next_attempt_at
         FROM destination_item i JOIN webhook_event e ON e.id = i.event_id
         WHERE i.destination = ?1 AND i.status = 'pending' ORDER BY i.rowid LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![provider, limit as i64], |r| {
        Ok((
            Due {
                event_id: r.get(0)?,
                event_type: r.get(1)?,
                payload: r.get(2)?,
                attempts: r.get(3)?,
            },
            r.get::<_, i64>(4)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (due, at) = row?;
        if at > now {
            return Ok((out, Some(at)));
        }
        out.push(due);
    }
    Ok((out, None))
}

/// What the worker decided for one item.
pub(crate) struct Decided<'a> {
    pub event_id: &'a str,
    pub outcome: &'a Outcome,
    pub attempts: u32,
    /// When to try again, for a retry or a wait.
    pub retry_at: Option<i64>,
    /// The retries are used up.
    pub gave_up: bool,
}

/// Writes the calls and what became of each item, and the destination's state, at once.
pub(crate) fn record(
    tx: &Transaction<'_>,
    provider: &str,
    trigger: &str,
    calls: &[CallRecord],
    decided: &[Decided<'_>],
    hold_until: i64,
    now: i64,
) -> Result<()> {
    write_calls(tx, provider, trigger, calls)?;
    let mut any_ok = false;
    let mut failure: Option<String> = None;
    for d in decided {
        let (status, attempts, next, error, url) = match d.outcome {
            Ok(Sent::Made(url)) => {
                any_ok = true;
                ("done", d.attempts + 1, now, None, url.clone())
            }
            Ok(Sent::Skipped(why)) => ("skipped", d.attempts, now, Some(why.clone()), None),
            Err(Failure::Wait(_, m)) | Err(Failure::Reconnect(m)) => (
                "pending",
                d.attempts,
                d.retry_at.unwrap_or(now),
                Some(m.clone()),
                None,
            ),
            Err(Failure::Retry(m)) if !d.gave_up => {
                failure = Some(m.clone());
                (
                    "pending",
                    d.attempts + 1,
                    d.retry_at.unwrap_or(now),
                    Some(m.clone()),
                    None,
                )
            }
            Err(Failure::Retry(m)) => {
                let m = format!(
                    "{m} Gave up after {} tries: use Retry to try again.",
                    d.attempts + 1
                );
                failure = Some(m.clone());
                ("failed", d.attempts + 1, now, Some(m), None)
            }
            Err(Failure::Stop(m)) => {
                failure = Some(m.clone());
                ("failed", d.attempts + 1, now, Some(m.clone()), None)
            }
        };
        tx.prepare_cached(
            "UPDATE destination_item SET status = ?3, attempts = ?4, next_attempt_at = ?5,
                 last_error = ?6, record_url = coalesce(?7, record_url), updated_at = ?8
             WHERE destination = ?1 AND event_id = ?2",
        )?
        .execute(params![
            provider, d.event_id, status, attempts, next, error, url, now
        ])?;
    }
    if let Some(message) = &failure {
        tell_failing(tx, provider, message)?;
    }
    tx.execute(
        "UPDATE destination SET hold_until = max(hold_until, ?2),
             last_sync_at = CASE WHEN ?3 THEN ?4 ELSE last_sync_at END,
             failing_since = CASE WHEN ?5 IS NOT NULL THEN coalesce(failing_since, ?4)
                                  WHEN ?3 THEN NULL ELSE failing_since END,
             last_error = CASE WHEN ?5 IS NOT NULL THEN ?5 WHEN ?3 THEN NULL ELSE last_error END
         WHERE provider = ?1",
        params![provider, hold_until, any_ok, now, failure],
    )?;
    Ok(())
}

/// A notice when a destination that was not failing starts to (before `failing_since` is set).
pub(crate) fn tell_failing(tx: &Transaction<'_>, provider: &str, message: &str) -> Result<()> {
    let starts: bool = tx
        .query_row(
            "SELECT failing_since IS NULL FROM destination WHERE provider = ?1",
            [provider],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(false);
    if starts {
        let name = crate::catalog::display_name(provider);
        notices::raise(
            tx,
            NoticeKind::DestinationFailing,
            provider,
            &format!("{name} is failing"),
            &format!(
                "Leads and conversations for {name} could not be sent: {}. They wait and are retried; its card on the Connected tab says what to do.",
                message.trim_end_matches('.')
            ),
            "connected",
        )?;
    }
    Ok(())
}

/// Calls into the sync log, each linked to the items it was for.
pub(crate) fn write_calls(
    tx: &Transaction<'_>,
    provider: &str,
    trigger: &str,
    calls: &[CallRecord],
) -> Result<()> {
    for c in calls {
        tx.prepare_cached(
            "INSERT INTO destination_call (id, destination, trigger, method, url, request_body, status,
                 response_headers, response_body, error_class, message, duration_ms, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?
        .execute(params![
            c.id,
            provider,
            trigger,
            c.method,
            c.url,
            c.request_body,
            c.status,
            c.response_headers,
            c.response_body,
            c.error_class,
            c.message,
            c.duration_ms,
            c.at
        ])?;
        for event_id in &c.items {
            tx.prepare_cached(
                "INSERT OR IGNORE INTO destination_call_item (call_id, destination, event_id) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![c.id, provider, event_id])?;
        }
    }
    Ok(())
}

/// Items of the destination's queue, newest first, optionally only one status.
pub(crate) fn items(
    conn: &rusqlite::Connection,
    provider: &str,
    status: Option<ItemStatus>,
    limit: u32,
) -> Result<Vec<SyncItem>> {
    let mut stmt = conn.prepare_cached(
        "SELECT i.event_id, i.event_type, e.payload, i.status, i.attempts, i.next_attempt_at,
                i.last_error, i.record_url, i.created_at, i.updated_at
         FROM destination_item i JOIN webhook_event e ON e.id = i.event_id
         WHERE i.destination = ?1 AND (?2 IS NULL OR i.status = ?2)
         ORDER BY i.rowid DESC LIMIT ?3",
    )?;
    let rows = stmt.query_map(
        params![provider, status.map(ItemStatus::as_str), limit],
        item_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn item(
    conn: &rusqlite::Connection,
    provider: &str,
    event_id: &str,
) -> Result<SyncItem> {
    conn.query_row(
        "SELECT i.event_id, i.event_type, e.payload, i.status, i.attempts, i.next_attempt_at,
                i.last_error, i.record_url, i.created_at, i.updated_at
         FROM destination_item i JOIN webhook_event e ON e.id = i.event_id
         WHERE i.destination = ?1 AND i.event_id = ?2",
        params![provider, event_id],
        item_row,
    )
    .optional()?
    .ok_or_else(|| Error::NotFound("This item is not in the sync log any more.".into()))
}

fn item_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SyncItem> {
    let event_type: String = r.get(1)?;
    let payload: Vec<u8> = r.get(2)?;
    let status = ItemStatus::parse(&r.get::<_, String>(3)?);
    let next: i64 = r.get(5)?;
    Ok(SyncItem {
        event_id: r.get(0)?,
        event_type: event_type.parse().unwrap_or(EventType::LeadCaptured),
        about: about(&payload),
        status,
        attempts: r.get(4)?,
        next_attempt_at: (status == ItemStatus::Pending).then(|| rfc3339_ms(next)),
        last_error: r.get(6)?,
        record_url: r.get(7)?,
        created_at: rfc3339_ms(r.get(8)?),
        updated_at: rfc3339_ms(r.get(9)?),
    })
}

/// Who or what an event is about, from its payload.
fn about(payload: &[u8]) -> String {
    let v: Value = serde_json::from_slice(payload).unwrap_or_default();
    let d = &v["data"];
    let s = |v: &Value| v.as_str().map(str::to_owned);
    match (s(&d["name"]), s(&d["email"])) {
        (Some(n), Some(e)) => format!("{n} <{e}>"),
        (Some(n), None) => n,
        (None, Some(e)) => e,
        (None, None) => {
            let visitor = &d["visitor"];
            let who = s(&visitor["name"]).or(s(&visitor["email"]));
            match who {
                Some(w) => format!("Conversation with {w}"),
                None => "Conversation with a visitor".into(),
            }
        }
    }
}

/// The calls made for one item, oldest first.
pub(crate) fn calls_of(
    conn: &rusqlite::Connection,
    provider: &str,
    event_id: &str,
) -> Result<Vec<SyncCall>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.id, c.trigger, c.method, c.url, c.request_body, c.status, c.response_headers,
                c.response_body, c.error_class, c.message, c.duration_ms, c.created_at
         FROM destination_call_item ci JOIN destination_call c ON c.id = ci.call_id
         WHERE ci.destination = ?1 AND ci.event_id = ?2 ORDER BY c.created_at, c.rowid",
    )?;
    let rows = stmt.query_map(params![provider, event_id], call_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn call_view(c: &CallRecord, trigger: &str) -> SyncCall {
    SyncCall {
        id: c.id.clone(),
        trigger: trigger.into(),
        method: c.method.clone(),
        url: c.url.clone(),
        request_body: c.request_body.as_deref().map(text),
        status: c.status,
        response_headers: serde_json::from_str(&c.response_headers).unwrap_or_default(),
        response_body: c.response_body.as_deref().map(text),
        error_class: c.error_class.map(str::to_owned),
        message: c.message.clone(),
        duration_ms: u32::try_from(c.duration_ms).unwrap_or(u32::MAX),
        at: rfc3339_ms(c.at),
    }
}

fn call_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SyncCall> {
    let request: Option<Vec<u8>> = r.get(4)?;
    let response: Option<Vec<u8>> = r.get(7)?;
    let headers: String = r.get(6)?;
    Ok(SyncCall {
        id: r.get(0)?,
        trigger: r.get(1)?,
        method: r.get(2)?,
        url: r.get(3)?,
        request_body: request.as_deref().map(text),
        status: r.get(5)?,
        response_headers: serde_json::from_str(&headers).unwrap_or_default(),
        response_body: response.as_deref().map(text),
        error_class: r.get(8)?,
        message: r.get(9)?,
        duration_ms: r.get(10)?,
        at: rfc3339_ms(r.get(11)?),
    })
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Counts for the card: pending and failed items.
pub(crate) fn counts(conn: &rusqlite::Connection, provider: &str) -> Result<(u32, u32)> {
    Ok(conn.query_row(
        "SELECT count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'failed')
         FROM destination_item WHERE destination = ?1",
        [provider],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

/// Puts failed (or cancelled) items back in the queue, due now. `event_id` `None`: all failed.
pub(crate) fn retry(
    tx: &Transaction<'_>,
    provider: &str,
    event_id: Option<&str>,
    now: i64,
) -> Result<u32> {
    let n = tx.execute(
        "UPDATE destination_item SET status = 'pending', attempts = 0, next_attempt_at = ?3,
             last_error = NULL, updated_at = ?3
         WHERE destination = ?1 AND (?2 IS NULL OR event_id = ?2)
           AND (status = 'failed' OR (?2 IS NOT NULL AND status = 'cancelled'))",
        params![provider, event_id, now],
    )?;
    tx.execute(
        "UPDATE destination SET hold_until = 0 WHERE provider = ?1",
        [provider],
    )?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// The calls of "Send a test lead", newest first.
pub(crate) fn test_calls(
    conn: &rusqlite::Connection,
    provider: &str,
    limit: u32,
) -> Result<Vec<SyncCall>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, trigger, method, url, request_body, status, response_headers,
                response_body, error_class, message, duration_ms, created_at
         FROM destination_call WHERE destination = ?1 AND trigger = 'test'
         ORDER BY created_at DESC, rowid DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![provider, limit], call_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
