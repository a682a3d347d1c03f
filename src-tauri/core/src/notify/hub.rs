//! What the settings service and the running notifier share: the wake-up bell, the change
//! announcements, the Slack reply status per target and the notifier's clock.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::{broadcast, Notify};

use super::types::{NotifyChanged, SlackReplyStatus};
use crate::oauth::Clock;

/// What the services and the running notifier share.
pub struct Hub {
    pub(crate) wake: Notify,
    changes: broadcast::Sender<NotifyChanged>,
    pub(super) reply: Mutex<HashMap<String, SlackReplyStatus>>,
    /// The notifier's clock (set when it starts), so settings and sending agree on the time.
    clock: Mutex<Clock>,
}

impl Default for Hub {
    fn default() -> Self {
        Self {
            wake: Notify::new(),
            changes: broadcast::channel(64).0,
            reply: Mutex::default(),
            clock: Mutex::new(Clock::system()),
        }
    }
}

impl Hub {
    pub(crate) fn now_ms(&self) -> i64 {
        crate::lock(&self.clock).now_ms()
    }

    pub(crate) fn set_clock(&self, clock: Clock) {
        *crate::lock(&self.clock) = clock;
    }

    pub fn subscribe(&self) -> broadcast::Receiver<NotifyChanged> {
        self.changes.subscribe()
    }

    pub(crate) fn changed(&self, provider: &str) {
        let _ = self.changes.send(NotifyChanged {
            provider: provider.to_owned(),
        });
    }

    pub(crate) fn set_reply(&self, provider: &str, status: SlackReplyStatus) {
        let old = crate::lock(&self.reply).insert(provider.to_owned(), status.clone());
        if old.as_ref() != Some(&status) {
            self.changed(provider);
        }
    }

    pub(super) fn reply(&self, provider: &str) -> Option<SlackReplyStatus> {
        crate::lock(&self.reply).get(provider).cloned()
    }
}
