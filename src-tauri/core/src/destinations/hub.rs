//! What the destinations' worker and their handle share: the wake-up and the announcements.

use tokio::sync::broadcast;

use super::model::DestinationsChanged;

pub struct Hub {
    changes: broadcast::Sender<DestinationsChanged>,
    /// Rung when a retry or a configuration change wants the worker now.
    pub(crate) wake: tokio::sync::Notify,
    /// When each destination's recent calls started, for the providers' rolling limits.
    pub(crate) call_times: super::cx::CallTimes,
}

impl Default for Hub {
    fn default() -> Self {
        Self {
            changes: broadcast::channel(64).0,
            wake: tokio::sync::Notify::new(),
            call_times: Default::default(),
        }
    }
}

impl Hub {
    pub fn subscribe(&self) -> broadcast::Receiver<DestinationsChanged> {
        self.changes.subscribe()
    }

    pub(crate) fn changed(&self, provider: &str) {
        let _ = self.changes.send(DestinationsChanged {
            providers: vec![provider.to_owned()],
        });
    }
}
