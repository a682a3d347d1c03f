//! Notifications to Slack, Microsoft Teams and Discord: each target's settings (Slack through its
//! OAuth connection, Teams and Discord through a pasted incoming-webhook URL kept in the
//! keychain), the durable notifier that turns webhook events into notifications (see `run`),
//! the daily summary (`summary`) and replies from Slack threads over Socket Mode (`socket`).

mod checks;
mod context;
mod enqueue;
pub mod format;
/// Socket Mode frames as read by `socket`; public for the fuzz targets (fuzz/).
#[doc(hidden)]
pub mod frames;
mod hub;
mod run;
pub mod slack;
mod socket;
mod summary;
mod targets;
mod types;

use std::sync::Arc;
use std::time::Duration;

use rusqlite::{params, OptionalExtension, Row};

use crate::audit::{self, Area};
use crate::catalog;
use crate::clock::rfc3339_ms;
use crate::connections::{self, ConnectionStatus};
use crate::error::{Error, Result};
use crate::oauth::OAuth;
use crate::secret::Secret;
use crate::store::Store;
use crate::vault::{Vault, VaultKey};
use crate::workspace::Actor;

use checks::{check_slack_users, check_time, check_webhook_url, shorten_url};
pub(crate) use context::Ctx;
use context::SlackContext;
pub use hub::Hub;
pub(crate) use run::start;
pub use run::Running;
pub use slack::SlackChannel;
pub use socket::MISSING_APP_TOKEN;
pub(crate) use targets::usable;
pub use types::{
    NotifyChanged, NotifyConfig, NotifyTarget, NotifyToggles, SlackReplyStatus, SlackSettings,
    WebhookSettings, DISCORD, SLACK, TEAMS,
};

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
        (SELECT max(sent_at) FROM notify_outbox o WHERE o.provider = t.provider),
        t.reply_users
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
        reply_users: targets::parse_users(&r.get::<_, String>(19)?),
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
        let ctx = SlackContext::load(&self.oauth, &connection.id, Duration::from_secs(20)).await?;
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
        let reply_users = serde_json::to_string(&check_slack_users(&input.reply_users)?)
            .map_err(|_| Error::Internal("The Slack members could not be saved.".into()))?;
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
                     summary_time, event_cursor, connected_by, created_at, updated_at, summary_since,
                     reply_users)
                 VALUES ('slack', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,
                     (SELECT coalesce(max(rowid), 0) FROM webhook_event), ?11, ?12, ?12,
                     CASE WHEN ?8 THEN ?12 END, ?13)
                 ON CONFLICT (provider) DO UPDATE SET connection_id = excluded.connection_id,
                     channel_id = excluded.channel_id, channel_name = excluded.channel_name,
                     new_leads = excluded.new_leads, new_conversations = excluded.new_conversations,
                     escalations = excluded.escalations, all_messages = excluded.all_messages,
                     daily_summary = excluded.daily_summary, reply_from_slack = excluded.reply_from_slack,
                     reply_users = excluded.reply_users, summary_time = excluded.summary_time, last_error = NULL, last_error_at = NULL,
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
                    now,
                    reply_users
                ],
            )?;
            audit::record(
                tx,
                actor,
                Area::Notifications,
                "notifications.configured",
                "Slack",
                format!(
                    "Set Slack notifications to #{}: {}; replies from Slack {}.",
                    channel.name,
                    input.toggles.words(),
                    if input.reply_from_slack { "on" } else { "off" }
                ),
            )
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
            audit::record(
                tx,
                actor,
                Area::Notifications,
                "notifications.configured",
                &integration.name,
                format!(
                    "{} {} notifications{}: {}.",
                    if existing.is_some() { "Changed" } else { "Connected" },
                    integration.name,
                    if url.is_some() { " with a new webhook URL" } else { "" },
                    input.toggles.words()
                ),
            )
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
            let removed =
                tx.execute("DELETE FROM notify_target WHERE provider = ?1", [provider])?;
            if removed == 0 {
                return Ok(());
            }
            let name = catalog::get(provider).map_or(provider, |i| i.name.as_str());
            audit::record(
                tx,
                actor,
                Area::Notifications,
                "notifications.removed",
                name,
                format!("Turned off {name} notifications and dropped the ones waiting."),
            )
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
            let retried = tx.execute(
                "UPDATE notify_outbox SET status = 'pending', attempts = 0, next_attempt_at = ?2
                 WHERE provider = ?1 AND status = 'failed'",
                params![provider, now],
            )?;
            let found = tx.execute(
                "UPDATE notify_target SET last_error = NULL, last_error_at = NULL WHERE provider = ?1",
                [provider],
            )?;
            if found > 0 {
                let name = catalog::get(provider).map_or(provider, |i| i.name.as_str());
                audit::record(
                    tx,
                    actor,
                    Area::Notifications,
                    "notifications.retried",
                    name,
                    format!("Retried {retried} failed {name} notifications."),
                )?;
            }
            Ok(found)
        })?;
        if found == 0 {
            return Err(Error::NotFound(
                "These notifications are not set up any more. Reload the list.".into(),
            ));
        }
        self.saved(provider)
    }
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
