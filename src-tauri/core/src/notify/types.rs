//! The notification settings as the window and the notifier see them: the target ids, each
//! target's toggles and card, the dialogs' input, the notifier's tuning and its announcements.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use specta::Type;

use crate::oauth::Clock;

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

impl NotifyToggles {
    /// What is switched on, in words: "new leads, escalations" (or "nothing").
    pub fn words(&self) -> String {
        let on: Vec<&str> = [
            (self.new_leads, "new leads"),
            (self.new_conversations, "new conversations"),
            (self.escalations, "escalations"),
            (self.all_messages, "all messages"),
            (self.daily_summary, "daily summary"),
        ]
        .into_iter()
        .filter_map(|(on, word)| on.then_some(word))
        .collect();
        if on.is_empty() {
            "nothing".into()
        } else {
            on.join(", ")
        }
    }
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
    /// Slack member IDs whose replies reach the visitor; empty: anyone of the connected workspace.
    pub reply_users: Vec<String>,
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
    /// Only these Slack member IDs (`U…`/`W…`) may reply; empty: anyone of the connected
    /// workspace.
    pub reply_users: Vec<String>,
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

/// Announced after the notifier changes what a card shows; the shell forwards it to the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type)]
pub struct NotifyChanged {
    pub provider: String,
}
