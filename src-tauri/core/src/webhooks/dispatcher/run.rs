//! The running dispatcher: a scheduler task (due jobs, retry timers, endpoint settings), one
//! task per attempt under a global and a per-endpoint semaphore, and a log-writer thread that
//! commits attempts in batches and only then schedules retries.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use backon::{BackoffBuilder, ExponentialBuilder};
use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use rusqlite::{params, OptionalExtension};
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinSet;

use super::{DispatcherConfig, Hub, Job, Trigger};
use crate::clock::{now_rfc3339, rfc3339_ms, unix_ms};
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::store::Store;
use crate::webhooks::endpoints::{valid_secrets, Policy};
use crate::webhooks::signing::{self, SIGNATURE_HEADER};
use crate::webhooks::{DELIVERY_HEADER, EVENT_HEADER};

/// Response bodies are kept up to this many bytes; the rest is cut and the row says so.
pub const MAX_RESPONSE_BODY: usize = 64 * 1024;
pub const USER_AGENT: &str = concat!("Pitchbar-Webhooks/", env!("CARGO_PKG_VERSION"));

pub(crate) enum SchedMsg {
    Jobs(Vec<Job>),
    /// A job whose failed attempt is logged, to try again at `job.due_ms`.
    Retry(Job),
}

/// The handle of a running dispatcher, owned by `Core`. Dropping it aborts the tasks (as a
/// crash would: whatever was not logged stays pending and resumes at the next start);
/// [`Running::stop`] stops cleanly.
pub struct Running {
    shutdown: watch::Sender<bool>,
    scheduler: Option<tokio::task::JoinHandle<()>>,
    writer: Option<std::thread::JoinHandle<()>>,
    hub: Arc<Hub>,
}

impl Running {
    /// Takes no new work, lets attempts in flight finish (each within its endpoint's timeout)
    /// and waits for their log rows to be written.
    pub async fn stop(mut self) {
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

/// Settings of one endpoint as attempts need them.
struct EndpointRt {
    url: reqwest::Url,
    active: bool,
    policy: Policy,
    max_attempts: u32,
    timeout: Duration,
    standard_webhooks: bool,
    secrets: Vec<(Secret, Option<i64>)>,
    sem: Arc<Semaphore>,
}

struct Ctx {
    client: reqwest::Client,
    global: Arc<Semaphore>,
    config: DispatcherConfig,
    log: mpsc::UnboundedSender<LogMsg>,
}

pub(crate) fn start(store: Arc<Store>, hub: Arc<Hub>, config: DispatcherConfig) -> Result<Running> {
    if tokio::runtime::Handle::try_current().is_err() {
        return Err(Error::Internal(
            "The webhook dispatcher must be started inside the app's async runtime.".into(),
        ));
    }
    let client = build_client(&config)?;
    let (sched_tx, sched_rx) = mpsc::unbounded_channel();
    let (log_tx, log_rx) = mpsc::unbounded_channel();
    let (shutdown, shutdown_rx) = watch::channel(false);

    let writer = {
        let store = store.clone();
        let hub = hub.clone();
        let sched = sched_tx.clone();
        let batch = config.log_batch.max(1);
        std::thread::Builder::new()
            .name("webhook-log".into())
            .spawn(move || writer_loop(store, hub, sched, log_rx, batch))
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
            let _ = sched_tx.send(SchedMsg::Jobs(jobs));
        }
        hub.set_sender(Some(sched_tx));
    }

    let ctx = Arc::new(Ctx {
        client,
        global: Arc::new(Semaphore::new(config.concurrency.max(1))),
        config,
        log: log_tx,
    });
    let scheduler = tokio::spawn(scheduler(store, hub.clone(), ctx, sched_rx, shutdown_rx));
    Ok(Running {
        shutdown,
        scheduler: Some(scheduler),
        writer: Some(writer),
        hub,
    })
}

fn build_client(config: &DispatcherConfig) -> Result<reqwest::Client> {
    // Whoever installed a provider first wins; ring is ours when no one did.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        // A webhook answered with a redirect is logged as such, never followed: following
        // would send signed lead data to wherever the endpoint points.
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(60))
        .tcp_nodelay(true);
    for pem in &config.extra_ca_pem {
        let cert = reqwest::Certificate::from_pem(pem).map_err(|_| {
            Error::invalid("An extra CA certificate is not valid PEM. Check the configured file.")
        })?;
        builder = builder.add_root_certificate(cert);
    }
    builder.build().map_err(|err| {
        tracing::error!(error = %err, "cannot build the webhook HTTP client");
        Error::Internal("The webhook HTTP client could not start.".into())
    })
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
    store: Arc<Store>,
    hub: Arc<Hub>,
    ctx: Arc<Ctx>,
    mut rx: mpsc::UnboundedReceiver<SchedMsg>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut timers: BinaryHeap<Reverse<Timed>> = BinaryHeap::new();
    let mut seq = 0u64;
    let mut endpoints: HashMap<String, Arc<EndpointRt>> = HashMap::new();
    let mut sems: HashMap<String, Arc<Semaphore>> = HashMap::new();
    let mut loaded_gen = None;
    let mut tasks = JoinSet::new();
    loop {
        let now = unix_ms();
        while timers.peek().is_some_and(|t| t.0 .0 <= now) {
            let Some(Reverse(Timed(_, _, job))) = timers.pop() else {
                break;
            };
            let ep = endpoint(
                &store,
                &hub,
                &ctx,
                &mut endpoints,
                &mut sems,
                &mut loaded_gen,
                &job,
            );
            dispatch(&ctx, &mut tasks, ep, job);
        }
        let wait = timers
            .peek()
            .map(|t| Duration::from_millis(u64::try_from(t.0 .0 - now).unwrap_or(0)));
        tokio::select! {
            biased;
            _ = shutdown.changed() => break,
            msg = rx.recv() => match msg {
                Some(SchedMsg::Jobs(jobs)) => {
                    let now = unix_ms();
                    for job in jobs {
                        if job.due_ms <= now {
                            let ep = endpoint(&store, &hub, &ctx, &mut endpoints, &mut sems, &mut loaded_gen, &job);
                            dispatch(&ctx, &mut tasks, ep, job);
                        } else {
                            seq += 1;
                            timers.push(Reverse(Timed(job.due_ms, seq, job)));
                        }
                    }
                }
                Some(SchedMsg::Retry(job)) => {
                    seq += 1;
                    timers.push(Reverse(Timed(job.due_ms, seq, job)));
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

/// The job's endpoint settings, reloaded from the store when any endpoint changed.
fn endpoint(
    store: &Store,
    hub: &Hub,
    ctx: &Ctx,
    cache: &mut HashMap<String, Arc<EndpointRt>>,
    sems: &mut HashMap<String, Arc<Semaphore>>,
    loaded_gen: &mut Option<u64>,
    job: &Job,
) -> Option<Arc<EndpointRt>> {
    let generation = hub.generation();
    let secrets_expiring = cache.get(&*job.endpoint_id).is_some_and(|ep| {
        ep.secrets
            .iter()
            .any(|(_, exp)| exp.is_some_and(|e| e <= unix_ms()))
    });
    if *loaded_gen != Some(generation) || secrets_expiring {
        match load_endpoints(store, ctx, sems) {
            Ok(map) => {
                *cache = map;
                *loaded_gen = Some(generation);
            }
            Err(err) => tracing::error!(error = %err, "cannot load webhook endpoints"),
        }
    }
    cache.get(&*job.endpoint_id).cloned()
}

fn load_endpoints(
    store: &Store,
    ctx: &Ctx,
    sems: &mut HashMap<String, Arc<Semaphore>>,
) -> Result<HashMap<String, Arc<EndpointRt>>> {
    let conn = store.conn();
    let mut stmt = conn.prepare(
        "SELECT id, url, active, policy, max_attempts, timeout_ms, standard_webhooks FROM webhook_endpoint",
    )?;
    let rows: Vec<(String, String, bool, String, u32, i64, bool)> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut map = HashMap::with_capacity(rows.len());
    for (id, url, active, policy, max_attempts, timeout_ms, standard_webhooks) in rows {
        let Ok(url) = reqwest::Url::parse(&url) else {
            continue;
        };
        let sem = sems
            .entry(id.clone())
            .or_insert_with(|| Arc::new(Semaphore::new(ctx.config.per_endpoint_concurrency.max(1))))
            .clone();
        let secrets = valid_secrets(&conn, &id)?;
        map.insert(
            id,
            Arc::new(EndpointRt {
                url,
                active,
                policy: Policy::parse(&policy),
                max_attempts,
                timeout: Duration::from_millis(u64::try_from(timeout_ms).unwrap_or(5_000)),
                standard_webhooks,
                secrets,
                sem,
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
    // the user asked for still goes.
    if !ep.active && matches!(job.trigger, Trigger::Event | Trigger::Replay) {
        let _ = ctx
            .log
            .send(LogMsg::Cancel(job.delivery_id, job.endpoint_id));
        return;
    }
    let ctx = ctx.clone();
    tasks.spawn(async move {
        let Ok(_ep_permit) = ep.sem.clone().acquire_owned().await else {
            return;
        };
        let Ok(_permit) = ctx.global.clone().acquire_owned().await else {
            return;
        };
        let record = attempt(&ctx, &ep, job).await;
        let _ = ctx.log.send(LogMsg::Attempt(Box::new(record)));
    });
}

pub(crate) struct AttemptRecord {
    job: Job,
    attempted_at: i64,
    url: String,
    request_headers: String,
    status: Option<u16>,
    response_headers: Option<String>,
    response_body: Option<Vec<u8>>,
    truncated: bool,
    duration_us: i64,
    ok: bool,
    error_class: Option<&'static str>,
    error_message: Option<String>,
    next_attempt_at: Option<i64>,
    delivery_status: &'static str,
    disable_reason: Option<String>,
}

async fn attempt(ctx: &Ctx, ep: &EndpointRt, job: Job) -> AttemptRecord {
    let attempted_at = unix_ms();
    let timestamp = attempted_at.div_euclid(1000);
    let secrets: Vec<&Secret> = ep
        .secrets
        .iter()
        .filter(|(_, exp)| exp.is_none_or(|e| e > attempted_at))
        .map(|(s, _)| s)
        .collect();
    let mut sent: Vec<(&str, String)> = vec![
        ("Content-Type", "application/json".into()),
        ("User-Agent", USER_AGENT.into()),
        (
            SIGNATURE_HEADER,
            signing::sign(&secrets, timestamp, &job.body),
        ),
        (EVENT_HEADER, job.event_type.to_string()),
        (DELIVERY_HEADER, job.delivery_id.to_string()),
    ];
    let mut early_error = None;
    if ep.standard_webhooks {
        match signing::standard_webhooks_headers(&job.delivery_id, timestamp, &job.body, &secrets) {
            Ok(headers) => sent.extend(headers.map(|(n, v)| (n, v))),
            Err(err) => early_error = Some(err.to_string()),
        }
    }
    let mut headers = HeaderMap::with_capacity(sent.len());
    for (name, value) in &sent {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(n, v);
        }
    }
    let request_headers = serde_json::to_string(&sent).unwrap_or_else(|_| "[]".into());
    let started = Instant::now();
    let mut rec = AttemptRecord {
        attempted_at,
        url: ep.url.to_string(),
        request_headers,
        status: None,
        response_headers: None,
        response_body: None,
        truncated: false,
        duration_us: 0,
        ok: false,
        error_class: None,
        error_message: None,
        next_attempt_at: None,
        delivery_status: "failed",
        disable_reason: None,
        job,
    };
    let mut retry_after = None;
    if let Some(message) = early_error {
        rec.error_class = Some("other");
        rec.error_message = Some(message);
    } else {
        let sent = ctx
            .client
            .post(ep.url.clone())
            .headers(headers)
            .timeout(ep.timeout)
            .body(rec.job.body.clone())
            .send()
            .await;
        match sent {
            Ok(mut resp) => {
                let status = resp.status();
                rec.status = Some(status.as_u16());
                let pairs: Vec<(&str, String)> = resp
                    .headers()
                    .iter()
                    .map(|(n, v)| {
                        (
                            n.as_str(),
                            String::from_utf8_lossy(v.as_bytes()).into_owned(),
                        )
                    })
                    .collect();
                rec.response_headers = serde_json::to_string(&pairs).ok();
                retry_after = resp
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(parse_retry_after);
                let location = resp
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let mut body = Vec::new();
                loop {
                    match resp.chunk().await {
                        Ok(Some(chunk)) => {
                            let room = MAX_RESPONSE_BODY - body.len();
                            if chunk.len() > room {
                                body.extend_from_slice(&chunk[..room]);
                                rec.truncated = true;
                                break;
                            }
                            body.extend_from_slice(&chunk);
                        }
                        Ok(None) => break,
                        Err(err) => {
                            rec.error_message = Some(format!(
                                "Reading the response body failed: {}",
                                describe(&err)
                            ));
                            break;
                        }
                    }
                }
                rec.response_body = Some(body);
                if status.is_success() {
                    rec.ok = true;
                    rec.error_message = None;
                } else if status.is_redirection() {
                    rec.error_class = Some("redirect");
                    rec.error_message = Some(format!(
                        "The endpoint answered {status} (redirect{}). Webhook deliveries do not follow redirects: set the endpoint's URL to the final address.",
                        location.map(|l| format!(" to {l}")).unwrap_or_default()
                    ));
                } else {
                    rec.error_class = Some("non_2xx");
                    rec.error_message
                        .get_or_insert_with(|| format!("The endpoint answered {status}."));
                }
            }
            Err(err) => {
                let (class, message) = classify(&err, ep.timeout);
                rec.error_class = Some(class);
                rec.error_message = Some(message);
            }
        }
    }
    rec.duration_us = i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX);
    decide(ctx, ep, &mut rec, retry_after);
    rec
}

/// The delivery's next state after this attempt: done, retried later, dead-lettered, or the
/// endpoint turned off (410 Gone).
fn decide(ctx: &Ctx, ep: &EndpointRt, rec: &mut AttemptRecord, retry_after: Option<Duration>) {
    rec.job.attempts += 1;
    rec.job.run_attempts += 1;
    if rec.ok {
        rec.delivery_status = "succeeded";
        return;
    }
    if rec.status == Some(410) {
        rec.delivery_status = "failed";
        rec.disable_reason = Some(format!(
            "The endpoint answered 410 Gone on {}, saying it no longer accepts webhooks, so it was turned off. Turn it back on once the receiver is ready again.",
            rfc3339_ms(rec.attempted_at)
        ));
        return;
    }
    let retries = ep.policy == Policy::AtLeastOnce
        && rec.job.trigger != Trigger::Test
        && rec.job.run_attempts < ep.max_attempts;
    if !retries {
        rec.delivery_status =
            if ep.policy == Policy::AtLeastOnce && rec.job.trigger != Trigger::Test {
                "dead"
            } else {
                "failed"
            };
        return;
    }
    let backoff = ExponentialBuilder::default()
        .with_min_delay(ctx.config.backoff_base)
        .with_max_delay(ctx.config.backoff_max)
        .with_factor(2.0)
        .with_jitter()
        .with_max_times(usize::try_from(ep.max_attempts).unwrap_or(10))
        .build()
        .nth(usize::try_from(rec.job.run_attempts.saturating_sub(1)).unwrap_or(0))
        .unwrap_or(ctx.config.backoff_max);
    let delay = match retry_after {
        // The receiver knows its own load best: its Retry-After wins, within the bound.
        Some(ra) => ra.min(ctx.config.retry_after_max),
        None => backoff,
    };
    let due = rec.attempted_at + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2);
    rec.next_attempt_at = Some(due);
    rec.job.due_ms = due;
    rec.delivery_status = "pending";
}

/// `Retry-After`: delay-seconds or an HTTP-date.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

fn classify(err: &reqwest::Error, timeout: Duration) -> (&'static str, String) {
    if err.is_timeout() {
        return (
            "timeout",
            format!(
                "No answer within the endpoint's {} ms timeout.",
                timeout.as_millis()
            ),
        );
    }
    let chain = describe(err);
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return ("connection_refused", format!("The connection was refused: nothing listens at that address and port. ({chain})"));
            }
        }
        if e.downcast_ref::<rustls::Error>().is_some() {
            return ("tls", format!("The TLS handshake failed: {chain}"));
        }
        source = e.source();
    }
    let lower = chain.to_ascii_lowercase();
    if lower.contains("dns error")
        || lower.contains("failed to lookup address")
        || lower.contains("name or service not known")
    {
        (
            "dns",
            format!("The host name could not be resolved: {chain}"),
        )
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake")
    {
        ("tls", format!("The TLS handshake failed: {chain}"))
    } else if lower.contains("connection refused") {
        (
            "connection_refused",
            format!("The connection was refused: {chain}"),
        )
    } else {
        ("other", format!("The request failed: {chain}"))
    }
}

/// An error with its causes, for the log row (never secrets: URLs carry none, per the checks).
fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        let s = e.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        source = e.source();
    }
    out
}

pub(crate) enum LogMsg {
    Attempt(Box<AttemptRecord>),
    Cancel(Arc<str>, Arc<str>),
}

fn writer_loop(
    store: Arc<Store>,
    hub: Arc<Hub>,
    sched: mpsc::UnboundedSender<SchedMsg>,
    mut rx: mpsc::UnboundedReceiver<LogMsg>,
    batch: usize,
) {
    let checkpoints = Checkpointer::start(&store);
    let mut buf = Vec::with_capacity(batch);
    while let Some(first) = rx.blocking_recv() {
        buf.push(first);
        while buf.len() < batch {
            match rx.try_recv() {
                Ok(m) => buf.push(m),
                Err(_) => break,
            }
        }
        let disabled = buf
            .iter()
            .any(|m| matches!(m, LogMsg::Attempt(r) if r.disable_reason.is_some()));
        if let Err(err) = store.write(|tx| write_batch(tx, &buf)) {
            tracing::error!(error = %err, n = buf.len(), "cannot write webhook log batch; the deliveries stay pending");
        }
        if disabled {
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
                let _ = sched.send(SchedMsg::Retry(job));
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
    let mut insert = tx.prepare_cached(
        "INSERT INTO webhook_attempt (delivery_id, endpoint_id, event_type, trigger, attempt_no,
             attempted_at, url, request_headers, request_body, response_status, response_headers,
             response_body, response_truncated, duration_us, ok, error_class, error_message, next_attempt_at)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18
         WHERE EXISTS (SELECT 1 FROM webhook_endpoint WHERE id = ?2)",
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
                insert.execute(params![
                    &*j.delivery_id,
                    &*j.endpoint_id,
                    &*j.event_type,
                    j.trigger.as_str(),
                    j.attempts,
                    r.attempted_at,
                    r.url,
                    r.request_headers,
                    &j.body[..],
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
                    tx.execute(
                        "UPDATE webhook_endpoint SET active = 0, disabled_reason = ?2, updated_at = ?3 WHERE id = ?1",
                        params![&*j.endpoint_id, reason, now_rfc3339()],
                    )?;
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
