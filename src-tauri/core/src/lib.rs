//! Pitchbar Admin's domain: the store, the workspace and its roles, the catalog, connections.
//! Nothing here knows of Tauri: the shell turns these calls into commands.

pub mod agents;
pub mod api;
pub mod api_key;
pub mod apikeys;
pub mod audit;
pub mod backup;
pub mod catalog;
pub mod cli;
pub mod clock;
pub mod connections;
pub mod conversations;
pub mod destinations;
pub mod error;
mod ids;
pub mod leads;
pub mod loopback;
pub mod net;
pub mod notices;
pub mod notify;
pub mod oauth;
pub mod outbox;
pub mod paths;
pub mod receiver;
pub mod secret;
pub mod service;
pub mod settings;
pub mod sources;
pub mod status;
pub mod store;
mod sync;
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
pub use paths::{data_dir, APP_ID};
use service::Slot;
use store::Store;
use sync::lock;
use vault::Vault;
use workspace::{Session, Workspaces};

/// One value built at start, holding everything the services share, and a slot for each
/// background service.
pub struct Core {
    store: Arc<Store>,
    /// Accepted events and their announcements: shared by the services that fire events and
    /// the ones that consume them.
    outbox: Arc<outbox::Hub>,
    dispatcher: Slot<webhooks::dispatcher::Running>,
    /// What the dispatcher was started with, to start it so again when deliveries resume.
    dispatcher_config: Mutex<Option<webhooks::dispatcher::DispatcherConfig>>,
    api: Slot<api::Running>,
    /// Outlives each run of the receiver: subscribers and replay memory stay across restarts.
    receiver_hub: Arc<receiver::Hub>,
    receiver: Slot<receiver::Running>,
    vault: Arc<Vault>,
    /// Webhook signing secrets in front of the keychain; shared with the dispatcher.
    webhook_secrets: Arc<webhooks::secrets::SigningSecrets>,
    oauth_hub: Arc<oauth::Hub>,
    revocation_retrier: Slot<oauth::Retrier>,
    sources_hub: Arc<sources::Hub>,
    sources_worker: Slot<sources::Running>,
    sources_config: Mutex<sources::SourcesConfig>,
    notify_hub: Arc<notify::Hub>,
    notifier: Slot<notify::Running>,
    destinations_hub: Arc<destinations::Hub>,
    destinations_worker: Slot<destinations::Running>,
    data_dir: PathBuf,
}

/// What the window shows first.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Startup {
    Ready {
        session: Box<Session>,
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
        // Opened on first use: the app starts and works without a keychain until a secret is needed.
        Self::build(data_dir, Vault::os(), oauth::OAuthConfig::new(data_dir))
    }

    /// [`Core::open`] over another keychain: for tests, keyring's mock store, to reach keychain
    /// failures nothing real produces on demand. Nothing here touches the keychain: secrets the
    /// database still holds from older versions move to it on first use (see `webhooks::secrets`).
    pub fn open_with_vault(data_dir: &Path, vault: Vault) -> Result<Self> {
        Self::build(data_dir, vault, oauth::OAuthConfig::new(data_dir))
    }

    /// [`Core::open`] with OAuth settings of the caller's choosing (providers file, sign-in
    /// lifetime, clock, retry delays).
    pub fn open_with(data_dir: &Path, oauth: oauth::OAuthConfig) -> Result<Self> {
        Self::build(data_dir, Vault::os(), oauth)
    }

    fn build(data_dir: &Path, vault: Vault, oauth: oauth::OAuthConfig) -> Result<Self> {
        let store = Store::open(data_dir)?;
        let vault = Arc::new(vault);
        Ok(Self {
            store: Arc::new(store),
            outbox: Arc::default(),
            dispatcher: Slot::default(),
            dispatcher_config: Mutex::default(),
            api: Slot::default(),
            receiver_hub: Arc::default(),
            receiver: Slot::default(),
            webhook_secrets: Arc::new(webhooks::secrets::SigningSecrets::new(vault.clone())),
            vault,
            oauth_hub: Arc::new(oauth::Hub::new(oauth)),
            revocation_retrier: Slot::default(),
            sources_hub: Arc::default(),
            sources_worker: Slot::default(),
            sources_config: Mutex::default(),
            notify_hub: Arc::default(),
            notifier: Slot::default(),
            destinations_hub: Arc::default(),
            destinations_worker: Slot::default(),
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

    /// Backing up and restoring the workspace's data.
    pub fn backups(&self) -> backup::Backups<'_> {
        backup::Backups { store: &self.store }
    }

    /// Who changed what, when, and from where.
    pub fn audit(&self) -> audit::AuditLog<'_> {
        audit::AuditLog { store: &self.store }
    }

    /// The bell's notices, and which go to the OS notification centre.
    pub fn notices(&self) -> notices::Notices<'_> {
        notices::Notices { store: &self.store }
    }

    pub fn settings(&self) -> settings::Settings<'_> {
        settings::Settings { store: &self.store }
    }

    pub fn agents(&self) -> agents::Agents<'_> {
        agents::Agents { store: &self.store }
    }

    pub fn api_keys(&self) -> ApiKeys<'_> {
        ApiKeys {
            store: &self.store,
            vault: &self.vault,
        }
    }

    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    pub fn startup(&self) -> Result<Startup> {
        Ok(match self.workspaces().session()? {
            Some(session) => Startup::Ready {
                session: Box::new(session),
            },
            None => Startup::NeedsSetup,
        })
    }

    // Events in, and what became of them.

    /// Accepting events: each is written with its deliveries before anything is attempted.
    pub fn outbox(&self) -> outbox::Outbox<'_> {
        outbox::Outbox {
            store: &self.store,
            hub: &self.outbox,
        }
    }

    /// Leads: capture (fires `lead.captured`), the admin list, changes (fire `lead.updated`).
    pub fn leads(&self) -> leads::Leads<'_> {
        leads::Leads {
            store: &self.store,
            hub: &self.outbox,
        }
    }

    /// Conversations: start, message, route, close; each fires its event.
    pub fn conversations(&self) -> conversations::Conversations<'_> {
        conversations::Conversations {
            store: &self.store,
            hub: &self.outbox,
        }
    }

    /// Announces every delivery-log write; the shell forwards each to the window.
    pub fn subscribe_deliveries(
        &self,
    ) -> tokio::sync::broadcast::Receiver<outbox::DeliveriesChanged> {
        self.outbox.subscribe()
    }

    // Webhooks.

    pub fn webhook_endpoints(&self) -> webhooks::endpoints::Endpoints<'_> {
        webhooks::endpoints::Endpoints {
            store: &self.store,
            hub: &self.outbox,
            secrets: &self.webhook_secrets,
        }
    }

    /// Test events, redelivery and replay.
    pub fn webhook_deliveries(&self) -> webhooks::deliveries::Deliveries<'_> {
        webhooks::deliveries::Deliveries {
            store: &self.store,
            hub: &self.outbox,
        }
    }

    pub fn delivery_log(&self) -> webhooks::log::DeliveryLog<'_> {
        webhooks::log::DeliveryLog { store: &self.store }
    }

    /// Starts the webhook dispatcher (inside a tokio runtime); pending deliveries resume.
    /// Starting it twice is a no-op. While a person has deliveries paused it does not start:
    /// [`Core::resume_deliveries`] starts it with this `config`.
    pub fn start_dispatcher(&self, config: webhooks::dispatcher::DispatcherConfig) -> Result<()> {
        *lock(&self.dispatcher_config) = Some(config.clone());
        if self.settings().deliveries_paused()? {
            tracing::info!("webhook deliveries are paused: they wait until resumed");
            return Ok(());
        }
        self.run_dispatcher(config)
    }

    fn run_dispatcher(&self, config: webhooks::dispatcher::DispatcherConfig) -> Result<()> {
        let start = || {
            webhooks::dispatcher::start(
                self.store.clone(),
                self.outbox.clone(),
                self.webhook_secrets.clone(),
                config,
            )
        };
        self.dispatcher.start(start, |_| ()).map(|_| ())
    }

    /// Stops the dispatcher cleanly: attempts in flight finish and are logged.
    pub async fn stop_dispatcher(&self) {
        self.dispatcher.stop().await;
    }

    /// Pauses webhook deliveries (Owners and Admins), across restarts: attempts in flight
    /// finish and are logged; everything else waits, pending, and new events are still
    /// accepted and logged as pending.
    pub async fn pause_deliveries(&self, actor: &workspace::Actor) -> Result<()> {
        self.set_deliveries_paused(actor, true)?;
        self.stop_dispatcher().await;
        self.outbox.notify_log(Vec::new());
        Ok(())
    }

    /// Resumes paused deliveries: what waited goes out now, oldest first.
    /// Started first, so a dispatcher that cannot start leaves deliveries paused.
    pub fn resume_deliveries(&self, actor: &workspace::Actor) -> Result<()> {
        actor.require_manage()?;
        let config = lock(&self.dispatcher_config).clone().unwrap_or_default();
        self.run_dispatcher(config)?;
        self.set_deliveries_paused(actor, false)?;
        self.outbox.notify_log(Vec::new());
        Ok(())
    }

    fn set_deliveries_paused(&self, actor: &workspace::Actor, paused: bool) -> Result<()> {
        actor.require_manage()?;
        if self.settings().deliveries_paused()? == paused {
            return Ok(());
        }
        let (action, summary) = if paused {
            ("deliveries.paused", "Paused webhook deliveries.")
        } else {
            ("deliveries.resumed", "Resumed webhook deliveries.")
        };
        self.store.write(|tx| {
            settings::set_deliveries_paused(tx, paused)?;
            audit::record(
                tx,
                actor,
                audit::Area::Deliveries,
                action,
                "Webhook deliveries",
                summary,
            )
        })
    }

    /// The background work at a glance, for the tray and the window.
    pub fn background_status(&self) -> Result<status::BackgroundStatus> {
        Ok(status::BackgroundStatus {
            deliveries_paused: self.settings().deliveries_paused()?,
            receiver_addr: self.receiver().status().addr,
            api_addr: self.api_addr().map(|a| a.to_string()),
            sign_ins_pending: u32::try_from(self.oauth().sign_ins_pending()).unwrap_or(u32::MAX),
            ..status::stored(&self.store)?
        })
    }

    // The local API.

    /// The local API's routes over this core, with no listener: to drive it in-process (the
    /// fuzz targets in fuzz/ send it bodies with `tower::ServiceExt::oneshot`).
    #[doc(hidden)]
    pub fn api_router(&self) -> axum::Router {
        api::router(api::ApiState::new(self.store.clone(), self.outbox.clone()))
    }

    /// Starts the local API on 127.0.0.1 (inside a tokio runtime) and returns where it listens.
    /// Starting it again while it runs returns the address it already has.
    pub fn start_api(&self, config: api::ApiConfig) -> Result<SocketAddr> {
        let start = || api::start(self.store.clone(), self.outbox.clone(), config);
        Ok(self.api.start(start, api::Running::addr)?.into_inner())
    }

    /// Moves the local API to `port` and remembers the choice. The new port is bound before the
    /// old server stops, so a port in use leaves the API where it was, still answering.
    pub async fn change_api_port(&self, actor: &workspace::Actor, port: u16) -> Result<SocketAddr> {
        actor.require_manage()?;
        settings::check_api_port(port)?;
        let addr = match self.api_addr().filter(|a| a.port() == port) {
            Some(addr) => {
                self.settings().set_api_port(port)?;
                addr
            }
            None => {
                let running = api::start(
                    self.store.clone(),
                    self.outbox.clone(),
                    api::ApiConfig::on_port(port),
                )?;
                let addr = running.addr();
                if let Err(err) = self.settings().set_api_port(port) {
                    service::Service::stop(running).await;
                    return Err(err);
                }
                self.api.replace(running).await;
                addr
            }
        };
        audit::record_now(
            &self.store,
            actor,
            audit::Area::Settings,
            "api.port_changed",
            "Local API",
            format!("Moved the local API to port {port}."),
        )?;
        Ok(addr)
    }

    /// Where the local API listens, while it runs.
    pub fn api_addr(&self) -> Option<SocketAddr> {
        self.api.with(|r| r.map(api::Running::addr))
    }

    /// Stops the local API gracefully: requests in flight finish, then the port is free.
    pub async fn stop_api(&self) {
        self.api.stop().await;
    }

    // The local receiver.

    /// Starting, stopping and steering the local receiver; "Send test events here"; the
    /// verify tool.
    pub fn receiver(&self) -> receiver::Receiver<'_> {
        receiver::Receiver {
            store: &self.store,
            hub: &self.receiver_hub,
            slot: &self.receiver,
            endpoints: self.webhook_endpoints(),
            deliveries: self.webhook_deliveries(),
            candidates: receiver::CandidateSource {
                store: self.store.clone(),
                outbox: self.outbox.clone(),
                secrets: self.webhook_secrets.clone(),
            },
        }
    }

    /// The receiver's recorded requests: pages, one in full, clearing.
    pub fn receiver_log(&self) -> receiver::ReceiverLog<'_> {
        receiver::ReceiverLog {
            store: &self.store,
            hub: &self.receiver_hub,
        }
    }

    /// Announces every receiver write; the shell forwards each to the window.
    pub fn subscribe_receiver(
        &self,
    ) -> tokio::sync::broadcast::Receiver<receiver::ReceiverChanged> {
        self.receiver_hub.subscribe()
    }

    // Connections.

    /// Connecting (begin, complete a deep link, cancel, wait), tokens on use, disconnecting.
    pub fn oauth(&self) -> oauth::OAuth {
        oauth::OAuth {
            store: self.store.clone(),
            vault: self.vault.clone(),
            hub: self.oauth_hub.clone(),
        }
    }

    /// Connecting with an API key (checked with the provider first) and disconnecting.
    pub fn api_key_connections(&self) -> apikeys::ApiKeyConnections {
        apikeys::ApiKeyConnections {
            oauth: self.oauth(),
        }
    }

    /// Announces ended sign-ins and connection changes; the shell forwards them to the window.
    pub fn subscribe_oauth(&self) -> tokio::sync::broadcast::Receiver<oauth::OAuthEvent> {
        self.oauth_hub.subscribe()
    }

    /// Starts the revocation retrier (inside a tokio runtime): revocations queued before a
    /// restart are retried at once. Starting it twice is a no-op.
    pub fn start_oauth(&self) {
        let _ = self
            .revocation_retrier
            .start(|| Ok(oauth::Retrier::start(self.oauth())), |_| ());
        // Sign-ins kept for a link that never came back are removed once they expire.
        let oauth = self.oauth();
        tokio::spawn(async move {
            if let Err(err) = oauth.forget_expired_sign_ins().await {
                tracing::warn!(error = %err, "expired sign-ins could not be cleaned up");
            }
        });
    }

    /// Stops the revocation retrier; an attempt in flight finishes first.
    pub async fn stop_oauth(&self) {
        self.revocation_retrier.stop().await;
    }

    /// Disconnects an integration (its access revoked at the provider, see [`oauth::OAuth::disconnect`]).
    /// Disconnecting Slack also deletes its channel configuration (spec 001), so reconnecting
    /// starts from Configure again.
    pub async fn disconnect(
        &self,
        actor: &workspace::Actor,
        connection_id: &str,
    ) -> Result<connections::Connection> {
        let provider = connections::get(&self.store, connection_id)?.provider;
        let connection = if apikeys::is_api_key(&provider) {
            self.api_key_connections()
                .disconnect(actor, connection_id)
                .await?
        } else {
            self.oauth().disconnect(actor, connection_id).await?
        };
        if connection.provider == notify::SLACK {
            self.notifications().remove(actor, notify::SLACK).await?;
        }
        Ok(connection)
    }

    // Knowledge sources.

    /// Knowledge sources: the picker, adding, reindexing, removing, searching.
    pub fn sources(&self) -> sources::Sources<'_> {
        sources::Sources {
            store: &self.store,
            hub: &self.sources_hub,
            oauth: self.oauth(),
            config: lock(&self.sources_config).clone(),
        }
    }

    /// Announces source changes (added, progress, state, removed); the shell forwards them.
    pub fn subscribe_sources(&self) -> tokio::sync::broadcast::Receiver<sources::SourcesChanged> {
        self.sources_hub.subscribe()
    }

    /// Starts the ingestion worker (inside a tokio runtime): sources queued or being read when
    /// the app quit are read again. Starting it twice is a no-op.
    pub fn start_sources(&self, config: sources::SourcesConfig) -> Result<()> {
        let start = || {
            *lock(&self.sources_config) = config.clone();
            sources::start(
                self.store.clone(),
                self.sources_hub.clone(),
                self.oauth(),
                config,
            )
        };
        self.sources_worker.start(start, |_| ()).map(|_| ())
    }

    /// Stops the ingestion worker; a source being read is queued again for the next start.
    pub async fn stop_sources(&self) {
        self.sources_worker.stop().await;
    }

    // Notifications.

    /// Slack, Teams and Discord notifications: settings, channels, retry.
    pub fn notifications(&self) -> notify::Notifications<'_> {
        notify::Notifications {
            store: &self.store,
            vault: &self.vault,
            oauth: self.oauth(),
            hub: &self.notify_hub,
        }
    }

    /// Announces changes to what a notification card shows; the shell forwards them.
    pub fn subscribe_notify(&self) -> tokio::sync::broadcast::Receiver<notify::NotifyChanged> {
        self.notify_hub.subscribe()
    }

    /// Starts the notifier and its Socket Mode client (inside a tokio runtime): notifications
    /// owed from before a restart, and a daily summary missed while closed, go out at once.
    /// Starting it twice is a no-op.
    pub fn start_notifier(&self, config: notify::NotifyConfig) {
        let start = || {
            Ok(notify::start(notify::Ctx {
                store: self.store.clone(),
                vault: self.vault.clone(),
                oauth: self.oauth(),
                hub: self.notify_hub.clone(),
                outbox: self.outbox.clone(),
                config,
            }))
        };
        let _ = self.notifier.start(start, |_| ());
    }

    /// Stops the notifier; a send in flight finishes first.
    pub async fn stop_notifier(&self) {
        self.notifier.stop().await;
    }

    // Destinations (CRMs, helpdesks, marketing and analytics tools).

    /// Destinations: configuration, Send a test lead, the sync log, retries.
    pub fn destinations(&self) -> destinations::Destinations<'_> {
        destinations::Destinations {
            store: &self.store,
            oauth: self.oauth(),
            hub: &self.destinations_hub,
        }
    }

    /// Announces changes to a destination's queue, log or configuration.
    pub fn subscribe_destinations(
        &self,
    ) -> tokio::sync::broadcast::Receiver<destinations::DestinationsChanged> {
        self.destinations_hub.subscribe()
    }

    /// Starts the destinations' worker (inside a tokio runtime): what was queued before a
    /// restart is sent at once. Starting it twice is a no-op.
    pub fn start_destinations(&self, config: destinations::DestinationsConfig) {
        let start = || {
            Ok(destinations::start(destinations::Ctx {
                store: self.store.clone(),
                oauth: self.oauth(),
                hub: self.destinations_hub.clone(),
                outbox: self.outbox.clone(),
                config,
            }))
        };
        let _ = self.destinations_worker.start(start, |_| ());
    }

    /// Stops the destinations' worker; the calls in flight finish and are written first.
    pub async fn stop_destinations(&self) {
        self.destinations_worker.stop().await;
    }
}
