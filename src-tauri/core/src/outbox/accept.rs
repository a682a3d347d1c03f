//! Accepting events: each event and one pending delivery per subscribed active endpoint are
//! written in one transaction, with group commit for concurrent callers, and only then handed
//! to the dispatcher.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use rusqlite::params;

use super::hub::{Accept, Hub, Queued};
use super::job::{Fired, Job, Trigger};
use crate::clock::unix_ms;
use crate::error::{Error, Result};
use crate::ids::new_id;
use crate::store::Store;
use crate::sync::lock;
use crate::webhooks::{EventType, Payload};

/// The outbox service over the store.
pub struct Outbox<'a> {
    pub(crate) store: &'a Store,
    pub(crate) hub: &'a Hub,
}

impl Outbox<'_> {
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
    /// calling [`Outbox::fire`] for each; all are saved, or none.
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
        let (fired, jobs, queued) = accept(&mut conn, &items)?;
        self.hub.enqueue(jobs);
        drop(conn);
        self.announce(queued);
        Ok(fired)
    }

    /// [`Outbox::fire`] for a body already serialized (its exact bytes are sent and signed).
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
        let mut queued_for_destinations = false;
        match accept(&mut conn, &items) {
            Ok((fired, all_jobs, for_destinations)) => {
                jobs = all_jobs;
                queued_for_destinations = for_destinations;
                for (q, f) in queued.iter().zip(fired) {
                    *lock(&q.result) = Some(Ok(f));
                }
            }
            // A failed group: each event on its own, so each caller gets its own outcome.
            Err(_) => {
                for q in &queued {
                    let result = accept(&mut conn, std::slice::from_ref(&q.item)).map(
                        |(mut fired, one_jobs, for_destinations)| {
                            jobs.extend(one_jobs);
                            queued_for_destinations |= for_destinations;
                            fired.remove(0)
                        },
                    );
                    *lock(&q.result) = Some(result);
                }
            }
        }
        self.hub.enqueue(jobs);
        drop(conn);
        self.announce(queued_for_destinations);
        let result = lock(&mine.result).take();
        result.unwrap_or_else(|| Err(Error::Internal("The event was not accepted.".into())))
    }
}

impl Outbox<'_> {
    fn announce(&self, queued_for_destinations: bool) {
        self.hub.accepted.notify_one();
        if queued_for_destinations {
            self.hub.destinations_queued.notify_one();
        }
    }
}

/// Writes `items` (each event with one pending delivery per subscribed active endpoint, and
/// one queue item per destination following its type) in one transaction and returns what was
/// accepted, the jobs to hand over after the commit, and whether a destination got any.
fn accept(
    conn: &mut rusqlite::Connection,
    items: &[Accept],
) -> Result<(Vec<Fired>, Vec<Job>, bool)> {
    let now = unix_ms();
    let tx = conn.transaction()?;
    let mut subscribers: Vec<(EventType, Vec<Arc<str>>)> = Vec::new();
    let mut destinations: Vec<(EventType, Vec<String>)> = Vec::new();
    let mut queued_for_destinations = false;
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
                     WHERE active = 1 AND test_only = 0
                       AND EXISTS (SELECT 1 FROM json_each(events) WHERE value = ?1)",
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
        let following = match destinations.iter().position(|(t, _)| *t == event_type) {
            Some(i) => &destinations[i].1,
            None => {
                destinations.push((event_type, destinations_following(&tx, event_type)?));
                &destinations[destinations.len() - 1].1
            }
        };
        for destination in following {
            tx.prepare_cached(
                "INSERT INTO destination_item (destination, event_id, event_type, status, next_attempt_at, created_at, updated_at)
                 VALUES (?1, ?2, ?3, 'pending', ?4, ?4, ?4)",
            )?
            .execute(params![destination, event_id, event_type.as_str(), now])?;
            queued_for_destinations = true;
        }
        fired.push(Fired {
            event_id,
            delivery_ids,
        });
    }
    tx.commit()?;
    Ok((fired, jobs, queued_for_destinations))
}

/// The enabled destinations (CRMs, helpdesks…) that follow `event_type`.
fn destinations_following(
    tx: &rusqlite::Transaction<'_>,
    event_type: EventType,
) -> Result<Vec<String>> {
    let mut stmt = tx.prepare_cached(
        "SELECT provider FROM destination
         WHERE enabled = 1 AND EXISTS (SELECT 1 FROM json_each(events) WHERE value = ?1)",
    )?;
    let rows = stmt.query_map([event_type.as_str()], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn insert_event(
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

pub(crate) fn insert_delivery(
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
        let d = Outbox {
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
                        let d = Outbox {
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
