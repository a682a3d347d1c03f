//! Notices: what the bell lists and the OS notification centre shows — an endpoint that started
//! failing or that the app turned off, a destination failing, a revocation a provider has not
//! confirmed, a knowledge source that cannot be read, a new lead (if wanted). Each is written in the transaction of what it tells (so none
//! is lost across a restart), once per kind and subject while unread; the shell hands the ones
//! not shown yet to the OS, for the kinds the person left on.

use rusqlite::{params, Transaction};
use serde::{Deserialize, Serialize};
use specta::Type;

use crate::clock::{rfc3339_ms, unix_ms};
use crate::error::Result;
use crate::store::{app_setting, Store};

/// Read notices older than this are removed as new ones are written.
const KEEP_READ_MS: i64 = 30 * 24 * 3600 * 1000;
/// At most this many are listed.
const LIST_MAX: u32 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// Every attempt to a webhook endpoint has been failing since a time.
    EndpointFailing,
    /// The app turned an endpoint off (it kept failing, or answered 410 Gone).
    EndpointDisabled,
    /// A destination (a CRM, a helpdesk…) started failing.
    DestinationFailing,
    /// A provider has not confirmed that a disconnected integration's access was revoked.
    RevocationPending,
    /// A knowledge source could not be read.
    SourceFailing,
    /// A lead was captured (off unless switched on: written only then).
    LeadCaptured,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 6] = [
        NoticeKind::EndpointFailing,
        NoticeKind::EndpointDisabled,
        NoticeKind::DestinationFailing,
        NoticeKind::RevocationPending,
        NoticeKind::SourceFailing,
        NoticeKind::LeadCaptured,
    ];

    fn name(self) -> &'static str {
        match self {
            NoticeKind::EndpointFailing => "endpoint_failing",
            NoticeKind::EndpointDisabled => "endpoint_disabled",
            NoticeKind::DestinationFailing => "destination_failing",
            NoticeKind::RevocationPending => "revocation_pending",
            NoticeKind::SourceFailing => "source_failing",
            NoticeKind::LeadCaptured => "lead_captured",
        }
    }

    /// On until switched off, but for new leads.
    fn on_by_default(self) -> bool {
        self != NoticeKind::LeadCaptured
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == s)
    }

    /// What Settings calls the switch for this kind.
    fn label(self) -> &'static str {
        match self {
            NoticeKind::EndpointFailing => "A webhook endpoint starts failing",
            NoticeKind::EndpointDisabled => "A webhook endpoint is turned off",
            NoticeKind::DestinationFailing => "A CRM, helpdesk or other destination starts failing",
            NoticeKind::RevocationPending => "A provider has not confirmed a disconnection",
            NoticeKind::SourceFailing => "A knowledge source cannot be read",
            NoticeKind::LeadCaptured => "A new lead is captured",
        }
    }

    fn setting(self) -> String {
        format!("notice_os.{}", self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type)]
pub struct Notice {
    pub id: i64,
    /// RFC 3339, UTC, milliseconds.
    pub at: String,
    pub kind: NoticeKind,
    pub title: String,
    pub body: String,
    /// Where it leads in the window: `endpoint:<id>`, `connected`, `knowledge`, `leads`.
    pub link: String,
    pub read: bool,
}

/// The bell's list, newest first.
#[derive(Debug, Clone, Serialize, Type)]
pub struct NoticeList {
    pub notices: Vec<Notice>,
    pub unread: u32,
}

/// Whether a kind goes to the OS notification centre.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct NoticeSwitch {
    pub kind: NoticeKind,
    pub label: String,
    pub os: bool,
}

/// Writes a notice of a kind written only while switched on (new leads), in `tx`.
pub(crate) fn raise_if_wanted(
    tx: &Transaction<'_>,
    kind: NoticeKind,
    subject: &str,
    title: &str,
    body: &str,
    link: &str,
) -> Result<()> {
    if app_setting::flag(tx, &kind.setting(), kind.on_by_default())? {
        raise(tx, kind, subject, title, body, link)?;
    }
    Ok(())
}

/// Writes a notice in `tx`, unless one of the same kind and subject is still unread.
pub(crate) fn raise(
    tx: &Transaction<'_>,
    kind: NoticeKind,
    subject: &str,
    title: &str,
    body: &str,
    link: &str,
) -> Result<()> {
    let unread = tx
        .prepare_cached(
            "SELECT 1 FROM notice WHERE kind = ?1 AND subject = ?2 AND read_at_ms IS NULL",
        )?
        .exists(params![kind.name(), subject])?;
    if unread {
        return Ok(());
    }
    let now = unix_ms();
    tx.prepare_cached(
        "INSERT INTO notice (at_ms, kind, subject, title, body, link) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![now, kind.name(), subject, title, body, link])?;
    tx.prepare_cached("DELETE FROM notice WHERE read_at_ms IS NOT NULL AND at_ms < ?1")?
        .execute([now - KEEP_READ_MS])?;
    Ok(())
}

fn notice(r: &rusqlite::Row<'_>) -> rusqlite::Result<Option<Notice>> {
    let kind: String = r.get(2)?;
    let Some(kind) = NoticeKind::parse(&kind) else {
        // Written by a newer version: not this one's to show.
        return Ok(None);
    };
    Ok(Some(Notice {
        id: r.get(0)?,
        at: rfc3339_ms(r.get(1)?),
        kind,
        title: r.get(3)?,
        body: r.get(4)?,
        link: r.get(5)?,
        read: r.get::<_, Option<i64>>(6)?.is_some(),
    }))
}

const COLUMNS: &str = "id, at_ms, kind, title, body, link, read_at_ms";

pub struct Notices<'a> {
    pub(crate) store: &'a Store,
}

impl Notices<'_> {
    pub fn list(&self) -> Result<NoticeList> {
        let conn = self.store.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM notice ORDER BY id DESC LIMIT {LIST_MAX}"
        ))?;
        let notices = stmt
            .query_map([], notice)?
            .filter_map(|n| n.transpose())
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let unread = conn.query_row(
            "SELECT COUNT(*) FROM notice WHERE read_at_ms IS NULL",
            [],
            |r| r.get(0),
        )?;
        Ok(NoticeList { notices, unread })
    }

    /// Marks notices read: those listed, or all with `None`. Anyone at the keyboard may.
    pub fn mark_read(&self, ids: Option<Vec<i64>>) -> Result<NoticeList> {
        let now = unix_ms();
        self.store.write(|tx| {
            match &ids {
                None => {
                    tx.execute(
                        "UPDATE notice SET read_at_ms = ?1 WHERE read_at_ms IS NULL",
                        [now],
                    )?;
                }
                Some(ids) => {
                    let mut stmt = tx.prepare_cached(
                        "UPDATE notice SET read_at_ms = ?1 WHERE id = ?2 AND read_at_ms IS NULL",
                    )?;
                    for id in ids {
                        stmt.execute(params![now, id])?;
                    }
                }
            }
            Ok(())
        })?;
        self.list()
    }

    /// The notices not handed to the OS yet whose kind is switched on, oldest first, marked as
    /// handed over (those of kinds switched off too, so turning one on later does not flood).
    pub fn take_unshown(&self) -> Result<Vec<Notice>> {
        let on = self.switches()?;
        let now = unix_ms();
        let taken = self.store.write(|tx| {
            let mut stmt = tx.prepare(&format!(
                "UPDATE notice SET shown_at_ms = ?1 WHERE shown_at_ms IS NULL RETURNING {COLUMNS}"
            ))?;
            let taken = stmt
                .query_map([now], notice)?
                .filter_map(|n| n.transpose())
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(taken)
        })?;
        let mut shown: Vec<Notice> = taken
            .into_iter()
            .filter(|n| on.iter().any(|s| s.kind == n.kind && s.os))
            .collect();
        shown.sort_by_key(|n| n.id);
        Ok(shown)
    }

    /// Which kinds go to the OS notification centre (all, until switched off).
    pub fn switches(&self) -> Result<Vec<NoticeSwitch>> {
        let conn = self.store.conn();
        NoticeKind::ALL
            .into_iter()
            .map(|kind| {
                Ok(NoticeSwitch {
                    kind,
                    label: kind.label().into(),
                    os: app_setting::flag(&conn, &kind.setting(), kind.on_by_default())?,
                })
            })
            .collect()
    }

    pub fn set_switch(&self, kind: NoticeKind, os: bool) -> Result<Vec<NoticeSwitch>> {
        self.store
            .write(|tx| app_setting::put_flag(tx, &kind.setting(), os))?;
        self.switches()
    }
}
