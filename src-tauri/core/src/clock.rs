//! Time, in the forms the app stores and shows: unix milliseconds in the database, RFC 3339
//! (UTC) in payloads and views. One place, so every module formats and parses alike.

use std::fmt;
use std::sync::Arc;

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use crate::error::{Error, Result};

/// Now, as `2026-05-07T12:00:00Z` (UTC, whole seconds).
pub fn now_rfc3339() -> String {
    rfc3339_utc_seconds(OffsetDateTime::now_utc())
}

/// `2026-05-07T12:00:00Z`: UTC, whole seconds. Written by hand so it cannot fail: years outside
/// RFC 3339's 0000–9999 (no real clock gives one) are clamped to the nearest end.
pub fn rfc3339_utc_seconds(at: OffsetDateTime) -> String {
    let at = at.to_offset(UtcOffset::UTC);
    let (year, month, day) = match at.year() {
        y if y < 0 => (0, 1, 1),
        y if y > 9999 => (9999, 12, 31),
        y => (y, u8::from(at.month()), at.day()),
    };
    let (hour, minute, second) = match at.year() {
        y if y < 0 => (0, 0, 0),
        y if y > 9999 => (23, 59, 59),
        _ => (at.hour(), at.minute(), at.second()),
    };
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
}

/// What the time is, in unix milliseconds. Injectable so that expiry, backoff and "failing for
/// five days" can be tested without waiting (tests move a clock forward); the app uses the
/// system clock.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> i64 + Send + Sync>);

impl Clock {
    pub fn system() -> Self {
        Self(Arc::new(unix_ms))
    }

    pub fn new(now_ms: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        Self(Arc::new(now_ms))
    }

    pub fn now_ms(&self) -> i64 {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Clock")
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn unix_ms() -> i64 {
    let now = OffsetDateTime::now_utc();
    i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// `2026-05-07T12:00:00.123Z` for a time in unix milliseconds: always three fraction digits,
/// so that these strings sort as the times do.
pub fn rfc3339_ms(ms: i64) -> String {
    const FORMAT: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(FORMAT).ok())
        .unwrap_or_default()
}

/// Parses an RFC 3339 time (any offset) into unix milliseconds.
pub fn parse_time(s: &str) -> Result<i64> {
    let t = OffsetDateTime::parse(s.trim(), &Rfc3339).map_err(|_| {
        Error::invalid(format!(
            "“{}” is not a date and time. Use RFC 3339, like 2026-05-07T12:00:00Z.",
            s.chars().take(40).collect::<String>()
        ))
    })?;
    Ok(i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX))
}
