//! The receiver's log as the UI reads it: pages of requests (newest first, keyset-paged on the
//! rowid), one request with every byte and its verdict, and clearing it.

use rusqlite::{OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use specta::Type;

use super::hub::Hub;
use super::json::VerdictColumn;
use crate::audit::{self, Area};
use crate::clock::rfc3339_ms;
use crate::error::{Error, Result};
use crate::store::Store;
use crate::webhooks::log::Header;
use crate::webhooks::verify::{Verdict, VerdictCode};
use crate::workspace::Actor;

pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 500;

#[derive(Debug, Clone, Default, Deserialize, Type)]
pub struct ReceiverQuery {
    /// `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit: Option<u32>,
}

/// One row of the receiver's list.
#[derive(Debug, Clone, PartialEq, Serialize, Type)]
pub struct ReceivedSummary {
    pub id: i64,
    pub received_at: String,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub body_size: u64,
    pub valid: bool,
    pub verdict_code: VerdictCode,
    pub verdict_title: String,
    /// What the receiver answered; `None` when it closed the connection without an answer.
    pub response_status: Option<u16>,
    pub response_delay_ms: u32,
    pub forward_url: Option<String>,
    pub forward_status: Option<u16>,
    /// timeout | connection_refused | dns | tls | cancelled | other.
    pub forward_error_class: Option<String>,
    pub forward_duration_us: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Type)]
pub struct ReceivedPage {
    pub requests: Vec<ReceivedSummary>,
    /// Pass back as `cursor` for the next (older) page; `None` at the end.
    pub next_cursor: Option<String>,
}

/// What the forward target answered.
#[derive(Debug, Clone, PartialEq, Serialize, Type)]
pub struct ForwardView {
    pub url: String,
    /// `false` until the target answered or failed.
    pub done: bool,
    pub status: Option<u16>,
    pub headers: Vec<Header>,
    /// Up to 64 KiB of the answer.
    pub body: Option<Vec<u8>>,
    pub truncated: bool,
    pub duration_us: Option<i64>,
    pub error_class: Option<String>,
    pub error_message: Option<String>,
}

/// One request with every byte: the detail pane.
#[derive(Debug, Clone, PartialEq, Serialize, Type)]
pub struct ReceivedDetail {
    #[serde(flatten)]
    pub summary: ReceivedSummary,
    /// In the order received (names lowercase, as HTTP/1 parsing gives them).
    pub headers: Vec<Header>,
    /// The exact bytes received (the first 4 MiB if `body_truncated`).
    pub body: Vec<u8>,
    pub body_truncated: bool,
    pub verdict: Verdict,
    pub response_headers: Vec<Header>,
    pub response_body: Option<Vec<u8>>,
    /// Closed without an answer, as configured.
    pub response_closed: bool,
    pub forward: Option<ForwardView>,
}

impl ReceivedDetail {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }
}

pub struct ReceiverLog<'a> {
    pub(crate) store: &'a Store,
    pub(crate) hub: &'a Hub,
}

const SUMMARY_COLUMNS: &str = "id, received_at, method, path, query, body_size, valid, \
     verdict_code, verdict_title, response_status, response_delay_ms, forward_url, \
     forward_status, forward_error_class, forward_duration_us";

impl ReceiverLog<'_> {
    /// A page of requests, newest first. The cursor is the last row's id, and rows are walked
    /// backwards on the rowid from it: the same cost at any depth and any size.
    pub fn list(&self, query: &ReceiverQuery) -> Result<ReceivedPage> {
        let limit = query.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
        let before = match &query.cursor {
            None => i64::MAX,
            Some(c) => c.parse::<i64>().map_err(|_| {
                Error::invalid("The list position is not valid. Reload the receiver's list.")
            })?,
        };
        let conn = self.store.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM receiver_request WHERE id < ?1 ORDER BY id DESC LIMIT ?2"
        ))?;
        let mut requests: Vec<ReceivedSummary> = stmt
            .query_map(rusqlite::params![before, i64::from(limit) + 1], summary)?
            .collect::<rusqlite::Result<_>>()?;
        let next_cursor = if requests.len() > limit as usize {
            requests.truncate(limit as usize);
            requests.last().map(|r| r.id.to_string())
        } else {
            None
        };
        Ok(ReceivedPage {
            requests,
            next_cursor,
        })
    }

    pub fn get(&self, id: i64) -> Result<ReceivedDetail> {
        let conn = self.store.conn();
        conn.query_row(
            &format!(
                "SELECT {SUMMARY_COLUMNS}, verdict, headers, body, body_truncated,
                        response_headers, response_body, response_closed, forward_headers,
                        forward_body, forward_truncated, forward_error_message
                 FROM receiver_request WHERE id = ?1"
            ),
            [id],
            detail,
        )
        .optional()?
        .ok_or_else(|| {
            Error::NotFound(
                "That request is no longer in the receiver's log (it was cleared).".into(),
            )
        })
    }

    /// Deletes every recorded request; returns how many. Signatures seen before are forgotten
    /// too: a request sent again after a clear is not called a replay.
    pub fn clear(&self, actor: &Actor) -> Result<u64> {
        actor.require_manage()?;
        let n = self.store.write(|tx| {
            let n = tx.execute("DELETE FROM receiver_request", [])?;
            audit::record(
                tx,
                actor,
                Area::Receiver,
                "receiver.log_cleared",
                "Receiver log",
                format!("Cleared the receiver's log ({n} requests)."),
            )?;
            Ok(n)
        })?;
        self.hub.seen.clear();
        self.hub.notify(Vec::new());
        Ok(n as u64)
    }
}

fn summary(r: &Row<'_>) -> rusqlite::Result<ReceivedSummary> {
    let code: String = r.get(7)?;
    Ok(ReceivedSummary {
        id: r.get(0)?,
        received_at: rfc3339_ms(r.get(1)?),
        method: r.get(2)?,
        path: r.get(3)?,
        query: r.get(4)?,
        body_size: r.get::<_, i64>(5)?.max(0) as u64,
        valid: r.get(6)?,
        verdict_code: serde_json::from_value(serde_json::Value::String(code))
            .unwrap_or(VerdictCode::BodyAlteredOrWrongSecret),
        verdict_title: r.get(8)?,
        response_status: r.get(9)?,
        response_delay_ms: r.get(10)?,
        forward_url: r.get(11)?,
        forward_status: r.get(12)?,
        forward_error_class: r.get(13)?,
        forward_duration_us: r.get(14)?,
    })
}

fn detail(r: &Row<'_>) -> rusqlite::Result<ReceivedDetail> {
    let summary = summary(r)?;
    // Validity, code and title live in their own columns; the verdict column holds the rest.
    let verdict = serde_json::from_str::<VerdictColumn>(&r.get::<_, String>(15)?)
        .unwrap_or_default()
        .into_verdict(
            summary.valid,
            summary.verdict_code,
            summary.verdict_title.clone(),
        );
    let forward = summary
        .forward_url
        .clone()
        .map(|url| -> rusqlite::Result<ForwardView> {
            Ok(ForwardView {
                url,
                done: summary.forward_status.is_some() || summary.forward_error_class.is_some(),
                status: summary.forward_status,
                headers: headers(r.get::<_, Option<String>>(22)?.as_deref()),
                body: r.get(23)?,
                truncated: r.get(24)?,
                duration_us: summary.forward_duration_us,
                error_class: summary.forward_error_class.clone(),
                error_message: r.get(25)?,
            })
        });
    Ok(ReceivedDetail {
        headers: headers(Some(&r.get::<_, String>(16)?)),
        body: r.get(17)?,
        body_truncated: r.get(18)?,
        verdict,
        response_headers: headers(r.get::<_, Option<String>>(19)?.as_deref()),
        response_body: r.get(20)?,
        response_closed: r.get(21)?,
        forward: forward.transpose()?,
        summary,
    })
}

fn headers(json: Option<&str>) -> Vec<Header> {
    json.map(crate::webhooks::log::headers).unwrap_or_default()
}
