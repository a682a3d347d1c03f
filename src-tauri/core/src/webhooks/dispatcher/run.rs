//! The running dispatcher: a scheduler task (due jobs, retry timers, endpoint settings), one
//! task per attempt under a global and a per-endpoint semaphore; attempts go to the log writer
//! (writer.rs), which commits them in batches and only then schedules retries.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinSet;

use super::attempt::attempt;
use super::config::DispatcherConfig;
use super::endpoint::{EndpointRt, Lane};
use super::writer::{writer_loop, LogMsg};
use crate::clock::unix_ms;
use crate::error::{Error, Result};
use crate::net::ClientSpec;
use crate::outbox::{load_job, Hub, Job, Trigger};
use crate::store::Store;
use crate::webhooks::endpoints::{valid_secrets, Policy};
use crate::webhooks::secrets::SigningSecrets;

/// How long an endpoint whose secret could not be read waits before the keychain is asked
/// again: often enough to resume soon after it is unlocked, not once per delivery.
const SECRET_RETRY_MS: i64 = 5_000;

/// The handle of a running dispatcher, owned by `Core`. Dropping it aborts the tasks (as a
/// crash would: whatever was not logged stays pending and resumes at the next start);
/// [`Running::stop`] stops cleanly.
pub struct Running {
    shutdown: watch::Sender<bool>,
    scheduler: Option<tokio::task::JoinHandle<()>>,
    writer: Option<std::thread::JoinHandle<()>>,
    hub: Arc<Hub>,
}

impl crate::service::Service for Running {
    const NAME: &'static str = "webhook dispatcher";

    /// Takes no new work, lets attempts in flight finish (each within its endpoint's timeout)
    /// and waits for their log rows to be written.
    async fn stop(mut self) {
        self.hub.set_sender(None);
        let _ = self.shutdown.send(true);
        if let Some(handle) = self.scheduler.take() {
            let _ = handle.await;
        }
        if let Some(writer) = self.writer.take() {
            let _ = tokio::task::spawn_blocking(move || writer.join()).await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.hub.set_sender(None);
        if let Some(handle) = self.scheduler.take() {
            handle.abort();
        }
    }
}

pub(super) struct Ctx {
    pub(super) client: reqwest::Client,
    pub(super) global: Arc<Semaphore>,
    pub(super) config: DispatcherConfig,
    pub(super) log: std::sync::mpsc::Sender<LogMsg>,
}

pub(crate) fn start(
    store: Arc<Store>,
    hub: Arc<Hub>,
    secrets: Arc<SigningSecrets>,
    config: DispatcherConfig,
) -> Result<Running> {
    if tokio::runtime::Handle::try_current().is_err() {
        return Err(Error::Internal(
            "The webhook dispatcher must be started inside the app's async runtime.".into(),
        ));
    }
    let client = ClientSpec::new("webhook deliveries")
        .user_agent(crate::webhooks::USER_AGENT)
        .build(&config.extra_cas)?;
    let (sched_tx, sched_rx) = mpsc::unbounded_channel();
    let (log_tx, log_rx) = std::sync::mpsc::channel();
    let (shutdown, shutdown_rx) = watch::channel(false);

    let writer = {
        let store = store.clone();
        let hub = hub.clone();
        let sched = sched_tx.clone();
        let batch = config.log_batch.max(1);
        let clock = config.clock.clone();
        std::thread::Builder::new()
            .name("webhook-log".into())
            .spawn(move || writer_loop(store, hub, sched, log_rx, batch, clock))
            .map_err(|_| Error::Internal("The webhook log writer could not start.".into()))?
    };

    // Pending work is loaded and the sender installed under the store's lock, the same lock
    // every enqueue happens under: no delivery is picked up twice or missed.
    {
        let conn = store.conn();
        let mut stmt = conn.prepare(
            "SELECT d.id FROM webhook_delivery d WHERE d.status = 'pending' ORDER BY d.next_attempt_at",
        )?;
        let ids: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        drop(stmt);
        let mut jobs = Vec::with_capacity(ids.len());
        for id in &ids {
            if let Some(job) = load_job(&conn, id)? {
                jobs.push(job);
            }
        }
        if !jobs.is_empty() {
            tracing::info!(pending = jobs.len(), "resuming pending webhook deliveries");
            let _ = sched_tx.send(jobs);
        }
        hub.set_sender(Some(sched_tx));
    }

    let ctx = Arc::new(Ctx {
        client,
        global: Arc::new(Semaphore::new(config.concurrency.max(1))),
        config,
        log: log_tx,
    });
    let scheduler = tokio::spawn(scheduler(
        Loader {
            store,
            secrets,
            hub: hub.clone(),
            endpoints: HashMap::new(),
            lanes: HashMap::new(),
            loaded: None,
        },
        ctx,
        sched_rx,
        shutdown_rx,
    ));
    Ok(Running {
        shutdown,
        scheduler: Some(scheduler),
        writer: Some(writer),
        hub,
    })
}

struct Timed(i64, u64, Job);
impl PartialEq for Timed {
    fn eq(&self, o: &Self) -> bool {
        (self.0, self.1) == (o.0, o.1)
    }
}
impl Eq for Timed {}
impl PartialOrd for Timed {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Timed {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.0, self.1).cmp(&(o.0, o.1))
    }
}

async fn scheduler(
    mut loader: Loader,
    ctx: Arc<Ctx>,
    mut rx: mpsc::UnboundedReceiver<Vec<Job>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut timers: BinaryHeap<Reverse<Timed>> = BinaryHeap::new();
    let mut seq = 0u64;
    let mut tasks = JoinSet::new();
    loop {
        let now = ctx.config.clock.now_ms();
        while timers.peek().is_some_and(|t| t.0 .0 <= now) {
            let Some(Reverse(Timed(_, _, job))) = timers.pop() else {
                break;
            };
            let ep = loader.endpoint(&job).await;
            dispatch(&ctx, &mut tasks, ep, job);
        }
        let wait = timers
            .peek()
            .map(|t| Duration::from_millis(u64::try_from(t.0 .0 - now).unwrap_or(0)));
        tokio::select! {
            biased;
            _ = shutdown.changed() => break,
            msg = rx.recv() => match msg {
                // Accepted, started by hand, or retries once their attempt is logged.
                Some(jobs) => {
                    let now = ctx.config.clock.now_ms();
                    for job in jobs {
                        if job.due_ms <= now {
                            let ep = loader.endpoint(&job).await;
                            dispatch(&ctx, &mut tasks, ep, job);
                        } else {
                            seq += 1;
                            timers.push(Reverse(Timed(job.due_ms, seq, job)));
                        }
                    }
                }
                None => break,
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            _ = sleep_opt(wait) => {}
        }
    }
    // Clean stop: attempts in flight finish and are logged; what waits for a timer stays
    // pending in the database and resumes at the next start.
    while tasks.join_next().await.is_some() {}
}

async fn sleep_opt(wait: Option<Duration>) {
    match wait {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

/// The endpoints' settings and secrets as attempts need them, kept between reloads.
struct Loader {
    store: Arc<Store>,
    secrets: Arc<SigningSecrets>,
    hub: Arc<Hub>,
    endpoints: HashMap<String, Arc<EndpointRt>>,
    /// Outlive reloads, so jobs queued and workers running keep their endpoint's limit.
    lanes: HashMap<String, Arc<Lane>>,
    /// The endpoints' generation loaded, and when.
    loaded: Option<(u64, i64)>,
}

impl Loader {
    /// The job's endpoint settings, reloaded when any endpoint changed, a previous secret
    /// expired, or a secret could not be read a while ago.
    async fn endpoint(&mut self, job: &Job) -> Option<Arc<EndpointRt>> {
        let generation = self.hub.generation();
        let now = unix_ms();
        let stale = self.endpoints.get(&*job.endpoint_id).is_some_and(|ep| {
            ep.secrets
                .iter()
                .any(|(_, exp)| exp.is_some_and(|e| e <= now))
                || (ep.secret_error.is_some()
                    && self
                        .loaded
                        .is_some_and(|(_, at)| now - at >= SECRET_RETRY_MS))
        });
        if self.loaded.map(|(g, _)| g) != Some(generation) || stale {
            let (store, secrets) = (self.store.clone(), self.secrets.clone());
            let mut lanes = std::mem::take(&mut self.lanes);
            // A secret not in memory yet is read from the keychain, a blocking D-Bus call on
            // Linux (with the database lock taken in between): never on an executor thread,
            // where it would stall every other task scheduled there.
            let loaded = tokio::task::spawn_blocking(move || {
                let map = load_endpoints(&store, &secrets, &mut lanes);
                (map, lanes)
            })
            .await;
            match loaded {
                Ok((map, lanes)) => {
                    self.lanes = lanes;
                    match map {
                        Ok(map) => {
                            self.endpoints = map;
                            self.loaded = Some((generation, now));
                        }
                        Err(err) => tracing::error!(error = %err, "cannot load webhook endpoints"),
                    }
                }
                Err(err) => tracing::error!(error = %err, "loading webhook endpoints panicked"),
            }
        }
        self.endpoints.get(&*job.endpoint_id).cloned()
    }
}

fn load_endpoints(
    store: &Store,
    secrets: &SigningSecrets,
    lanes: &mut HashMap<String, Arc<Lane>>,
) -> Result<HashMap<String, Arc<EndpointRt>>> {
    secrets.move_legacy_or_log(store);
    type Row = (String, String, bool, String, u32, i64, bool, bool);
    let rows: Vec<Row> = store
        .conn()
        .prepare(
            "SELECT id, url, active, policy, max_attempts, timeout_ms, standard_webhooks,
                    coalesce(disabled_for = 'failing', 0)
             FROM webhook_endpoint",
        )?
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut map = HashMap::with_capacity(rows.len());
    for (id, url, active, policy, max_attempts, timeout_ms, standard_webhooks, holds) in rows {
        let Ok(url) = reqwest::Url::parse(&url) else {
            continue;
        };
        let lane = lanes.entry(id.clone()).or_default().clone();
        let (secrets, secret_error) = match valid_secrets(store, secrets, &id) {
            Ok(valid) => (valid, None),
            Err(err) => {
                tracing::warn!(error = %err, endpoint_id = id, "deliveries to this endpoint fail until its signing secret can be read");
                (
                    Vec::new(),
                    Some(format!(
                        "Not sent, so that nothing goes out unsigned: {err}"
                    )),
                )
            }
        };
        map.insert(
            id,
            Arc::new(EndpointRt {
                url,
                active,
                holds,
                policy: Policy::parse(&policy),
                max_attempts,
                timeout: Duration::from_millis(u64::try_from(timeout_ms).unwrap_or(5_000)),
                standard_webhooks,
                secrets,
                secret_error,
                lane,
            }),
        );
    }
    Ok(map)
}

fn dispatch(ctx: &Arc<Ctx>, tasks: &mut JoinSet<()>, ep: Option<Arc<EndpointRt>>, job: Job) {
    let Some(ep) = ep else {
        // The endpoint was deleted, and its deliveries with it.
        return;
    };
    // Turned off (by the user, or by a 410): automatic work stops; a test or a redelivery
    // the user asked for still goes. Turned off for failing: the delivery stays pending in the
    // database, held until the endpoint is turned back on (which hands it over again).
    if !ep.active && matches!(job.trigger, Trigger::Event | Trigger::Replay) {
        if ep.holds {
            return;
        }
        let _ = ctx
            .log
            .send(LogMsg::Cancel(job.delivery_id, job.endpoint_id));
        return;
    }
    let lane = ep.lane.clone();
    if !lane.push(ep, job, ctx.config.per_endpoint_concurrency.max(1)) {
        return;
    }
    let ctx = ctx.clone();
    tasks.spawn(async move {
        while let Some((ep, job)) = lane.next() {
            let Ok(permit) = ctx.global.acquire().await else {
                return;
            };
            let record = attempt(&ctx.client, &ctx.config, &ep, job).await;
            drop(permit);
            let _ = ctx.log.send(LogMsg::Attempt(Box::new(record)));
        }
    });
}
