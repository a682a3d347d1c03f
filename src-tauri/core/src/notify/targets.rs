//! The targets as the notifier reads them (settings, event cursor, paused or not), and whether
//! a target is in use at all. In a file of their own so that the notifier, the enqueuing and the
//! daily summary all read targets without using each other.

use super::types::{NotifyToggles, SLACK};
use crate::connections::{self, ConnectionStatus};
use crate::error::Result;
use crate::store::Store;

/// A target as the notifier needs it.
#[derive(Debug, Clone)]
pub(crate) struct TargetRow {
    pub provider: String,
    pub connection_id: Option<String>,
    pub channel_id: Option<String>,
    pub toggles: NotifyToggles,
    pub reply_from_slack: bool,
    /// Slack member IDs allowed to reply; empty: anyone of the connected workspace.
    pub reply_users: Vec<String>,
    pub summary_time: String,
    pub summary_since: Option<i64>,
    pub webhook_ref: Option<String>,
    pub cursor: i64,
    pub paused: bool,
}

pub(crate) fn targets(store: &Store) -> Result<Vec<TargetRow>> {
    let conn = store.conn();
    let mut stmt = conn.prepare(
        "SELECT provider, connection_id, channel_id, new_leads, new_conversations, escalations,
                all_messages, daily_summary, reply_from_slack, summary_time, summary_since,
                webhook_ref, event_cursor, last_error IS NOT NULL, reply_users
         FROM notify_target",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(TargetRow {
            provider: r.get(0)?,
            connection_id: r.get(1)?,
            channel_id: r.get(2)?,
            toggles: NotifyToggles {
                new_leads: r.get(3)?,
                new_conversations: r.get(4)?,
                escalations: r.get(5)?,
                all_messages: r.get(6)?,
                daily_summary: r.get(7)?,
            },
            reply_from_slack: r.get(8)?,
            reply_users: parse_users(&r.get::<_, String>(14)?),
            summary_time: r.get(9)?,
            summary_since: r.get(10)?,
            webhook_ref: r.get(11)?,
            cursor: r.get(12)?,
            paused: r.get(13)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The stored list of Slack member IDs (a JSON array); unreadable reads as empty.
pub(crate) fn parse_users(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

impl TargetRow {
    pub(crate) fn usable(&self, store: &Store) -> bool {
        usable(store, &self.provider, self.connection_id.as_deref())
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
