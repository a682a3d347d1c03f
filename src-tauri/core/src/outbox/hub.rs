//! What the services and the running dispatcher share: the way to hand it jobs, the
//! endpoints' version (so it reloads their settings), the change announcements, and the
//! `fire` calls waiting for the next group commit.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use serde::Serialize;
use specta::Type;
use tokio::sync::{broadcast, mpsc};

use super::job::{Fired, Job};
use crate::error::Result;
use crate::sync::lock;
use crate::webhooks::EventType;

/// Sent after each batch of log writes; the shell forwards it to the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type)]
pub struct DeliveriesChanged {
    /// The endpoints whose log or state changed.
    pub endpoint_ids: Vec<String>,
}

pub struct Hub {
    generation: AtomicU64,
    jobs: Mutex<Option<mpsc::UnboundedSender<Vec<Job>>>>,
    changes: broadcast::Sender<DeliveriesChanged>,
    /// `fire` calls waiting for the next group commit.
    pub(super) accepting: Mutex<Vec<Arc<Queued>>>,
    /// Rung after events are accepted: the notifier (Slack, Teams, Discord) follows them.
    pub(crate) accepted: tokio::sync::Notify,
    /// Rung after events were queued for a destination (a CRM, a helpdesk…).
    pub(crate) destinations_queued: tokio::sync::Notify,
}

/// One event to accept.
#[derive(Clone)]
pub(super) struct Accept {
    pub(super) event_type: EventType,
    pub(super) occurred_at: String,
    pub(super) body: Bytes,
}

/// A `fire` waiting for the group commit that writes its event.
pub(super) struct Queued {
    pub(super) item: Accept,
    pub(super) result: Mutex<Option<Result<Fired>>>,
}

impl Default for Hub {
    fn default() -> Self {
        Self {
            generation: AtomicU64::new(0),
            jobs: Mutex::new(None),
            accepting: Mutex::new(Vec::new()),
            changes: broadcast::channel(256).0,
            accepted: tokio::sync::Notify::new(),
            destinations_queued: tokio::sync::Notify::new(),
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
    /// after the commit, so that a starting dispatcher (which loads pending work under the same
    /// lock) never sees a delivery twice nor misses one.
    pub(crate) fn enqueue(&self, jobs: Vec<Job>) {
        if jobs.is_empty() {
            return;
        }
        match lock(&self.jobs).as_ref() {
            Some(tx) => {
                let _ = tx.send(jobs);
            }
            // Paused (or no dispatcher here): they wait, and what shows them is told so.
            None => {
                let mut ids: Vec<String> = jobs.iter().map(|j| j.endpoint_id.to_string()).collect();
                ids.sort_unstable();
                ids.dedup();
                self.notify_log(ids);
            }
        }
    }

    /// Where jobs go from now on (`None`: nowhere, they wait in the database).
    pub(crate) fn set_sender(&self, tx: Option<mpsc::UnboundedSender<Vec<Job>>>) {
        *lock(&self.jobs) = tx;
    }
}
