//! The log writer: one thread that commits attempts in batches (then lets the scheduler retry
//! what needs it), and the checkpointer that keeps WAL checkpoints off the write lock.

use std::collections::{HashMap, HashSet};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use rusqlite::{params, OptionalExtension};

use super::attempt::AttemptRecord;
use crate::audit::{self, Area, By};
use crate::clock::{now_rfc3339, unix_ms, Clock};
use crate::error::Result;
use crate::notices::{self, NoticeKind};
use crate::outbox::{Hub, Job};
use crate::store::Store;
use crate::webhooks::endpoints::{disable_after, failing_reason};

/// How long the writer waits for more attempts before committing a batch that is not full.
const LINGER: Duration = Duration::from_millis(2);

pub(crate) enum LogMsg {
    Attempt(Box<AttemptRecord>),
    Cancel(Arc<str>, Arc<str>),
}

pub(super) fn writer_loop(
    store: Arc<Store>,
    hub: Arc<Hub>,
    sched: tokio::sync::mpsc::UnboundedSender<Vec<Job>>,
    rx: mpsc::Receiver<LogMsg>,
    batch: usize,
    clock: Clock,
) {
    let checkpoints = Checkpointer::start(&store);
    let mut buf = Vec::with_capacity(batch);
    while let Ok(first) = rx.recv() {
        buf.push(first);
        // Attempts finish one by one: waiting a moment for more makes a batch several times
        // larger, and a commit costs about the same whatever its size (the pages it touches
        // are copied to the WAL whole).
        let deadline = Instant::now() + LINGER;
        while buf.len() < batch {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(m) => buf.push(m),
                Err(_) => break,
            }
        }
        let gone = buf
            .iter()
            .any(|m| matches!(m, LogMsg::Attempt(r) if r.disable_reason.is_some()));
        let failing = match store.write(|tx| {
            write_batch(tx, &buf)?;
            failing_streaks(tx, &buf, clock.now_ms())
        }) {
            Ok(disabled) => disabled,
            Err(err) => {
                tracing::error!(error = %err, n = buf.len(), "cannot write webhook log batch; the deliveries stay pending");
                false
            }
        };
        if gone || failing {
            hub.endpoints_changed();
        }
        let mut endpoint_ids: Vec<String> = Vec::new();
        for msg in buf.drain(..) {
            let (ep, retry) = match msg {
                LogMsg::Attempt(rec) => {
                    let ep = rec.job.endpoint_id.clone();
                    let retry = (rec.delivery_status == "pending").then_some(rec.job);
                    (ep, retry)
                }
                LogMsg::Cancel(_, ep) => (ep, None),
            };
            if let Some(job) = retry {
                let _ = sched.send(vec![job]);
            }
            if !endpoint_ids.iter().any(|e| **e == *ep) {
                endpoint_ids.push(ep.to_string());
            }
        }
        hub.notify_log(endpoint_ids);
        if let Some(c) = &checkpoints {
            c.nudge();
        }
    }
    if let Some(c) = checkpoints {
        c.stop(&store);
    }
}

/// Copies the WAL back into the database from a thread of its own, with its own connection,
/// while the dispatcher runs: SQLite's automatic checkpoint would otherwise run (with its
/// fsyncs) inside whichever commit crosses the threshold, holding the store's lock — stalling
/// `fire` and the log writer. Commits and their durability are unchanged; only where the
/// checkpoint runs moves. Stopped (and the automatic checkpoint restored) with the writer.
struct Checkpointer {
    tx: std::sync::mpsc::SyncSender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Checkpointer {
    fn start(store: &Store) -> Option<Self> {
        let conn = rusqlite::Connection::open(store.path()).ok()?;
        conn.busy_timeout(Duration::from_secs(5)).ok()?;
        let (tx, rx) = std::sync::mpsc::sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("webhook-checkpoint".into())
            .spawn(move || {
                while rx.recv().is_ok() {
                    // PASSIVE: never waits for, nor blocks, readers and writers.
                    if let Err(err) =
                        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                    {
                        tracing::warn!(error = %err, "webhook log checkpoint failed");
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            })
            .ok()?;
        if let Err(err) = store.conn().execute_batch("PRAGMA wal_autocheckpoint = 0") {
            tracing::warn!(error = %err, "cannot move checkpoints off the store's lock");
        }
        Some(Self { tx, thread })
    }

    fn nudge(&self) {
        let _ = self.tx.try_send(());
    }

    fn stop(self, store: &Store) {
        drop(self.tx);
        let _ = self.thread.join();
        let _ = store
            .conn()
            .execute_batch("PRAGMA wal_autocheckpoint = 1000");
    }
}

fn write_batch(tx: &rusqlite::Transaction<'_>, batch: &[LogMsg]) -> Result<()> {
    // An endpoint deleted while its attempts were in flight took its log with it: their rows
    // are dropped. Checked once per endpoint of the batch, not once per row.
    let live = live_endpoints(tx, batch)?;
    // The body a job sends is always its event's payload, already in webhook_event: the row
    // only says so (see migration 0004), which keeps ~1 KB per attempt out of the log.
    let mut insert = tx.prepare_cached(
        "INSERT INTO webhook_attempt (delivery_id, endpoint_id, event_type, trigger, attempt_no,
             attempted_at, url, request_headers, request_body, request_body_is_payload,
             response_status, response_headers, response_body, response_truncated, duration_us,
             ok, error_class, error_message, next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, X'', 1, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    )?;
    let mut update = tx.prepare_cached(
        "UPDATE webhook_delivery SET status = ?2, attempts = ?3, run_attempts = ?4,
             next_attempt_at = ?5, updated_at = ?6 WHERE id = ?1",
    )?;
    let mut cancel = tx.prepare_cached(
        "UPDATE webhook_delivery SET status = 'cancelled', next_attempt_at = NULL, updated_at = ?2
         WHERE id = ?1 AND status = 'pending'",
    )?;
    let now = unix_ms();
    for msg in batch {
        match msg {
            LogMsg::Cancel(id, _) => {
                cancel.execute(params![&**id, now])?;
            }
            LogMsg::Attempt(r) => {
                let j = &r.job;
                if !live.contains(&*j.endpoint_id) {
                    continue;
                }
                insert.execute(params![
                    &*j.delivery_id,
                    &*j.endpoint_id,
                    &*j.event_type,
                    j.trigger.as_str(),
                    j.attempts,
                    r.attempted_at,
                    &*r.url,
                    r.request_headers,
                    r.status,
                    r.response_headers,
                    r.response_body,
                    r.truncated,
                    r.duration_us,
                    r.ok,
                    r.error_class,
                    r.error_message,
                    r.next_attempt_at,
                ])?;
                update.execute(params![
                    &*j.delivery_id,
                    r.delivery_status,
                    j.attempts,
                    j.run_attempts,
                    r.next_attempt_at,
                    now
                ])?;
                if let Some(reason) = &r.disable_reason {
                    turn_off(tx, &j.endpoint_id, reason, "gone", r.attempted_at)?;
                    tx.execute(
                        "UPDATE webhook_delivery SET status = 'cancelled', next_attempt_at = NULL, updated_at = ?2
                         WHERE endpoint_id = ?1 AND status = 'pending' AND trigger IN ('event', 'replay')",
                        params![&*j.endpoint_id, now],
                    )?;
                }
            }
        }
    }
    Ok(())
}

/// One endpoint's run of failures as a batch leaves it.
#[derive(Default)]
struct Streak<'b> {
    /// An attempt of the batch succeeded: the run before it is over.
    reset: bool,
    /// The first failure after the batch's last success (or in the batch, without one).
    first_failure: Option<i64>,
    last_error: Option<&'b str>,
}

/// Keeps each endpoint's run of failures (`failing_since`) as the batch's attempts leave it, and
/// turns off those on whose every attempt has failed for the workspace's period: their pending
/// deliveries are held (see `dispatch`), not cancelled. True when one was turned off.
/// One or two statements per endpoint of the batch, not per attempt.
fn failing_streaks(tx: &rusqlite::Transaction<'_>, batch: &[LogMsg], now: i64) -> Result<bool> {
    let mut streaks: HashMap<&str, Streak<'_>> = HashMap::new();
    for msg in batch {
        let LogMsg::Attempt(r) = msg else { continue };
        let streak = streaks.entry(&*r.job.endpoint_id).or_default();
        if r.ok {
            streak.reset = true;
            streak.first_failure = None;
        } else {
            streak.first_failure.get_or_insert(r.attempted_at);
            streak.last_error = r.error_message.as_deref().or(streak.last_error);
        }
    }
    let mut period = None;
    let mut disabled = false;
    for (id, streak) in streaks {
        let Some(first) = streak.first_failure else {
            // Off, it keeps the run that turned it off (the card says how long it failed), even
            // when a test sent by hand succeeds; turning it back on clears it.
            tx.prepare_cached(
                "UPDATE webhook_endpoint SET failing_since = NULL
                 WHERE id = ?1 AND failing_since IS NOT NULL AND active = 1",
            )?
            .execute([id])?;
            continue;
        };
        // A run of failures starts (after none, or after a success in this batch): a notice.
        let before: Option<(Option<i64>, String)> = tx
            .prepare_cached(
                "SELECT failing_since, url FROM webhook_endpoint WHERE id = ?1 AND active = 1",
            )?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if let Some((previous, url)) = &before {
            if previous.is_none() || streak.reset {
                let label = audit::url_label(url);
                notices::raise(
                    tx,
                    NoticeKind::EndpointFailing,
                    id,
                    "A webhook endpoint is failing",
                    &format!(
                        "Deliveries to {label} fail: {}. They are retried; the endpoint is turned off if every attempt keeps failing.",
                        streak
                            .last_error
                            .unwrap_or("the endpoint did not answer")
                            .trim_end_matches('.')
                    ),
                    &format!("endpoint:{id}"),
                )?;
            }
        }
        let since: Option<i64> = tx
            .prepare_cached(
                "UPDATE webhook_endpoint
                 SET failing_since = CASE WHEN ?3 THEN ?2 ELSE coalesce(failing_since, ?2) END
                 WHERE id = ?1 AND active = 1
                 RETURNING failing_since",
            )?
            .query_row(params![id, first, streak.reset], |r| r.get(0))
            .optional()?
            .flatten();
        let Some(since) = since else { continue };
        let period_ms = match period {
            Some(p) => p,
            None => *period.insert(disable_after(tx)?.period_ms()),
        };
        if now - since < period_ms {
            continue;
        }
        let reason = failing_reason(
            since,
            now,
            streak.last_error.unwrap_or("the endpoint did not answer"),
        );
        turn_off(tx, id, &reason, "failing", now)?;
        tracing::warn!(
            endpoint_id = id,
            failing_since = since,
            "every attempt to this webhook endpoint failed for the workspace's period: turned off, its pending deliveries held"
        );
        disabled = true;
    }
    Ok(disabled)
}

/// The app turns endpoint `id` off (`disabled_for`: `gone` or `failing`) and says so in the
/// audit trail.
fn turn_off(
    tx: &rusqlite::Transaction<'_>,
    id: &str,
    reason: &str,
    disabled_for: &str,
    disabled_at: i64,
) -> Result<()> {
    let url: String = tx.query_row(
        "UPDATE webhook_endpoint SET active = 0, disabled_reason = ?2, disabled_for = ?3,
             disabled_at = ?4, updated_at = ?5
         WHERE id = ?1 RETURNING url",
        params![id, reason, disabled_for, disabled_at, now_rfc3339()],
        |r| r.get(0),
    )?;
    let label = audit::url_label(&url);
    notices::raise(
        tx,
        NoticeKind::EndpointDisabled,
        id,
        "A webhook endpoint was turned off",
        &format!("{label}: {reason}"),
        &format!("endpoint:{id}"),
    )?;
    audit::record(
        tx,
        By::app(),
        Area::Endpoints,
        "endpoint.disabled",
        &label,
        format!("Turned off the endpoint {label}: {reason}"),
    )
}

/// The endpoints of the batch's attempts that still exist.
fn live_endpoints<'b>(
    tx: &rusqlite::Transaction<'_>,
    batch: &'b [LogMsg],
) -> Result<HashSet<&'b str>> {
    let mut exists = tx.prepare_cached("SELECT 1 FROM webhook_endpoint WHERE id = ?1")?;
    let mut seen = HashSet::new();
    let mut live = HashSet::new();
    for msg in batch {
        let LogMsg::Attempt(r) = msg else { continue };
        let id = &*r.job.endpoint_id;
        if seen.insert(id) && exists.exists([id])? {
            live.insert(id);
        }
    }
    Ok(live)
}
