//! How much of its log the receiver keeps: the last N requests or N MB, whichever is reached
//! first; older requests are deleted as new ones are written. The user sets it; it outlives
//! each run.

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use specta::Type;

use crate::clock::now_rfc3339;
use crate::error::{Error, Result};
use crate::store::Store;

const KEY: &str = "receiver_retention";

/// What the receiver's log keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct Retention {
    /// The newest requests kept, at most (100–1,000,000).
    pub max_requests: u32,
    /// Their bodies, answers and forward answers together, at most, in MiB (10–100,000).
    pub max_megabytes: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            max_requests: 10_000,
            max_megabytes: 500,
        }
    }
}

impl Retention {
    pub const REQUESTS: std::ops::RangeInclusive<u32> = 100..=1_000_000;
    pub const MEGABYTES: std::ops::RangeInclusive<u32> = 10..=100_000;

    pub(crate) fn check(self) -> Result<Self> {
        if !Self::REQUESTS.contains(&self.max_requests) {
            return Err(Error::invalid(format!(
                "The log can keep from 100 to 1,000,000 requests, not {}. Choose a number in that range.",
                self.max_requests
            )));
        }
        if !Self::MEGABYTES.contains(&self.max_megabytes) {
            return Err(Error::invalid(format!(
                "The log can keep from 10 to 100,000 MB, not {}. Choose a size in that range.",
                self.max_megabytes
            )));
        }
        Ok(self)
    }

    pub(crate) fn max_bytes(self) -> i64 {
        i64::from(self.max_megabytes) * 1024 * 1024
    }

    /// The setting as saved, else the default (a value this version cannot read included).
    pub(crate) fn load(store: &Store) -> Result<Self> {
        let value: Option<String> = store
            .conn()
            .query_row("SELECT value FROM app_setting WHERE key = ?1", [KEY], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(value
            .and_then(|v| serde_json::from_str::<Self>(&v).ok())
            .and_then(|r| r.check().ok())
            .unwrap_or_default())
    }

    /// Saves the setting and prunes the log to it, in one transaction; returns how many
    /// requests were deleted.
    pub(crate) fn save(self, store: &Store) -> Result<u64> {
        let value = serde_json::to_string(&self)
            .map_err(|_| Error::Internal("The log's limits could not be saved.".into()))?;
        store.write(|tx| {
            tx.execute(
                "INSERT INTO app_setting (key, value, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                params![KEY, value, now_rfc3339()],
            )?;
            Ok(prune(tx, self)?.deleted)
        })
    }
}

/// The bytes a request's row keeps, as counted against the limit.
const ROW_BYTES: &str =
    "body_size + coalesce(length(response_body), 0) + coalesce(length(forward_body), 0)";

/// What the log holds after a prune.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Held {
    pub requests: i64,
    pub bytes: i64,
    pub deleted: u64,
}

/// Deletes the oldest requests until the log is within 90 % of both limits (so the next
/// prune comes after a tenth of the limit is written again, not after every batch).
pub(crate) fn prune(tx: &rusqlite::Transaction<'_>, retention: Retention) -> Result<Held> {
    let (requests, bytes): (i64, i64) = tx.query_row(
        &format!("SELECT count(*), coalesce(sum({ROW_BYTES}), 0) FROM receiver_request"),
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let (max_requests, max_bytes) = (i64::from(retention.max_requests), retention.max_bytes());
    if requests <= max_requests && bytes <= max_bytes {
        return Ok(Held {
            requests,
            bytes,
            deleted: 0,
        });
    }
    let (keep_requests, keep_bytes) = (max_requests * 9 / 10, max_bytes / 10 * 9);
    // Newest first: the rows that fit are kept, and everything from the first that does not.
    let mut stmt = tx.prepare(&format!(
        "SELECT id, {ROW_BYTES} FROM receiver_request ORDER BY id DESC"
    ))?;
    let mut rows = stmt.query([])?;
    let (mut kept, mut kept_bytes, mut cut) = (0i64, 0i64, None);
    while let Some(row) = rows.next()? {
        let (id, size): (i64, i64) = (row.get(0)?, row.get(1)?);
        if kept == keep_requests || kept_bytes + size > keep_bytes {
            cut = Some(id);
            break;
        }
        kept += 1;
        kept_bytes += size;
    }
    drop(rows);
    let deleted = match cut {
        Some(id) => tx.execute("DELETE FROM receiver_request WHERE id <= ?1", [id])? as u64,
        None => 0,
    };
    Ok(Held {
        requests: kept,
        bytes: kept_bytes,
        deleted,
    })
}
