//! Replay detection: which authentic signatures were received before. In memory for speed, exact for
//! every request whose timestamp is still within the tolerance (the only ones that could be
//! valid); older ones are looked up in the log's replay index instead.
//!
//! Why memory suffices for the recent ones: a signature within the tolerance now was made less
//! than `tolerance` ago, so an earlier copy of it arrived at most `2 × tolerance` ago (unless it
//! arrived long before its own timestamp, i.e. was future-dated far beyond the tolerance). The
//! set holds everything received during this run plus, loaded at start, the log's rows of the
//! last `2 × tolerance`; entries older than that are pruned.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::clock::unix_ms;
use crate::error::Result;
use crate::store::Store;

/// Pruning walks the whole set: do it once per this many insertions.
const PRUNE_EVERY: usize = 4096;

#[derive(Default)]
pub(crate) struct Seen {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Signature → when it was received (unix ms).
    at: HashMap<[u8; 32], i64>,
    window_ms: i64,
    since_prune: usize,
}

impl Seen {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Loads the log's signatures of the last `2 × tolerance`, newest first (the rowid order).
    pub(crate) fn load_recent(&self, store: &Store, tolerance_secs: i64) -> Result<()> {
        let window_ms = 2 * tolerance_secs * 1000;
        let since = unix_ms() - window_ms;
        let conn = store.conn();
        let mut stmt = conn.prepare(
            "SELECT signature, received_at FROM receiver_request
             WHERE signature IS NOT NULL ORDER BY id DESC",
        )?;
        let mut rows = stmt.query([])?;
        let mut inner = self.lock();
        inner.window_ms = window_ms;
        while let Some(row) = rows.next()? {
            let at: i64 = row.get(1)?;
            if at < since {
                break;
            }
            if let Ok(sig) = <[u8; 32]>::try_from(row.get::<_, Vec<u8>>(0)?.as_slice()) {
                inner.at.entry(sig).or_insert(at);
            }
        }
        Ok(())
    }

    /// Whether any of `sigs` was received before; records them all as received `now_ms`.
    /// One lock for both, so of two identical requests arriving together one is the replay.
    pub(crate) fn check_and_insert(&self, sigs: &[[u8; 32]], now_ms: i64) -> bool {
        let mut inner = self.lock();
        let mut seen = false;
        for sig in sigs {
            seen |= inner.at.insert(*sig, now_ms).is_some();
        }
        inner.since_prune += sigs.len();
        if inner.since_prune >= PRUNE_EVERY {
            inner.since_prune = 0;
            let oldest = now_ms - inner.window_ms.max(1);
            inner.at.retain(|_, at| *at >= oldest);
        }
        seen
    }

    pub(crate) fn clear(&self) {
        self.lock().at.clear();
    }
}

/// Whether the log holds any of `sigs`, signed at `signed_at` (the replay index): for requests
/// outside the window.
pub(crate) fn in_log(store: &Store, signed_at: i64, sigs: &[[u8; 32]]) -> Result<bool> {
    let conn = store.conn();
    let mut stmt = conn.prepare_cached(
        "SELECT 1 FROM receiver_request
         WHERE signed_at = ?1 AND signature = ?2 LIMIT 1",
    )?;
    for sig in sigs {
        if stmt.exists(rusqlite::params![signed_at, &sig[..]])? {
            return Ok(true);
        }
    }
    Ok(false)
}
