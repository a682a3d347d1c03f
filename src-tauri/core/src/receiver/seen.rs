//! Replay detection: which authentic signatures were received before. In memory for speed, and
//! complete for every signed timestamp that is not older than the tolerance (the only ones that
//! could still be valid); older ones are looked up in the log's replay index instead.
//!
//! The memory is keyed by the signed timestamp (`t=`), which a replay carries unchanged (the
//! signature covers it). So forgetting is cheap and exact: once `t` is older than the window no
//! request signed at `t` is checked here any more, and its whole bucket goes. The set holds
//! every signature received during this run plus, loaded at start, the log's signatures signed
//! within the window or later.
//!
//! A signature is remembered by its first 8 bytes. Only authentic signatures are remembered,
//! and an HMAC's bytes are uniformly random, so those bytes are their own hash, and two
//! different signatures of one second sharing them is a chance of about n² / 2⁶⁵ (n = 50,000
//! requests in that second: 7 × 10⁻¹¹). A quarter of the memory, and no hashing, per request.

use std::collections::BTreeMap;
use std::sync::Mutex;

use nohash_hasher::IntSet;

use super::settings::TOLERANCE_SECS;
use crate::clock::unix_ms;
use crate::error::Result;
use crate::store::Store;

/// Buckets are kept this long past the window, so that requests checked a moment apart (their
/// clocks read before the lock) never ask for a bucket another one just dropped.
const SLACK_SECS: i64 = 60;

#[derive(Default)]
pub(crate) struct Seen {
    /// Signed timestamp → the signatures received with it.
    by_signed_at: Mutex<BTreeMap<i64, IntSet<u64>>>,
}

/// Whether the memory alone answers for a request signed at `signed_at`, checked at `now`
/// (unix seconds): it does for anything not older than the window.
pub(crate) fn in_memory_window(signed_at: i64, now: i64) -> bool {
    signed_at >= now - TOLERANCE_SECS
}

impl Seen {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<i64, IntSet<u64>>> {
        crate::sync::lock(&self.by_signed_at)
    }

    /// Loads the log's signatures signed within the window or later (a range of the replay
    /// index).
    pub(crate) fn load_recent(&self, store: &Store) -> Result<()> {
        let since = unix_ms().div_euclid(1000) - TOLERANCE_SECS - SLACK_SECS;
        let conn = store.conn();
        let mut stmt = conn.prepare(
            "SELECT signed_at, signature FROM receiver_request
             WHERE signature IS NOT NULL AND signed_at >= ?1",
        )?;
        let mut rows = stmt.query([since])?;
        let mut memory = self.lock();
        while let Some(row) = rows.next()? {
            if let Ok(sig) = <[u8; 32]>::try_from(row.get::<_, Vec<u8>>(1)?.as_slice()) {
                memory
                    .entry(row.get(0)?)
                    .or_default()
                    .insert(fingerprint(&sig));
            }
        }
        Ok(())
    }

    /// Whether any of `sigs`, signed at `signed_at`, was received before; records them all.
    /// One lock for both, so of two identical requests arriving together one is the replay.
    pub(crate) fn check_and_insert(&self, signed_at: i64, sigs: &[[u8; 32]], now: i64) -> bool {
        let mut memory = self.lock();
        let forget_before = now - TOLERANCE_SECS - SLACK_SECS;
        while let Some(oldest) = memory.first_entry() {
            if *oldest.key() >= forget_before {
                break;
            }
            oldest.remove();
        }
        // A new second's bucket starts as large as the last one ended: a burst's buckets are
        // not regrown from nothing every second.
        let size = memory.last_key_value().map_or(0, |(_, last)| last.len());
        let bucket = memory
            .entry(signed_at)
            .or_insert_with(|| IntSet::with_capacity_and_hasher(size, Default::default()));
        let mut seen = false;
        for sig in sigs {
            seen |= !bucket.insert(fingerprint(sig));
        }
        seen
    }

    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().values().map(|b| b.len()).sum()
    }
}

fn fingerprint(sig: &[u8; 32]) -> u64 {
    let mut first = [0u8; 8];
    first.copy_from_slice(&sig[..8]);
    u64::from_le_bytes(first)
}

/// Whether the log holds any of `sigs`, signed at `signed_at` (the replay index): for requests
/// older than the window.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(n: u32) -> [u8; 32] {
        let mut s = [0u8; 32];
        s[..4].copy_from_slice(&n.to_le_bytes());
        s
    }

    #[test]
    fn a_signature_is_seen_again_under_its_own_timestamp_only() {
        let seen = Seen::default();
        let now = 1_800_000_000;
        assert!(!seen.check_and_insert(now, &[sig(1)], now));
        assert!(seen.check_and_insert(now, &[sig(1)], now + 1));
        // The same bytes under another timestamp cannot be the same signed message.
        assert!(!seen.check_and_insert(now - 1, &[sig(1)], now + 1));
        // Several signatures in one header (a rotation): any one seen before makes a replay,
        // and all are remembered.
        assert!(seen.check_and_insert(now, &[sig(2), sig(1)], now + 2));
        assert!(seen.check_and_insert(now, &[sig(2)], now + 2));
        // Future-dated ones are kept until their time has passed the window.
        assert!(!seen.check_and_insert(now + 3_600, &[sig(3)], now + 3));
        assert!(seen.check_and_insert(now + 3_600, &[sig(3)], now + 3_000));
    }

    #[test]
    fn memory_holds_the_window_and_no_more() {
        let seen = Seen::default();
        let start = 1_800_000_000;
        // An hour of traffic, 50 requests a second, each signed as it is sent.
        for second in 0..3_600 {
            for n in 0..50 {
                let now = start + second;
                assert!(!seen.check_and_insert(now, &[sig(second as u32 * 50 + n)], now));
            }
        }
        let window = (TOLERANCE_SECS + SLACK_SECS + 1) as usize * 50;
        assert!(seen.len() <= window, "{} > {window}", seen.len());
        assert!(in_memory_window(
            start + 3_599 - TOLERANCE_SECS,
            start + 3_599
        ));
        assert!(!in_memory_window(
            start + 3_598 - TOLERANCE_SECS,
            start + 3_599
        ));
    }
}
