//! Endpoints that keep failing: the workspace's period after which the dispatcher turns such an
//! endpoint off (a setting), its bounds, and the words that say so.

use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use specta::Type;

use crate::clock::{now_rfc3339, rfc3339_ms};
use crate::error::{Error, Result};

const SETTING: &str = "webhook_disable_after_hours";

/// Five days, as Svix does: long enough to ride out a weekend outage, short enough that a
/// receiver that is gone for good stops costing retries.
pub const DEFAULT_DISABLE_AFTER_HOURS: u32 = 5 * 24;
/// Shorter than an hour and one bad deploy turns endpoints off.
pub const MIN_DISABLE_AFTER_HOURS: u32 = 1;
/// Thirty days: past that, a failing endpoint has long stopped being worth retrying.
pub const MAX_DISABLE_AFTER_HOURS: u32 = 30 * 24;

/// Why the app turned an endpoint off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum DisabledFor {
    /// Every attempt failed for the workspace's period; its pending deliveries are held.
    Failing,
    /// It answered 410 Gone; its pending deliveries were cancelled.
    Gone,
}

impl DisabledFor {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "failing" => Some(Self::Failing),
            "gone" => Some(Self::Gone),
            _ => None,
        }
    }
}

/// The period as the Settings page shows and changes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct DisableAfter {
    pub hours: u32,
    pub min_hours: u32,
    pub max_hours: u32,
    pub default_hours: u32,
}

impl DisableAfter {
    pub(crate) fn of(hours: u32) -> Self {
        Self {
            hours,
            min_hours: MIN_DISABLE_AFTER_HOURS,
            max_hours: MAX_DISABLE_AFTER_HOURS,
            default_hours: DEFAULT_DISABLE_AFTER_HOURS,
        }
    }

    pub fn period(&self) -> Duration {
        Duration::from_secs(u64::from(self.hours) * 3600)
    }

    pub(crate) fn period_ms(&self) -> i64 {
        i64::from(self.hours) * 3_600_000
    }
}

/// The workspace's period; the default when none was chosen (or one this version cannot read).
pub(crate) fn disable_after(conn: &Connection) -> Result<DisableAfter> {
    let value: Option<String> = conn
        .prepare_cached("SELECT value FROM app_setting WHERE key = ?1")?
        .query_row([SETTING], |r| r.get(0))
        .optional()?;
    let hours = value
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|h| (MIN_DISABLE_AFTER_HOURS..=MAX_DISABLE_AFTER_HOURS).contains(h))
        .unwrap_or(DEFAULT_DISABLE_AFTER_HOURS);
    Ok(DisableAfter::of(hours))
}

pub(crate) fn set_disable_after(conn: &Connection, hours: u32) -> Result<DisableAfter> {
    check_disable_after_hours(hours)?;
    conn.execute(
        "INSERT INTO app_setting (key, value, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        params![SETTING, hours.to_string(), now_rfc3339()],
    )?;
    Ok(DisableAfter::of(hours))
}

/// A period a person may choose.
pub fn check_disable_after_hours(hours: u32) -> Result<()> {
    if (MIN_DISABLE_AFTER_HOURS..=MAX_DISABLE_AFTER_HOURS).contains(&hours) {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "{} is not a period endpoints can be disabled after. Choose from {MIN_DISABLE_AFTER_HOURS} hour to {} ({MAX_DISABLE_AFTER_HOURS} hours); the default is {}.",
        span_hours(hours),
        span_hours(MAX_DISABLE_AFTER_HOURS),
        span_hours(DEFAULT_DISABLE_AFTER_HOURS),
    )))
}

/// Why the dispatcher turned an endpoint off, kept as its `disabled_reason`.
pub(crate) fn failing_reason(failing_since: i64, disabled_at: i64, last_error: &str) -> String {
    format!(
        "Disabled on {} after failing for {}: every attempt since {} failed (the last: {}). Its pending deliveries are kept and sent when you turn it back on.",
        rfc3339_ms(disabled_at),
        span_ms(disabled_at - failing_since),
        rfc3339_ms(failing_since),
        last_error.trim_end_matches('.'),
    )
}

/// "5 days", "3 days 4 hours", "1 hour", "0 hours".
pub fn span_hours(hours: u32) -> String {
    let (days, hours) = (hours / 24, hours % 24);
    let unit = |n: u32, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    match (days, hours) {
        (0, h) => unit(h, "hour", "hours"),
        (d, 0) => unit(d, "day", "days"),
        (d, h) => format!("{} {}", unit(d, "day", "days"), unit(h, "hour", "hours")),
    }
}

/// A length of time in whole hours as [`span_hours`] says it ("45 minutes" under an hour).
pub(crate) fn span_ms(ms: i64) -> String {
    let minutes = ms.max(0) / 60_000;
    if minutes < 60 {
        return format!("{minutes} minute{}", if minutes == 1 { "" } else { "s" });
    }
    span_hours(u32::try_from(minutes / 60).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_as_people_say_them() {
        assert_eq!(span_hours(120), "5 days");
        assert_eq!(span_hours(76), "3 days 4 hours");
        assert_eq!(span_hours(1), "1 hour");
        assert_eq!(span_hours(0), "0 hours");
        assert_eq!(span_ms(45 * 60_000 + 5), "45 minutes");
        assert_eq!(span_ms(121 * 3_600_000 + 59 * 60_000), "5 days 1 hour");
    }

    #[test]
    fn the_period_is_bounded_with_a_message_naming_the_bounds() {
        assert!(check_disable_after_hours(1).is_ok());
        assert!(check_disable_after_hours(720).is_ok());
        for bad in [0, 721, u32::MAX] {
            let err = check_disable_after_hours(bad).unwrap_err().to_string();
            assert!(err.contains("Choose from 1 hour to 30 days"), "{err}");
        }
    }
}
