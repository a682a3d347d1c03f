//! OAuth connections of catalog integrations: the connect flow (RFC 8252: code + PKCE in the
//! system browser, back through a deep link or a loopback listener), tokens in the keychain and
//! their refresh on use, and disconnecting with upstream revocation (retried until it succeeds).

mod account;
mod callback;
mod client;
mod flow;
mod loopback;
pub mod providers;
mod retrier;
mod revoke;
mod tokens;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;
use specta::Type;
use tokio::sync::{broadcast, Notify};

use crate::catalog::RedirectStyle;
use crate::connections::Connection;
use crate::error::{Error, Result};
use crate::store::Store;
use crate::vault::Vault;

pub use providers::{Provider, Providers, PROVIDERS_FILE_ENV};
pub use retrier::Retrier;

/// Where deep-link providers send the browser back: the app's registered scheme.
pub const DEEP_LINK_CALLBACK: &str = "pitchbar://oauth/callback";

/// What the time is, in unix milliseconds. Injectable so that expiry can be tested without
/// waiting; the app uses the system clock.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> i64 + Send + Sync>);

impl Clock {
    pub fn system() -> Self {
        Self(Arc::new(crate::clock::unix_ms))
    }

    pub fn new(now_ms: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        Self(Arc::new(now_ms))
    }

    pub fn now_ms(&self) -> i64 {
        (self.0)()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Clock")
    }
}

/// How OAuth behaves; [`OAuthConfig::new`] gives the app's settings.
#[derive(Debug, Clone)]
pub struct OAuthConfig {
    /// The providers file; it need not exist unless it was named by [`PROVIDERS_FILE_ENV`].
    pub providers_file: PathBuf,
    /// Whether the providers file was named explicitly (then a missing file is an error).
    pub providers_file_required: bool,
    /// How long a started sign-in may take (the `state` and the loopback listener live this long).
    pub authorization_ttl: Duration,
    pub clock: Clock,
    /// Revocation retries: first and longest delay (exponential with jitter in between).
    pub retry_min_delay: Duration,
    pub retry_max_delay: Duration,
    /// Timeout of every request to a provider.
    pub request_timeout: Duration,
}

impl OAuthConfig {
    /// The app's settings: the providers file named by `PITCHBAR_PROVIDERS_FILE`, else
    /// `<data dir>/providers.json` if present; sign-ins expire after 10 minutes.
    pub fn new(data_dir: &Path) -> Self {
        let named = std::env::var_os(PROVIDERS_FILE_ENV).filter(|p| !p.is_empty());
        Self {
            providers_file_required: named.is_some(),
            providers_file: named
                .map(PathBuf::from)
                .unwrap_or_else(|| data_dir.join(providers::DEFAULT_FILE_NAME)),
            authorization_ttl: Duration::from_secs(10 * 60),
            clock: Clock::system(),
            retry_min_delay: Duration::from_secs(5),
            retry_max_delay: Duration::from_secs(60 * 60),
            request_timeout: Duration::from_secs(20),
        }
    }

    /// The same, with an explicit providers file that must exist.
    pub fn with_providers_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.providers_file = path.into();
        self.providers_file_required = true;
        self
    }
}

/// A sign-in in progress, as the window shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type)]
pub struct Authorization {
    pub id: String,
    pub provider: String,
    /// The link to open in the system browser (shown too, for opening by hand).
    pub url: String,
    pub redirect_style: RedirectStyle,
    /// RFC 3339; after it the sign-in must be started again.
    pub expires_at: String,
}

/// How a sign-in ended.
#[derive(Debug, Clone, PartialEq, Serialize, Type)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    Connected {
        connection: Connection,
    },
    /// Declined, refused by the provider, expired or cancelled: the message says which.
    Failed {
        error: Error,
    },
}

/// What OAuth announces; the shell forwards each as a window event.
#[derive(Debug, Clone, PartialEq, Serialize, Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OAuthEvent {
    /// A sign-in ended (either redirect style): the connect dialog shows the outcome.
    Finished {
        authorization_id: String,
        outcome: Outcome,
    },
    /// A connection's status or label changed (refresh failure, revocation done): refetch
    /// the Connected tab.
    ConnectionsChanged,
}

/// What the OAuth service and its background tasks share.
pub struct Hub {
    config: OAuthConfig,
    pending: Mutex<HashMap<String, flow::Pending>>,
    /// Outcomes of ended sign-ins, for [`OAuth::wait`] callers that come late.
    finished: Mutex<HashMap<String, (Outcome, i64)>>,
    events: broadcast::Sender<OAuthEvent>,
    /// One refresh at a time: two at once would spend a rotating refresh token twice.
    refresh: tokio::sync::Mutex<()>,
    /// Rings when a revocation is queued, so the retrier looks at once.
    retrier_wake: Notify,
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

    fn publish(&self, event: OAuthEvent) {
        // No subscriber is fine: the window may not be listening.
        let _ = self.events.send(event);
    }

    fn pending(&self) -> MutexGuard<'_, HashMap<String, flow::Pending>> {
        crate::sync::lock(&self.pending)
    }

    fn finished(&self) -> MutexGuard<'_, HashMap<String, (Outcome, i64)>> {
        crate::sync::lock(&self.finished)
    }

    fn now_ms(&self) -> i64 {
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
