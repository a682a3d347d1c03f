//! What outlives each run of the receiver, owned by `Core`: the change announcements and the
//! replay memory, and what the log keeps.

use std::sync::RwLock;

use serde::Serialize;
use specta::Type;
use tokio::sync::broadcast;

use super::retention::Retention;
use super::seen;

/// Sent after each batch of receiver writes; the shell forwards it to the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type)]
pub struct ReceiverChanged {
    /// The records added or completed (a forward's answer arrived); empty after a clear.
    pub request_ids: Vec<i64>,
}

/// What the running receiver and the log service share, owned by `Core` across restarts.
pub struct Hub {
    changes: broadcast::Sender<ReceiverChanged>,
    pub(crate) seen: seen::Seen,
    /// What the log keeps; read by the writer after each batch.
    retention: RwLock<Retention>,
}

impl Default for Hub {
    fn default() -> Self {
        Self {
            changes: broadcast::channel(256).0,
            seen: seen::Seen::default(),
            retention: RwLock::default(),
        }
    }
}

impl Hub {
    pub fn subscribe(&self) -> broadcast::Receiver<ReceiverChanged> {
        self.changes.subscribe()
    }

    pub(crate) fn retention(&self) -> Retention {
        *crate::sync::read(&self.retention)
    }

    pub(crate) fn set_retention(&self, retention: Retention) {
        *crate::sync::write(&self.retention) = retention;
    }

    pub(crate) fn notify(&self, request_ids: Vec<i64>) {
        // No subscriber (no window yet) is fine: the next view reads the log anyway.
        let _ = self.changes.send(ReceiverChanged { request_ids });
    }
}
