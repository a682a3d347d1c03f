//! The destinations' worker: for each active destination, the items due are sent in order
//! (in batches where the provider has a batch endpoint), and what became of each is written
//! with the calls made for it. Everything is queued before it is sent, so a restart resumes
//! where it stopped; what a crash cut short is looked up before it is made again.

use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use tokio::sync::watch;

use super::cx::{Config, Failure};
use super::hub::Hub;
use super::providers::{self, Item, Outcome, Sent};
use super::queue::{self, Decided, Row};
use super::work;
use crate::clock::unix_ms;
use crate::error::Result;
use crate::oauth::OAuth;
use crate::store::Store;

/// How the worker retries.
#[derive(Debug, Clone)]
pub struct DestinationsConfig {
    /// The longest it sleeps without a wake-up (a reconnect is noticed within it).
    pub tick_max: Duration,
    pub retry_min_delay: Duration,
    pub retry_max_delay: Duration,
    /// Tries of an item that keeps failing with a temporary error before it is failed.
    pub max_attempts: u32,
}

impl Default for DestinationsConfig {
    fn default() -> Self {
        Self {
            tick_max: Duration::from_secs(5),
            retry_min_delay: Duration::from_secs(15),
            retry_max_delay: Duration::from_secs(3600),
            max_attempts: 10,
        }
    }
}

#[derive(Clone)]
pub(crate) struct Ctx {
    pub store: Arc<Store>,
    pub oauth: OAuth,
    pub hub: Arc<Hub>,
    pub outbox: Arc<crate::outbox::Hub>,
    pub config: DestinationsConfig,
}

pub struct Running {
    shutdown: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl crate::service::Service for Running {
    const NAME: &'static str = "destinations";

    /// Lets the pass in flight finish (and be written), then stops.
    async fn stop(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

pub(crate) fn start(ctx: Ctx) -> Running {
    let (shutdown, mut stopped) = watch::channel(false);
    let task = tokio::spawn(async move {
        loop {
            let next = match pass(&ctx).await {
                Ok(next) => next,
                Err(err) => {
                    tracing::warn!(error = %err, "destinations pass failed");
                    None
                }
            };
            let wait = next
                .map(|at| Duration::from_millis(u64::try_from(at - unix_ms()).unwrap_or(0)))
                .unwrap_or(ctx.config.tick_max)
                .min(ctx.config.tick_max);
            if wait.is_zero() {
                if *stopped.borrow() {
                    return;
                }
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = ctx.hub.wake.notified() => {}
                _ = ctx.outbox.destinations_queued.notified() => {}
                _ = stopped.changed() => return,
            }
        }
    });
    Running {
        shutdown,
        task: Some(task),
    }
}

/// One pass over every active destination. Returns when something is due next.
async fn pass(ctx: &Ctx) -> Result<Option<i64>> {
    let mut next: Option<i64> = None;
    let rows = queue::active(&ctx.store.conn())?;
    for row in rows {
        let at = match send_due(ctx, &row).await {
            Ok(at) => at,
            Err(err) => {
                tracing::warn!(provider = %row.provider, error = %err, "destination pass failed");
                Some(unix_ms() + ctx.config.retry_min_delay.as_millis() as i64)
            }
        };
        next = match (next, at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    Ok(next)
}

async fn send_due(ctx: &Ctx, row: &Row) -> Result<Option<i64>> {
    let now = unix_ms();
    if row.hold_until > now {
        return Ok(Some(row.hold_until));
    }
    let limit = providers::batch_size(&row.provider);
    let (due, later) = queue::due(&ctx.store.conn(), &row.provider, now, limit)?;
    if due.is_empty() {
        return Ok(later);
    }
    // What the items are about, read now; those about nothing here are skipped.
    let mut items = Vec::with_capacity(due.len());
    let mut skipped = Vec::new();
    {
        let conn = ctx.store.conn();
        for d in &due {
            let payload = serde_json::from_slice(&d.payload).unwrap_or_default();
            let work = match d.event_type.parse() {
                Ok(t) => work::load(&conn, t, &payload)?,
                Err(_) => None,
            };
            match work {
                Some(work) => items.push(Item {
                    event_id: d.event_id.clone(),
                    work,
                }),
                None => skipped.push(d.event_id.clone()),
            }
        }
    }
    let config = Config {
        mapping: serde_json::from_str(&row.mapping).unwrap_or_default(),
        options: serde_json::from_str(&row.options).unwrap_or_default(),
    };
    let skip: Outcome = Ok(Sent::Skipped(
        "What this event is about does not exist in this workspace (a sample or a deleted record)."
            .into(),
    ));
    if items.is_empty() {
        let decided: Vec<Decided> = skipped
            .iter()
            .map(|event_id| Decided {
                event_id,
                outcome: &skip,
                attempts: 0,
                retry_at: None,
                gave_up: false,
            })
            .collect();
        ctx.store
            .write(|tx| queue::record(tx, &row.provider, "queue", &[], &decided, 0, now))?;
        ctx.hub.changed(&row.provider);
        return Ok(Some(now));
    }
    let mut cx = match providers::open(
        &ctx.store,
        &ctx.hub.call_times,
        &ctx.oauth,
        &row.provider,
        &row.connection_id,
        config,
    )
    .await
    {
        Ok(cx) => cx,
        Err(err) => {
            // The connection cannot be used (needs reconnecting, keychain locked): the queue
            // waits; the card says why.
            let message = err.to_string();
            ctx.store.write(|tx| {
                super::queue::tell_failing(tx, &row.provider, &message)?;
                tx.execute(
                    "UPDATE destination SET last_error = ?2, failing_since = coalesce(failing_since, ?3)
                     WHERE provider = ?1",
                    rusqlite::params![row.provider, message, now],
                )?;
                Ok(())
            })?;
            ctx.hub.changed(&row.provider);
            return Ok(Some(now + ctx.config.retry_min_delay.as_millis() as i64));
        }
    };
    let outcomes = providers::deliver(&mut cx, &items).await;
    let done_at = unix_ms();
    let mut reconnect: Option<String> = None;
    let mut decided = Vec::new();
    for event_id in &skipped {
        decided.push(Decided {
            event_id,
            outcome: &skip,
            attempts: 0,
            retry_at: None,
            gave_up: false,
        });
    }
    for (item, outcome) in items.iter().zip(&outcomes) {
        let attempts = due
            .iter()
            .find(|d| d.event_id == item.event_id)
            .map_or(0, |d| d.attempts);
        let (retry_at, gave_up) = match outcome {
            Err(Failure::Retry(_)) => {
                if attempts + 1 >= ctx.config.max_attempts {
                    (None, true)
                } else {
                    (Some(done_at + backoff(&ctx.config, attempts)), false)
                }
            }
            Err(Failure::Wait(d, _)) => (Some(done_at + d.as_millis() as i64), false),
            Err(Failure::Reconnect(m)) => {
                reconnect = Some(m.clone());
                (None, false)
            }
            _ => (None, false),
        };
        decided.push(Decided {
            event_id: &item.event_id,
            outcome,
            attempts,
            retry_at,
            gave_up,
        });
    }
    let hold_until = cx.hold_until;
    let calls = std::mem::take(&mut cx.calls);
    drop(cx);
    ctx.store.write(|tx| {
        queue::record(
            tx,
            &row.provider,
            "queue",
            &calls,
            &decided,
            hold_until,
            done_at,
        )
    })?;
    if let Some(message) = reconnect {
        ctx.oauth.mark_needs_reauth(&row.connection_id, &message)?;
    }
    ctx.hub.changed(&row.provider);
    // Items left untried (after a wait or a refused token) and the rest of the queue.
    Ok(Some(if hold_until > done_at {
        hold_until
    } else {
        done_at
    }))
}

fn backoff(config: &DestinationsConfig, attempts: u32) -> i64 {
    ExponentialBuilder::default()
        .with_min_delay(config.retry_min_delay)
        .with_max_delay(config.retry_max_delay)
        .with_jitter()
        .without_max_times()
        .build()
        .nth(attempts as usize)
        .unwrap_or(config.retry_max_delay)
        .as_millis() as i64
}
