//! The daily summary: at the configured local time, the past 24 hours' conversations, leads and
//! new gaps (conversations routed to a human because the agent had no answer). Queued once per
//! local day (the `notify_summary` key), so a restart never sends it twice; a summary whose time
//! passed while the app was closed is queued at the next start.

use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use rusqlite::{params, Transaction};

use super::enqueue::insert_outbox;
use super::format::Notice;
use super::targets::TargetRow;
use crate::error::Result;

/// The most recent summary time at or before `now`: its local day and when it was (unix ms),
/// and the next one after `now`.
pub(crate) fn schedule(now_ms: i64, tz: &TimeZone, hh_mm: &str) -> Option<(String, i64, i64)> {
    let (h, m) = hh_mm.split_once(':')?;
    let at = Time::new(h.parse().ok()?, m.parse().ok()?, 0, 0).ok()?;
    let now = Timestamp::from_millisecond(now_ms)
        .ok()?
        .to_zoned(tz.clone());
    let today = now.date().to_datetime(at).to_zoned(tz.clone()).ok()?;
    let (last, next) = if today.timestamp() <= now.timestamp() {
        let next = today.checked_add(1.day()).ok()?;
        (today, next)
    } else {
        let last = today.checked_sub(1.day()).ok()?;
        (last, today)
    };
    Some((
        last.date().to_string(),
        last.timestamp().as_millisecond(),
        next.timestamp().as_millisecond(),
    ))
}

/// Queues the latest due summary if it is not queued yet and its time came after the summary
/// was turned on. Returns when the next one is due.
pub(crate) fn enqueue_due(
    tx: &Transaction<'_>,
    target: &TargetRow,
    now: i64,
    tz: &TimeZone,
) -> Result<i64> {
    let Some((day, at, next)) = schedule(now, tz, &target.summary_time) else {
        return Ok(now + 3_600_000);
    };
    let since = target.summary_since.unwrap_or(i64::MAX);
    if at < since {
        return Ok(next);
    }
    let queued = tx
        .query_row(
            "SELECT 1 FROM notify_summary WHERE provider = ?1 AND day = ?2",
            params![target.provider, day],
            |_| Ok(()),
        )
        .is_ok();
    if queued {
        return Ok(next);
    }
    let start = at - 24 * 3_600_000;
    let notice = build(tx, &day, start, at)?;
    let id = insert_outbox(tx, &target.provider, &notice, now)?;
    tx.execute(
        "INSERT INTO notify_summary (provider, day, outbox_id, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![target.provider, day, id, now],
    )?;
    Ok(next)
}

/// What happened in [start, end): counted from the store itself; gaps from the routed events.
fn build(tx: &Transaction<'_>, day: &str, start: i64, end: i64) -> Result<Notice> {
    let count = |sql: &str| -> Result<u64> {
        let n: i64 = tx.query_row(sql, params![start, end], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or_default())
    };
    let conversations =
        count("SELECT count(*) FROM conversation WHERE created_at >= ?1 AND created_at < ?2")?;
    let leads = count("SELECT count(*) FROM lead WHERE created_at >= ?1 AND created_at < ?2")?;
    let mut stmt = tx.prepare(
        "SELECT coalesce(json_extract(e.payload, '$.data.reason'), '(no reason given)')
         FROM webhook_event e
         WHERE e.type = 'conversation.routed' AND e.created_at >= ?1 AND e.created_at < ?2
           AND EXISTS (SELECT 1 FROM conversation c WHERE c.id = json_extract(e.payload, '$.data.conversation_id'))
         ORDER BY e.rowid DESC",
    )?;
    let gaps: Vec<String> = stmt
        .query_map(params![start, end], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Notice::Summary {
        day: day.to_owned(),
        conversations,
        leads,
        routed: gaps.len() as u64,
        gaps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        s.parse::<Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn the_latest_time_passed_and_the_next() {
        let tz = TimeZone::fixed(jiff::tz::offset(2));
        // 10:00 local (08:00Z): today's 09:00 has passed.
        let (day, at, next) = schedule(ms("2026-11-23T08:00:00Z"), &tz, "09:00").unwrap();
        assert_eq!(day, "2026-11-23");
        assert_eq!(at, ms("2026-11-23T07:00:00Z"));
        assert_eq!(next, ms("2026-11-24T07:00:00Z"));
        // 08:00 local: yesterday's is the latest.
        let (day, _, next) = schedule(ms("2026-11-23T06:00:00Z"), &tz, "09:00").unwrap();
        assert_eq!(day, "2026-11-22");
        assert_eq!(next, ms("2026-11-23T07:00:00Z"));
    }
}
