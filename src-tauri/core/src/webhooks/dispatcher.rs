//! The durable webhook outbox: accepting events (each written with its deliveries before any
//! attempt), test events, redelivery and replay, and the background dispatcher that attempts
//! them (see `run`). Log writes are announced on a broadcast channel, never polled for.

mod attempt;
mod run;
mod writer;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use specta::Type;
use tokio::sync::{broadcast, mpsc};

use super::events::{EventType, Payload};
use super::secrets::SigningSecrets;
use crate::clock::{parse_time, unix_ms};
use crate::error::{Error, Result};
use crate::new_id;
use crate::store::Store;
use crate::workspace::Actor;

pub(crate) use attempt::{classify, header_map, parse_retry_after, read_capped};
pub use attempt::{delivery_headers, MAX_RESPONSE_BODY};
pub(crate) use run::http_client;
pub use run::{Running, USER_AGENT};

/// What the dispatcher is tuned with. The defaults suit the app; tests shorten the backoff.
#[derive(Debug, Clone)]
pub struct DispatcherConfig {
    /// Attempts in flight at once, over all endpoints.
    pub concurrency: usize,
    /// Attempts in flight at once to one endpoint.
    pub per_endpoint_concurrency: usize,
    /// The first retry's delay; each next one doubles, plus jitter of up to the delay itself.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// A `Retry-After` longer than this is cut to it, so one answer cannot park a delivery for days.
    pub retry_after_max: Duration,
    /// Log records written per transaction at most.
    pub log_batch: usize,
    /// Extra CA certificates (PEM) to trust: corporate TLS, test CAs.
    pub extra_ca_pem: Vec<Vec<u8>>,
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        Self {
            concurrency: 128,
            per_endpoint_concurrency: 32,
            backoff_base: Duration::from_secs(10),
            backoff_max: Duration::from_secs(15 * 60),
            retry_after_max: Duration::from_secs(3600),
            log_batch: 2048,
            extra_ca_pem: Vec::new(),
        }
    }
}

/// Sent after each batch of log writes; the shell forwards it as `deliveries://changed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type)]
pub struct DeliveriesChanged {
    /// The endpoints whose log or state changed.
    pub endpoint_ids: Vec<String>,
}

/// What started one run of attempts of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    Event,
    Test,
    Redeliver,
    Replay,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Event => "event",
            Trigger::Test => "test",
            Trigger::Redeliver => "redeliver",
            Trigger::Replay => "replay",
        }
    }

    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "test" => Trigger::Test,
            "redeliver" => Trigger::Redeliver,
            "replay" => Trigger::Replay,
            _ => Trigger::Event,
        }
    }
}

/// One delivery to attempt, with everything an attempt needs but the endpoint's settings.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub delivery_id: Arc<str>,
    pub endpoint_id: Arc<str>,
    pub event_type: Arc<str>,
    pub trigger: Trigger,
    pub body: Bytes,
    /// Attempts made so far, in all and in this run.
    pub attempts: u32,
    pub run_attempts: u32,
    pub due_ms: i64,
}

/// What the services and the running dispatcher share: the way to hand it jobs, the
/// endpoints' version (so it reloads their settings), and the change announcements.
pub struct Hub {
    generation: AtomicU64,
    jobs: Mutex<Option<mpsc::UnboundedSender<run::SchedMsg>>>,
    changes: broadcast::Sender<DeliveriesChanged>,
    /// `fire` calls waiting for the next group commit.
    accepting: Mutex<Vec<Arc<Queued>>>,
    /// Rung after events are accepted: the notifier (Slack, Teams, Discord) follows them.
    pub(crate) accepted: tokio::sync::Notify,
}

impl Default for Hub {
    fn default() -> Self {
        Self {
            generation: AtomicU64::new(0),
            jobs: Mutex::new(None),
            accepting: Mutex::new(Vec::new()),
            changes: broadcast::channel(256).0,
            accepted: tokio::sync::Notify::new(),
        }
    }
}

impl Hub {
    /// Every change to the delivery log or an endpoint's delivery state, pushed as it is written.
    pub fn subscribe(&self) -> broadcast::Receiver<DeliveriesChanged> {
        self.changes.subscribe()
    }

    pub(crate) fn endpoints_changed(&self) {
        self.generation.fetch_add(1, Ordering::Release);
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub(crate) fn notify_log(&self, endpoint_ids: Vec<String>) {
        // No receiver (no window yet) is fine: the next view reads the log anyway.
        let _ = self.changes.send(DeliveriesChanged { endpoint_ids });
    }

    /// Hands jobs to the running dispatcher. Called with the store's connection held, right
    /// after the commit, so that `start` (which loads pending work under the same lock) never
    /// sees a delivery twice nor misses one.
    fn enqueue(&self, jobs: Vec<Job>) {
        if jobs.is_empty() {
            return;
        }
        let guard = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = guard.as_ref() {
            let _ = tx.send(run::SchedMsg::Jobs(jobs));
        }
    }

    fn set_sender(&self, tx: Option<mpsc::UnboundedSender<run::SchedMsg>>) {
        *self.jobs.lock().unwrap_or_else(|p| p.into_inner()) = tx;
    }
}

/// What [`Dispatcher::fire`] accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type)]
pub struct Fired {
    pub event_id: String,
    /// One per subscribed active endpoint; each is that delivery's `X-Pitchbar-Delivery`.
    pub delivery_ids: Vec<String>,
}

/// The outbox service over the store.
pub struct Dispatcher<'a> {
    pub(crate) store: &'a Store,
    pub(crate) hub: &'a Hub,
}

impl Dispatcher<'_> {
    /// Accepts an event: the event and one pending delivery per subscribed active endpoint are
    /// written in one transaction, and only then handed to the dispatcher. Returns only after
    /// that commit.
    pub fn fire(&self, payload: &Payload) -> Result<Fired> {
        self.fire_body(
            payload.event_type(),
            payload.occurred_at(),
            payload.to_body(),
        )
    }

    /// Accepts many events at once: all of them (each with its deliveries) are written in one
    /// transaction, and handed to the dispatcher after that commit. Same result, in order, as
    /// calling [`Dispatcher::fire`] for each; all are saved, or none.
    pub fn fire_many(&self, payloads: &[Payload]) -> Result<Vec<Fired>> {
        let items: Vec<Accept> = payloads
            .iter()
            .map(|p| Accept {
                event_type: p.event_type(),
                occurred_at: p.occurred_at().to_owned(),
                body: Bytes::from(p.to_body()),
            })
            .collect();
        let mut conn = self.store.conn();
        let (fired, jobs) = accept(&mut conn, &items)?;
        self.hub.enqueue(jobs);
        drop(conn);
        self.hub.accepted.notify_one();
        Ok(fired)
    }

    /// [`Dispatcher::fire`] for a body already serialized (its exact bytes are sent and signed).
    ///
    /// Group commit: callers that arrive while another holds the store are queued, and the
    /// next one to get the store writes every queued event in one transaction. Each caller
    /// still returns only after the transaction holding its event has committed.
    pub fn fire_body(
        &self,
        event_type: EventType,
        occurred_at: &str,
        body: Vec<u8>,
    ) -> Result<Fired> {
        let mine = Arc::new(Queued {
            item: Accept {
                event_type,
                occurred_at: occurred_at.to_owned(),
                body: Bytes::from(body),
            },
            result: Mutex::new(None),
        });
        lock(&self.hub.accepting).push(mine.clone());
        let mut conn = self.store.conn();
        // Written by an earlier holder of the store (under the store's lock), or still queued.
        if let Some(result) = lock(&mine.result).take() {
            return result;
        }
        let queued = std::mem::take(&mut *lock(&self.hub.accepting));
        let items: Vec<Accept> = queued.iter().map(|q| q.item.clone()).collect();
        let mut jobs = Vec::new();
        match accept(&mut conn, &items) {
            Ok((fired, all_jobs)) => {
                jobs = all_jobs;
                for (q, f) in queued.iter().zip(fired) {
                    *lock(&q.result) = Some(Ok(f));
                }
            }
            // A failed group: each event on its own, so each caller gets its own outcome.
            Err(_) => {
                for q in &queued {
                    let result = accept(&mut conn, std::slice::from_ref(&q.item)).map(
                        |(mut fired, one_jobs)| {
                            jobs.extend(one_jobs);
                            fired.remove(0)
                        },
                    );
                    *lock(&q.result) = Some(result);
                }
            }
        }
        self.hub.enqueue(jobs);
        drop(conn);
        self.hub.accepted.notify_one();
        let result = lock(&mine.result).take();
        result.unwrap_or_else(|| Err(Error::Internal("The event was not accepted.".into())))
    }

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
            None => super::events::sample(event_type),
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
        let found: Option<i64> = tx
            .query_row(
                "SELECT 1 FROM webhook_endpoint WHERE id = ?1",
                [endpoint_id],
                |r| r.get(0),
            )
            .optional()?;
        if found.is_none() {
            return Err(Error::NotFound(
                "That webhook endpoint no longer exists. Reload the list.".into(),
            ));
        }
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
        let row: Option<(String, u32)> = tx
            .query_row(
                "SELECT status, attempts FROM webhook_delivery WHERE id = ?1",
                [delivery_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((status, _)) = row else {
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
        tx.commit()?;
        self.hub.enqueue(jobs);
        drop(conn);
        Ok(())
    }

    /// How many deliveries [`Dispatcher::replay_failed_since`] would send again: failed or
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

    /// Sends again every delivery counted by [`Dispatcher::count_failed_since`]; returns how many.
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
        tx.commit()?;
        let n = jobs.len() as u64;
        self.hub.enqueue(jobs);
        drop(conn);
        Ok(n)
    }
}

/// One event to accept.
#[derive(Clone)]
struct Accept {
    event_type: EventType,
    occurred_at: String,
    body: Bytes,
}

/// A `fire` waiting for the group commit that writes its event.
pub(crate) struct Queued {
    item: Accept,
    result: Mutex<Option<Result<Fired>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Writes `items` (each event with one pending delivery per subscribed active endpoint) in
/// one transaction and returns what was accepted and the jobs to hand over after the commit.
fn accept(conn: &mut rusqlite::Connection, items: &[Accept]) -> Result<(Vec<Fired>, Vec<Job>)> {
    let now = unix_ms();
    let tx = conn.transaction()?;
    let mut subscribers: Vec<(EventType, Vec<Arc<str>>)> = Vec::new();
    let mut fired = Vec::with_capacity(items.len());
    let mut jobs = Vec::new();
    for item in items {
        let event_type = item.event_type;
        let event_id = new_id();
        insert_event(
            &tx,
            &event_id,
            event_type,
            &item.body,
            &item.occurred_at,
            now,
        )?;
        let endpoints = match subscribers.iter().position(|(t, _)| *t == event_type) {
            Some(i) => &subscribers[i].1,
            None => {
                let mut stmt = tx.prepare_cached(
                    "SELECT id FROM webhook_endpoint
                     WHERE active = 1 AND EXISTS (SELECT 1 FROM json_each(events) WHERE value = ?1)",
                )?;
                let rows = stmt.query_map([event_type.as_str()], |r| {
                    r.get::<_, String>(0).map(Arc::from)
                })?;
                subscribers.push((event_type, rows.collect::<rusqlite::Result<_>>()?));
                &subscribers[subscribers.len() - 1].1
            }
        };
        let event_type_arc: Arc<str> = Arc::from(event_type.as_str());
        let mut delivery_ids = Vec::with_capacity(endpoints.len());
        for endpoint_id in endpoints {
            let id = new_id();
            insert_delivery(
                &tx,
                &id,
                &event_id,
                endpoint_id,
                event_type,
                Trigger::Event,
                now,
            )?;
            jobs.push(Job {
                delivery_id: Arc::from(id.as_str()),
                endpoint_id: endpoint_id.clone(),
                event_type: event_type_arc.clone(),
                trigger: Trigger::Event,
                body: item.body.clone(),
                attempts: 0,
                run_attempts: 0,
                due_ms: now,
            });
            delivery_ids.push(id);
        }
        fired.push(Fired {
            event_id,
            delivery_ids,
        });
    }
    tx.commit()?;
    Ok((fired, jobs))
}

const FAILED_SINCE: &str = "JOIN webhook_endpoint e ON e.id = d.endpoint_id
    WHERE d.status IN ('failed', 'dead') AND d.updated_at >= ?1 AND e.active = 1";

fn insert_event(
    tx: &rusqlite::Transaction<'_>,
    id: &str,
    event_type: EventType,
    body: &[u8],
    occurred_at: &str,
    now: i64,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO webhook_event (id, type, payload, occurred_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![id, event_type.as_str(), body, occurred_at, now])?;
    Ok(())
}

fn insert_delivery(
    tx: &rusqlite::Transaction<'_>,
    id: &str,
    event_id: &str,
    endpoint_id: &str,
    event_type: EventType,
    trigger: Trigger,
    now: i64,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO webhook_delivery (id, event_id, endpoint_id, event_type, status, attempts,
             run_attempts, next_attempt_at, trigger, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 'pending', 0, 0, ?5, ?6, ?5, ?5)",
    )?
    .execute(params![
        id,
        event_id,
        endpoint_id,
        event_type.as_str(),
        now,
        trigger.as_str()
    ])?;
    Ok(())
}

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
        if let Some(job) = run::load_job(tx, id)? {
            jobs.push(job);
        }
    }
    Ok(jobs)
}

/// Starts the background dispatcher; see [`run::start`].
pub(crate) fn start(
    store: Arc<Store>,
    hub: Arc<Hub>,
    secrets: Arc<SigningSecrets>,
    config: DispatcherConfig,
) -> Result<Running> {
    run::start(store, hub, secrets, config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhooks::events::sample_data;

    fn events_in(store: &Store) -> i64 {
        store
            .conn()
            .query_row("SELECT count(*) FROM webhook_event", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn fire_many_writes_every_event_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let hub = Hub::default();
        let d = Dispatcher {
            store: &store,
            hub: &hub,
        };
        let payloads: Vec<Payload> = EventType::ALL
            .iter()
            .map(|t| Payload::now(sample_data(*t)))
            .collect();
        let fired = d.fire_many(&payloads).unwrap();
        assert_eq!(fired.len(), payloads.len());
        for (f, p) in fired.iter().zip(&payloads) {
            let (ty, body): (String, Vec<u8>) = store
                .conn()
                .query_row(
                    "SELECT type, payload FROM webhook_event WHERE id = ?1",
                    [&f.event_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            assert_eq!(ty, p.event_type().as_str());
            assert_eq!(body, p.to_body());
        }
        assert!(d.fire_many(&[]).unwrap().is_empty());
    }

    #[test]
    fn concurrent_fires_are_each_committed_before_they_return() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let hub = Hub::default();
        let payload = Payload::now(sample_data(EventType::LeadCaptured));
        let ids: Vec<String> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        let d = Dispatcher {
                            store: &store,
                            hub: &hub,
                        };
                        (0..50)
                            .map(|_| {
                                let id = d.fire(&payload).unwrap().event_id;
                                // Returned only after its commit: already readable.
                                let found: i64 = store
                                    .conn()
                                    .query_row(
                                        "SELECT count(*) FROM webhook_event WHERE id = ?1",
                                        [&id],
                                        |r| r.get(0),
                                    )
                                    .unwrap();
                                assert_eq!(found, 1);
                                id
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        let unique: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(unique.len(), 400);
        assert_eq!(events_in(&store), 400);
        assert!(lock(&hub.accepting).is_empty());
    }
}
