//! Notifications to Slack, Microsoft Teams and Discord: each target's settings (Slack through its
//! OAuth connection, Teams and Discord through a pasted incoming-webhook URL kept in the
//! keychain), the durable notifier that turns webhook events into notifications (see `run`),
//! the daily summary (`summary`) and replies from Slack threads over Socket Mode (`socket`).

mod checks;
mod enqueue;
pub mod format;
mod run;
pub mod slack;
mod socket;
mod summary;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use specta::Type;
use tokio::sync::{broadcast, Notify};

use crate::catalog;
use crate::clock::rfc3339_ms;
use crate::connections::{self, ConnectionStatus};
use crate::error::{Error, Result};
use crate::oauth::{Clock, OAuth};
use crate::secret::Secret;
use crate::store::Store;
use crate::vault::{Vault, VaultKey};
use crate::workspace::Actor;

use checks::{check_time, check_webhook_url, shorten_url};
pub use run::Running;
pub(crate) use run::{start, Ctx};
pub use slack::SlackChannel;
pub use socket::MISSING_APP_TOKEN;

pub const SLACK: &str = "slack";
pub const TEAMS: &str = "microsoft-teams";
pub const DISCORD: &str = "discord";

/// Which notifications a target gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct NotifyToggles {
    pub new_leads: bool,
    pub new_conversations: bool,
    /// Conversations routed to a human.
    pub escalations: bool,
    /// Every message of every conversation (high volume).
    pub all_messages: bool,
    pub daily_summary: bool,
}

impl Default for NotifyToggles {
    fn default() -> Self {
        Self {
            new_leads: true,
            new_conversations: true,
            escalations: true,
            all_messages: false,
            daily_summary: false,
        }
    }
}

/// Whether replies in Slack threads reach the conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SlackReplyStatus {
    Off,
    /// Socket Mode needs something the user must provide; the message says what.
    Unavailable {
        message: String,
    },
    Connecting,
    Connected,
    /// The socket dropped or was refused; it is being retried.
    Retrying {
        message: String,
    },
}

/// A target as the Connected tab and the Configure dialog show it.
#[derive(Debug, Clone, PartialEq, Serialize, Type)]
pub struct NotifyTarget {
    pub provider: String,
    /// Slack: its OAuth connection.
    pub connection_id: Option<String>,
    pub channel_id: Option<String>,
    pub channel_name: Option<String>,
    pub toggles: NotifyToggles,
    pub reply_from_slack: bool,
    /// "HH:MM", this computer's local time.
    pub summary_time: String,
    /// Teams / Discord: the webhook URL shortened (its token left out).
    pub webhook_shown: Option<String>,
    /// What stopped sending and what to do; `null` while all is well.
    pub last_error: Option<String>,
    pub last_error_at: Option<String>,
    /// Notifications that failed and can be retried.
    pub failed: u64,
    /// Notifications waiting to be sent (or waiting out a rate limit).
    pub pending: u64,
    pub last_sent_at: Option<String>,
    pub reply: SlackReplyStatus,
    pub connected_by: Option<String>,
    pub connected_at: String,
}

/// The Configure Slack dialog's Save.
#[derive(Debug, Clone, Deserialize, Type)]
pub struct SlackSettings {
    pub channel_id: String,
    pub toggles: NotifyToggles,
    pub reply_from_slack: bool,
    pub summary_time: String,
}

/// Connecting (with `url`) or changing (`url` null keeps it) a Teams or Discord target.
#[derive(Debug, Clone, Deserialize, Type)]
pub struct WebhookSettings {
    pub provider: String,
    pub url: Option<String>,
    pub toggles: NotifyToggles,
    pub summary_time: String,
}

/// What the notifier is tuned with; tests shorten the waits and move the clock.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    pub clock: Clock,
    /// The time zone of "local time" for the daily summary: the system's in the app.
    pub time_zone: jiff::tz::TimeZone,
    /// Transient failures (network, 5xx): the first retry's delay and the longest.
    pub retry_min_delay: Duration,
    pub retry_max_delay: Duration,
    /// After this many transient failures in a row a notification is marked failed.
    pub max_attempts: u32,
    /// Socket Mode reconnects: the first and the longest delay.
    pub reconnect_min_delay: Duration,
    pub reconnect_max_delay: Duration,
    pub request_timeout: Duration,
    /// The longest the notifier sleeps without looking (a moved test clock, a changed setting).
    pub tick_max: Duration,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            clock: Clock::system(),
            time_zone: jiff::tz::TimeZone::try_system().unwrap_or(jiff::tz::TimeZone::UTC),
            retry_min_delay: Duration::from_secs(5),
            retry_max_delay: Duration::from_secs(10 * 60),
            max_attempts: 8,
            reconnect_min_delay: Duration::from_secs(1),
            reconnect_max_delay: Duration::from_secs(60),
            request_timeout: Duration::from_secs(15),
            tick_max: Duration::from_secs(30),
        }
    }
}

/// Announced after the notifier changes what a card shows; the shell emits `notify://changed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type)]
pub struct NotifyChanged {
    pub provider: String,
}

/// What the services and the running notifier share.
pub struct Hub {
    pub(crate) wake: Notify,
    changes: broadcast::Sender<NotifyChanged>,
    reply: Mutex<HashMap<String, SlackReplyStatus>>,
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

    fn reply(&self, provider: &str) -> Option<SlackReplyStatus> {
        crate::lock(&self.reply).get(provider).cloned()
    }
}

/// The notification settings service.
pub struct Notifications<'a> {
    pub(crate) store: &'a Arc<Store>,
    pub(crate) vault: &'a Arc<Vault>,
    pub(crate) oauth: OAuth,
    pub(crate) hub: &'a Arc<Hub>,
}

const SELECT: &str = "SELECT t.provider, t.connection_id, t.channel_id, t.channel_name, t.new_leads,
        t.new_conversations, t.escalations, t.all_messages, t.daily_summary, t.reply_from_slack,
        t.summary_time, t.webhook_shown, t.last_error, t.last_error_at, t.created_at, m.name,
        (SELECT count(*) FROM notify_outbox o WHERE o.provider = t.provider AND o.status = 'failed'),
        (SELECT count(*) FROM notify_outbox o WHERE o.provider = t.provider AND o.status = 'pending'),
        (SELECT max(sent_at) FROM notify_outbox o WHERE o.provider = t.provider)
    FROM notify_target t LEFT JOIN member m ON m.id = t.connected_by";

fn target_row(r: &Row<'_>) -> rusqlite::Result<NotifyTarget> {
    let provider: String = r.get(0)?;
    Ok(NotifyTarget {
        connection_id: r.get(1)?,
        channel_id: r.get(2)?,
        channel_name: r.get(3)?,
        toggles: NotifyToggles {
            new_leads: r.get(4)?,
            new_conversations: r.get(5)?,
            escalations: r.get(6)?,
            all_messages: r.get(7)?,
            daily_summary: r.get(8)?,
        },
        reply_from_slack: r.get(9)?,
        summary_time: r.get(10)?,
        webhook_shown: r.get(11)?,
        last_error: r.get(12)?,
        last_error_at: r.get::<_, Option<i64>>(13)?.map(rfc3339_ms),
        connected_at: rfc3339_ms(r.get(14)?),
        connected_by: r.get(15)?,
        failed: u64::try_from(r.get::<_, i64>(16)?).unwrap_or_default(),
        pending: u64::try_from(r.get::<_, i64>(17)?).unwrap_or_default(),
        last_sent_at: r.get::<_, Option<i64>>(18)?.map(rfc3339_ms),
        reply: SlackReplyStatus::Off,
        provider,
    })
}

impl Notifications<'_> {
    /// Every configured target (a Slack target only while its connection is active).
    pub fn list(&self) -> Result<Vec<NotifyTarget>> {
        let targets: Vec<NotifyTarget> = {
            let conn = self.store.conn();
            let mut stmt = conn.prepare(&format!("{SELECT} ORDER BY t.provider"))?;
            let rows = stmt.query_map([], target_row)?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        Ok(targets
            .into_iter()
            .filter(|t| usable(self.store, &t.provider, t.connection_id.as_deref()))
            .map(|mut t| {
                t.reply = if t.provider == SLACK && t.reply_from_slack {
                    self.hub
                        .reply(SLACK)
                        .unwrap_or(SlackReplyStatus::Connecting)
                } else {
                    SlackReplyStatus::Off
                };
                t
            })
            .collect())
    }

    pub fn get(&self, provider: &str) -> Result<Option<NotifyTarget>> {
        Ok(self.list()?.into_iter().find(|t| t.provider == provider))
    }

    fn active_slack_connection(&self) -> Result<connections::Connection> {
        connections::latest_for_provider(self.store, SLACK)?
            .filter(|c| c.status == ConnectionStatus::Active)
            .ok_or_else(|| {
                Error::Conflict(
                    "Slack is not connected. Connect it from the Available tab first.".into(),
                )
            })
    }

    /// The channels the Slack bot can post to, for the channel picker.
    pub async fn slack_channels(&self) -> Result<Vec<SlackChannel>> {
        let connection = self.active_slack_connection()?;
        let ctx =
            run::SlackContext::load(&self.oauth, &connection.id, Duration::from_secs(20)).await?;
        ctx.api()
            .channels()
            .await
            .map_err(|err| slack_refusal(&err, "list the channels"))
    }

    /// Saves the Configure Slack dialog. The channel is checked against Slack's list, so a
    /// typo or a channel the bot cannot see is refused before anything is saved.
    pub async fn configure_slack(
        &self,
        actor: &Actor,
        input: SlackSettings,
    ) -> Result<NotifyTarget> {
        actor.require_manage()?;
        let summary_time = check_time(&input.summary_time)?;
        let connection = self.active_slack_connection()?;
        let channel_id = input.channel_id.trim().to_owned();
        if channel_id.is_empty() {
            return Err(Error::invalid(
                "Pick the channel notifications go to, then save.",
            ));
        }
        let channels = self.slack_channels().await?;
        let channel = channels
            .into_iter()
            .find(|c| c.id == channel_id)
            .ok_or_else(|| {
                Error::invalid(
                    "That channel is not one the Pitchbar app can post to (it was deleted, archived, or is private without the app in it). Pick another one, or invite the app to it in Slack.",
                )
            })?;
        let now = self.hub.now_ms();
        self.store.write(|tx| {
            tx.execute(
                "INSERT INTO notify_target (provider, connection_id, channel_id, channel_name, new_leads,
                     new_conversations, escalations, all_messages, daily_summary, reply_from_slack,
                     summary_time, event_cursor, connected_by, created_at, updated_at, summary_since)
                 VALUES ('slack', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,
                     (SELECT coalesce(max(rowid), 0) FROM webhook_event), ?11, ?12, ?12,
                     CASE WHEN ?8 THEN ?12 END)
                 ON CONFLICT (provider) DO UPDATE SET connection_id = excluded.connection_id,
                     channel_id = excluded.channel_id, channel_name = excluded.channel_name,
                     new_leads = excluded.new_leads, new_conversations = excluded.new_conversations,
                     escalations = excluded.escalations, all_messages = excluded.all_messages,
                     daily_summary = excluded.daily_summary, reply_from_slack = excluded.reply_from_slack,
                     summary_time = excluded.summary_time, last_error = NULL, last_error_at = NULL,
                     updated_at = excluded.updated_at, summary_since = CASE
                         WHEN excluded.daily_summary AND NOT notify_target.daily_summary THEN excluded.updated_at
                         ELSE notify_target.summary_since END",
                params![
                    connection.id,
                    channel.id,
                    channel.name,
                    input.toggles.new_leads,
                    input.toggles.new_conversations,
                    input.toggles.escalations,
                    input.toggles.all_messages,
                    input.toggles.daily_summary,
                    input.reply_from_slack,
                    summary_time,
                    actor.member().id,
                    now
                ],
            )?;
            Ok(())
        })?;
        self.saved(SLACK)
    }

    /// Connects Teams or Discord with a pasted incoming-webhook URL, or changes its toggles.
    pub async fn configure_webhook(
        &self,
        actor: &Actor,
        input: WebhookSettings,
    ) -> Result<NotifyTarget> {
        actor.require_manage()?;
        let provider = input.provider.as_str();
        let integration = catalog::get(provider)
            .filter(|_| provider == TEAMS || provider == DISCORD)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "“{provider}” does not take an incoming-webhook URL."
                ))
            })?;
        let summary_time = check_time(&input.summary_time)?;
        let existing = self.get(provider)?;
        let url = match input.url.as_deref().map(str::trim) {
            Some(url) => Some(check_webhook_url(&self.oauth, integration, url)?),
            None if existing.is_some() => None,
            None => {
                return Err(Error::invalid(format!(
                    "Paste the {} webhook URL to connect it.",
                    integration.name
                )))
            }
        };
        let ws = self.oauth.workspace_id()?;
        let key = VaultKey::new(&ws, &format!("notify/{provider}/webhook-url"))?;
        // The keychain first: a refusal there leaves the database as it was. The URL it held
        // is kept, to put back if the database then refuses (nothing half-saved).
        let previous = match &url {
            Some(url) => {
                let secret = Secret::new(url.as_str());
                let set_key = key.clone();
                Some(
                    crate::oauth::blocking(self.vault, move |v| {
                        let previous = v.get(&set_key)?;
                        v.set(&set_key, &secret)?;
                        Ok(previous)
                    })
                    .await?,
                )
            }
            None => None,
        };
        let shown = url.as_ref().map(shorten_url);
        let now = self.hub.now_ms();
        let saved = self.store.write(|tx| {
            tx.execute(
                "INSERT INTO notify_target (provider, new_leads, new_conversations, escalations,
                     all_messages, daily_summary, summary_time, webhook_ref, webhook_shown,
                     event_cursor, connected_by, created_at, updated_at, summary_since)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,
                     (SELECT coalesce(max(rowid), 0) FROM webhook_event), ?10, ?11, ?11,
                     CASE WHEN ?6 THEN ?11 END)
                 ON CONFLICT (provider) DO UPDATE SET new_leads = excluded.new_leads,
                     new_conversations = excluded.new_conversations, escalations = excluded.escalations,
                     all_messages = excluded.all_messages, daily_summary = excluded.daily_summary,
                     summary_time = excluded.summary_time,
                     webhook_shown = coalesce(?9, webhook_shown), last_error = NULL,
                     last_error_at = NULL, updated_at = excluded.updated_at, summary_since = CASE
                         WHEN excluded.daily_summary AND NOT notify_target.daily_summary THEN excluded.updated_at
                         ELSE notify_target.summary_since END",
                params![
                    provider,
                    input.toggles.new_leads,
                    input.toggles.new_conversations,
                    input.toggles.escalations,
                    input.toggles.all_messages,
                    input.toggles.daily_summary,
                    summary_time,
                    key.account(),
                    shown,
                    actor.member().id,
                    now
                ],
            )?;
            Ok(())
        });
        if let (Err(_), Some(previous)) = (&saved, previous) {
            let _ = crate::oauth::blocking(self.vault, move |v| match previous {
                Some(old) => v.set(&key, &old),
                None => v.delete(&key),
            })
            .await;
        }
        saved?;
        self.saved(provider)
    }

    fn saved(&self, provider: &str) -> Result<NotifyTarget> {
        self.hub.wake.notify_one();
        self.hub.changed(provider);
        self.get(provider)?.ok_or_else(|| {
            Error::Internal("The settings were saved but could not be read back.".into())
        })
    }

    /// Removes a target: its settings, its waiting notifications and (Teams, Discord) the URL
    /// in the keychain. Slack's OAuth connection is disconnected separately.
    pub async fn remove(&self, actor: &Actor, provider: &str) -> Result<()> {
        actor.require_manage()?;
        let webhook_ref: Option<Option<String>> = self
            .store
            .conn()
            .query_row(
                "SELECT webhook_ref FROM notify_target WHERE provider = ?1",
                [provider],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(Some(account)) = webhook_ref {
            let key = VaultKey::from_account(&account)?;
            crate::oauth::blocking(self.vault, move |v| v.delete(&key)).await?;
        }
        self.store.write(|tx| {
            tx.execute("DELETE FROM notify_target WHERE provider = ?1", [provider])?;
            Ok(())
        })?;
        crate::lock(&self.hub.reply).remove(provider);
        self.hub.wake.notify_one();
        self.hub.changed(provider);
        Ok(())
    }

    /// Sends the failed notifications again (the card's Retry), and resumes a paused target.
    pub fn retry(&self, actor: &Actor, provider: &str) -> Result<NotifyTarget> {
        actor.require_manage()?;
        let now = self.hub.now_ms();
        let found = self.store.write(|tx| {
            tx.execute(
                "UPDATE notify_outbox SET status = 'pending', attempts = 0, next_attempt_at = ?2
                 WHERE provider = ?1 AND status = 'failed'",
                params![provider, now],
            )?;
            Ok(tx.execute(
                "UPDATE notify_target SET last_error = NULL, last_error_at = NULL WHERE provider = ?1",
                [provider],
            )?)
        })?;
        if found == 0 {
            return Err(Error::NotFound(
                "These notifications are not set up any more. Reload the list.".into(),
            ));
        }
        self.saved(provider)
    }
}

/// Whether a target is in use: Teams and Discord always, Slack only while its OAuth connection
/// is active (otherwise it is neither shown nor sent to).
pub(crate) fn usable(store: &Store, provider: &str, connection_id: Option<&str>) -> bool {
    provider != SLACK
        || connection_id
            .and_then(|id| connections::get(store, id).ok())
            .is_some_and(|c| c.status == ConnectionStatus::Active)
}

/// A Slack refusal while the user waits (listing channels, saving), as a message.
fn slack_refusal(err: &slack::SlackError, doing: &str) -> Error {
    match err {
        slack::SlackError::Api(_) => Error::Upstream(
            err.needs_user()
                .unwrap_or_else(|| format!("Slack refused to {doing}.")),
        ),
        slack::SlackError::RateLimited(wait) => Error::Upstream(format!(
            "Slack is busy (rate limited). Try again in {} seconds.",
            wait.as_secs()
        )),
        slack::SlackError::Transport(what) => Error::Upstream(format!(
            "Slack could not be reached to {doing} ({what}). Check the connection and try again."
        )),
    }
}
