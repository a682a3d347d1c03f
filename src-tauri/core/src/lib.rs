//! Pitchbar Admin's domain: the store, the workspace and its roles, the catalog, connections.
//! Nothing here knows of Tauri: the shell turns these calls into commands.

pub mod agents;
pub mod api;
pub mod api_key;
pub mod catalog;
pub mod cli;
pub mod clock;
pub mod connections;
pub mod conversations;
pub mod error;
pub mod leads;
pub mod secret;
pub mod store;
pub mod vault;
pub mod webhooks;
pub mod workspace;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use specta::Type;

use api_key::ApiKeys;
pub use error::{Error, Result};
use store::Store;
use vault::Vault;
use workspace::{Session, Workspaces};

/// The app's identifier: the OS data dir is named after it.
pub const APP_ID: &str = "com.pitchbar.admin";

/// One value built at start, holding everything the services share.
pub struct Core {
    store: Arc<Store>,
    /// Shared with the webhook dispatcher's background tasks.
    webhook_hub: Arc<webhooks::dispatcher::Hub>,
    dispatcher: Mutex<Option<webhooks::dispatcher::Running>>,
    api: Mutex<Option<api::Running>>,
    vault: Vault,
    data_dir: PathBuf,
}

/// What the window shows first.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Startup {
    Ready {
        session: Session,
    },
    /// First run: ask for the workspace and its first member.
    NeedsSetup,
    /// The store could not be opened; the window says why and where, and touches nothing.
    Failed {
        error: Error,
        data_dir: String,
    },
}

impl Core {
    pub fn open(data_dir: &Path) -> Result<Self> {
        let store = Store::open(data_dir)?;
        Ok(Self {
            store: Arc::new(store),
            webhook_hub: Arc::default(),
            dispatcher: Mutex::new(None),
            api: Mutex::new(None),
            // Opened on first use: the app starts and works without a keychain until a secret is needed.
            vault: Vault::os(),
            data_dir: data_dir.to_path_buf(),
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn workspaces(&self) -> Workspaces<'_> {
        Workspaces { store: &self.store }
    }

    pub fn webhook_endpoints(&self) -> webhooks::endpoints::Endpoints<'_> {
        webhooks::endpoints::Endpoints {
            store: &self.store,
            hub: &self.webhook_hub,
        }
    }

    /// Accepting events, test events, redelivery and replay.
    pub fn webhook_dispatcher(&self) -> webhooks::dispatcher::Dispatcher<'_> {
        webhooks::dispatcher::Dispatcher {
            store: &self.store,
            hub: &self.webhook_hub,
        }
    }

    pub fn delivery_log(&self) -> webhooks::log::DeliveryLog<'_> {
        webhooks::log::DeliveryLog { store: &self.store }
    }

    /// Announces every delivery-log write; the shell emits `deliveries://changed` for each.
    pub fn subscribe_deliveries(
        &self,
    ) -> tokio::sync::broadcast::Receiver<webhooks::dispatcher::DeliveriesChanged> {
        self.webhook_hub.subscribe()
    }

    /// Starts the webhook dispatcher (inside a tokio runtime); pending deliveries resume.
    /// Starting it twice is a no-op.
    pub fn start_dispatcher(&self, config: webhooks::dispatcher::DispatcherConfig) -> Result<()> {
        let mut slot = self.dispatcher.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(webhooks::dispatcher::start(
                self.store.clone(),
                self.webhook_hub.clone(),
                config,
            )?);
        }
        Ok(())
    }

    /// Stops the dispatcher cleanly: attempts in flight finish and are logged.
    pub async fn stop_dispatcher(&self) {
        let running = self
            .dispatcher
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(running) = running {
            running.stop().await;
        }
    }

    pub fn agents(&self) -> agents::Agents<'_> {
        agents::Agents { store: &self.store }
    }

    /// Leads: capture (fires `lead.captured`), the admin list, changes (fire `lead.updated`).
    pub fn leads(&self) -> leads::Leads<'_> {
        leads::Leads {
            store: &self.store,
            hub: &self.webhook_hub,
        }
    }

    /// Conversations: start, message, route, close; each fires its event.
    pub fn conversations(&self) -> conversations::Conversations<'_> {
        conversations::Conversations {
            store: &self.store,
            hub: &self.webhook_hub,
        }
    }

    /// Starts the local API on 127.0.0.1 (inside a tokio runtime) and returns where it listens.
    /// Starting it again while it runs returns the address it already has.
    pub fn start_api(&self, config: api::ApiConfig) -> Result<SocketAddr> {
        let mut slot = self.api.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(running) = slot.as_ref() {
            return Ok(running.addr());
        }
        let running = api::start(self.store.clone(), self.webhook_hub.clone(), config)?;
        let addr = running.addr();
        *slot = Some(running);
        Ok(addr)
    }

    /// Where the local API listens, while it runs.
    pub fn api_addr(&self) -> Option<SocketAddr> {
        self.api
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(api::Running::addr)
    }

    /// Stops the local API gracefully: requests in flight finish, then the port is free.
    pub async fn stop_api(&self) {
        let running = self.api.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(running) = running {
            running.stop().await;
        }
    }

    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    pub fn api_keys(&self) -> ApiKeys<'_> {
        ApiKeys {
            store: &self.store,
            vault: &self.vault,
        }
    }

    pub fn startup(&self) -> Result<Startup> {
        Ok(match self.workspaces().session()? {
            Some(session) => Startup::Ready { session },
            None => Startup::NeedsSetup,
        })
    }
}

/// The data dir: `PITCHBAR_DATA_DIR` if set, else the OS app-data dir for `com.pitchbar.admin`.
pub fn data_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("PITCHBAR_DATA_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    // The same folder Tauri's `app_data_dir` names: the OS data dir plus the identifier.
    directories::BaseDirs::new()
        .map(|d| d.data_dir().join(APP_ID))
        .ok_or_else(|| {
            Error::Storage(
                "No home folder was found for the app's data. Set PITCHBAR_DATA_DIR to a writable folder.".into(),
            )
        })
}

pub(crate) fn new_id() -> String {
    ulid::Ulid::new().to_string()
}
