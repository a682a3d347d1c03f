//! One endpoint as the running dispatcher holds it: its settings and secrets as attempts need
//! them, and its lane of due jobs and the workers taking them.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::outbox::Job;
use crate::secret::Secret;
use crate::webhooks::endpoints::Policy;

/// Settings of one endpoint as attempts need them.
pub(crate) struct EndpointRt {
    pub(crate) url: reqwest::Url,
    pub(crate) active: bool,
    /// Off because it kept failing: its automatic deliveries stay pending (held) until it is
    /// turned back on, rather than being cancelled.
    pub(crate) holds: bool,
    pub(crate) policy: Policy,
    pub(crate) max_attempts: u32,
    pub(crate) timeout: Duration,
    pub(crate) standard_webhooks: bool,
    pub(crate) secrets: Vec<(Secret, Option<i64>)>,
    /// Why the current secret could not be read (keychain locked or gone): attempts are then
    /// logged as failed with this, never sent unsigned.
    pub(crate) secret_error: Option<String>,
    pub(crate) lane: Arc<Lane>,
}

/// One endpoint's due jobs and the workers taking them: a worker is started when a job
/// arrives and fewer than the endpoint's limit run, and ends when it finds the queue empty.
/// One task per worker rather than per job keeps a burst of thousands of deliveries from
/// becoming thousands of tasks parked on semaphores.
#[derive(Default)]
pub(crate) struct Lane {
    state: Mutex<LaneState>,
}

#[derive(Default)]
struct LaneState {
    queue: VecDeque<(Arc<EndpointRt>, Job)>,
    workers: usize,
}

impl Lane {
    /// Queues the job; true when a new worker should start for it.
    pub(super) fn push(&self, ep: Arc<EndpointRt>, job: Job, max_workers: usize) -> bool {
        let mut state = crate::sync::lock(&self.state);
        state.queue.push_back((ep, job));
        let start = state.workers < max_workers;
        if start {
            state.workers += 1;
        }
        start
    }

    /// The next job, or None when there is none, and then this worker is done (counted off
    /// under the same lock that `push` looks at the count under, so no job is left unserved).
    pub(super) fn next(&self) -> Option<(Arc<EndpointRt>, Job)> {
        let mut state = crate::sync::lock(&self.state);
        let next = state.queue.pop_front();
        if next.is_none() {
            state.workers -= 1;
        }
        next
    }
}
