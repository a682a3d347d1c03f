//! What the sources service and its ingestion worker share: the change announcements and the
//! bell that wakes the worker when a source is queued.

use tokio::sync::{broadcast, Notify};

use super::model::SourcesChanged;

/// What the service and its ingestion worker share.
pub struct Hub {
    events: broadcast::Sender<SourcesChanged>,
    /// Rings when a source is queued, so the worker looks at once.
    pub(super) wake: Notify,
}

impl Default for Hub {
    fn default() -> Self {
        Self {
            events: broadcast::channel(256).0,
            wake: Notify::new(),
        }
    }
}

impl Hub {
    pub fn subscribe(&self) -> broadcast::Receiver<SourcesChanged> {
        self.events.subscribe()
    }

    pub(super) fn publish(&self, source_id: Option<&str>) {
        let _ = self.events.send(SourcesChanged {
            source_id: source_id.map(str::to_string),
        });
    }
}
