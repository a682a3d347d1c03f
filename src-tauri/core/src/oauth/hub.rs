//! The OAuth service and the state it shares with its background tasks (loopback listeners,
//! the retrier): sign-ins in progress, ended sign-ins, the event channel, the refresh lock; and
//! the helper that runs keychain calls off the async workers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{broadcast, Notify};

use super::config::OAuthConfig;
use super::events::{OAuthEvent, Outcome};
use super::pending::Pending;
use super::providers::Providers;
use crate::error::{Error, Result};
use crate::store::Store;
use crate::vault::Vault;

/// What the OAuth service and its background tasks share.
pub struct Hub {
    pub(super) config: OAuthConfig,
    pending: Mutex<HashMap<String, Pending>>,
    /// Outcomes of ended sign-ins, for [`OAuth::wait`] callers that come late.
    finished: Mutex<HashMap<String, (Outcome, i64)>>,
    events: broadcast::Sender<OAuthEvent>,
    /// One refresh at a time: two at once would spend a rotating refresh token twice.
    pub(super) refresh: tokio::sync::Mutex<()>,
    /// Rings when a revocation is queued, so the retrier looks at once.
    pub(super) retrier_wake: Notify,
}

impl Hub {
    pub fn new(config: OAuthConfig) -> Self {
        Self {
            config,
            pending: Mutex::default(),
            finished: Mutex::default(),
            events: broadcast::channel(64).0,
            refresh: tokio::sync::Mutex::new(()),
            retrier_wake: Notify::new(),
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<OAuthEvent> {
        self.events.subscribe()
    }

    pub(super) fn publish(&self, event: OAuthEvent) {
        // No subscriber is fine: the window may not be listening.
        let _ = self.events.send(event);
    }

    pub(super) fn pending(&self) -> MutexGuard<'_, HashMap<String, Pending>> {
        crate::sync::lock(&self.pending)
    }

    pub(super) fn finished(&self) -> MutexGuard<'_, HashMap<String, (Outcome, i64)>> {
        crate::sync::lock(&self.finished)
    }

    pub(super) fn now_ms(&self) -> i64 {
        self.config.clock.now_ms()
    }
}

/// The OAuth service. Cheap to clone: background tasks (loopback listeners, the retrier) hold one.
#[derive(Clone)]
pub struct OAuth {
    pub(crate) store: Arc<Store>,
    pub(crate) vault: Arc<Vault>,
    pub(crate) hub: Arc<Hub>,
}

impl OAuth {
    /// The providers file as it is now: read on each use, so a fix applies without a restart.
    pub fn providers(&self) -> Result<Providers> {
        let config = &self.hub.config;
        Providers::load(&config.providers_file, config.providers_file_required)
    }

    /// The timeout of every request to a provider.
    pub(crate) fn request_timeout(&self) -> std::time::Duration {
        self.hub.config.request_timeout
    }

    pub(crate) fn workspace_id(&self) -> Result<String> {
        use rusqlite::OptionalExtension;
        self.store
            .conn()
            .query_row("SELECT id FROM workspace", [], |r| r.get(0))
            .optional()?
            .ok_or_else(|| {
                Error::Conflict("Set up the workspace before connecting integrations.".into())
            })
    }
}

/// Runs a keychain call off the async workers: the Secret Service answers over D-Bus, and a
/// slow or locked keyring must not stall other tasks.
pub(crate) async fn blocking<T: Send + 'static>(
    vault: &Arc<Vault>,
    f: impl FnOnce(&Vault) -> Result<T> + Send + 'static,
) -> Result<T> {
    let vault = vault.clone();
    tokio::task::spawn_blocking(move || f(&vault))
        .await
        .map_err(|_| Error::Internal("A keychain call stopped unexpectedly. Try again.".into()))?
}
