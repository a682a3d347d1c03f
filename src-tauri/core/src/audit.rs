//! The audit trail: who changed what, when, and from where — for the people who answer "who
//! disconnected Slack?". Every core call that takes an [`Actor`] records one entry in the
//! transaction of the change it makes (or right after a change made over the network), and the
//! app records what it does by itself (turning off a failing endpoint). An entry names things
//! (an endpoint's address without its query, an integration, a member); it never holds a
//! secret's value. Entries are kept two years, then pruned as new ones are written.

use std::path::{Path, PathBuf};

use rusqlite::{params, params_from_iter, OptionalExtension, Row, ToSql, Transaction};
use serde::{Deserialize, Serialize};
use specta::Type;

use crate::clock::{parse_time, rfc3339_ms, unix_ms};
use crate::error::{Error, Result};
use crate::store::Store;
use crate::workspace::Role;

/// How long entries are kept: two years (the promise is at least one).
pub const KEEP_DAYS: i64 = 730;
const DAY_MS: i64 = 86_400_000;
/// The most entries one page returns.
const PAGE_MAX: u32 = 500;

/// Where a change was made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum Surface {
    /// The app's window.
    Window,
    /// The command line, acting as the device user.
    Cli,
    /// The app itself (no person): an endpoint turned off for failing, for example.
    App,
}

/// What part of the workspace a change touched: the filter in Settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum Area {
    Workspace,
    Members,
    Connections,
    OauthApps,
    ApiKey,
    Endpoints,
    Deliveries,
    Receiver,
    Agents,
    Knowledge,
    Destinations,
    Notifications,
    Settings,
}

impl Area {
    pub const ALL: [Area; 13] = [
        Area::Workspace,
        Area::Members,
        Area::Connections,
        Area::OauthApps,
        Area::ApiKey,
        Area::Endpoints,
        Area::Deliveries,
        Area::Receiver,
        Area::Agents,
        Area::Knowledge,
        Area::Destinations,
        Area::Notifications,
        Area::Settings,
    ];

    pub fn from_name(s: &str) -> Option<Self> {
        Area::ALL.into_iter().find(|a| a.name() == s)
    }

    /// Its name on the command line and in exports: `oauth_apps`.
    pub fn name(self) -> &'static str {
        match self {
            Area::Workspace => "workspace",
            Area::Members => "members",
            Area::Connections => "connections",
            Area::OauthApps => "oauth_apps",
            Area::ApiKey => "api_key",
            Area::Endpoints => "endpoints",
            Area::Deliveries => "deliveries",
            Area::Receiver => "receiver",
            Area::Agents => "agents",
            Area::Knowledge => "knowledge",
            Area::Destinations => "destinations",
            Area::Notifications => "notifications",
            Area::Settings => "settings",
        }
    }

    fn parse(s: &str) -> Self {
        Area::from_name(s).unwrap_or(Area::Settings)
    }
}

impl Surface {
    fn as_str(self) -> &'static str {
        match self {
            Surface::Window => "window",
            Surface::Cli => "cli",
            Surface::App => "app",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "cli" => Surface::Cli,
            "app" => Surface::App,
            _ => Surface::Window,
        }
    }
}

/// One change, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type)]
pub struct AuditEntry {
    pub id: i64,
    /// RFC 3339, UTC, milliseconds.
    pub at: String,
    /// `None` for the app itself.
    pub member_id: Option<String>,
    /// The member's name when the change was made ("Pitchbar Admin" for the app).
    pub member_name: String,
    pub member_role: Option<Role>,
    /// When the change was made while previewing another member ("View as"): the device
    /// user who was previewing.
    pub previewed_by: Option<String>,
    pub surface: Surface,
    pub area: Area,
    /// A stable name for the kind of change, like `endpoint.created`.
    pub action: String,
    /// What was changed, by name: an endpoint's address, an integration, a member.
    pub target: String,
    /// One sentence a person reads.
    pub summary: String,
}

/// Which entries to list or export; every filter is optional.
#[derive(Debug, Clone, Default, Deserialize, Type)]
pub struct AuditQuery {
    /// A member's ID, or `"app"` for what the app did by itself.
    pub who: Option<String>,
    pub area: Option<Area>,
    pub surface: Option<Surface>,
    /// RFC 3339: entries at or after it.
    pub since: Option<String>,
    /// RFC 3339: entries before it.
    pub until: Option<String>,
    /// Words looked for in the action, target and summary.
    pub text: Option<String>,
    /// Paging: entries older than this ID.
    pub before_id: Option<i64>,
    /// At most this many (default 100, at most 500).
    pub limit: Option<u32>,
}

/// A page of entries, newest first.
#[derive(Debug, Clone, Serialize, Type)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// How many entries match the filters in all.
    pub total: u32,
    /// Pass as `before_id` for the next page; `None` on the last one.
    pub next_before_id: Option<i64>,
}

/// The formats an export is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Csv,
    Json,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Json => "json",
        }
    }
}

/// Who made a change, as an entry records it.
#[derive(Debug, Clone)]
pub struct By {
    member_id: Option<String>,
    member_name: String,
    member_role: Option<Role>,
    previewed_by: Option<String>,
    surface: Surface,
}

impl By {
    /// A member acting in the window, looked up by ID (a sign-in finished after a restart).
    /// A member removed since is named as such.
    pub fn member(store: &Store, member_id: &str) -> Result<Self> {
        let found: Option<(String, String)> = store
            .conn()
            .query_row(
                "SELECT name, role FROM member WHERE id = ?1",
                [member_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (name, role) = found.map_or(("A removed member".into(), None), |(n, r)| {
            (n, Some(Role::parse(&r)))
        });
        Ok(Self {
            member_id: Some(member_id.to_owned()),
            member_name: name,
            member_role: role,
            previewed_by: None,
            surface: Surface::Window,
        })
    }

    /// A member, as an [`crate::workspace::Actor`] turns into one.
    pub(crate) fn person(
        id: &str,
        name: &str,
        role: Role,
        previewed_by: Option<&str>,
        surface: Surface,
    ) -> Self {
        Self {
            member_id: Some(id.to_owned()),
            member_name: name.to_owned(),
            member_role: Some(role),
            previewed_by: previewed_by.map(str::to_owned),
            surface,
        }
    }

    pub fn member_id(&self) -> Option<&str> {
        self.member_id.as_deref()
    }

    /// The app itself.
    pub fn app() -> Self {
        Self {
            member_id: None,
            member_name: "Pitchbar Admin".into(),
            member_role: None,
            previewed_by: None,
            surface: Surface::App,
        }
    }
}

/// Records one change in `tx` (the change's own transaction), and prunes what is past keeping.
pub fn record(
    tx: &Transaction<'_>,
    by: impl Into<By>,
    area: Area,
    action: &str,
    target: &str,
    summary: impl Into<String>,
) -> Result<()> {
    let by = by.into();
    let now = unix_ms();
    tx.execute(
        "INSERT INTO audit_entry (at_ms, member_id, member_name, member_role, previewed_by,
             surface, area, action, target, summary)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            now,
            by.member_id,
            by.member_name,
            by.member_role.map(Role::as_str),
            by.previewed_by,
            by.surface.as_str(),
            area.name(),
            action,
            target,
            summary.into()
        ],
    )?;
    tx.execute(
        "DELETE FROM audit_entry WHERE at_ms < ?1",
        [now - KEEP_DAYS * DAY_MS],
    )?;
    Ok(())
}

/// [`record`] in a transaction of its own: for changes made over the network, recorded once
/// they succeeded.
pub fn record_now(
    store: &Store,
    by: impl Into<By>,
    area: Area,
    action: &str,
    target: &str,
    summary: impl Into<String>,
) -> Result<()> {
    let summary = summary.into();
    store.write(|tx| record(tx, by, area, action, target, summary))
}

/// An address as an entry names it: scheme, host, port and path; no query, fragment or
/// credentials (they can carry tokens).
pub fn url_label(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => {
            let host = u.host_str().unwrap_or_default();
            let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
            format!("{}://{host}{port}{}", u.scheme(), u.path())
        }
        Err(_) => url.chars().take(80).collect(),
    }
}

/// The audit trail over the store.
pub struct AuditLog<'a> {
    pub(crate) store: &'a Store,
}

impl AuditLog<'_> {
    /// A page of the entries `query` picks, newest first.
    pub fn list(&self, query: &AuditQuery) -> Result<AuditPage> {
        let limit = query.limit.unwrap_or(100).clamp(1, PAGE_MAX);
        let mut filter = Filter::of(query)?;
        let conn = self.store.conn();
        let total: u32 = conn.query_row(
            &format!("SELECT count(*) FROM audit_entry {}", filter.sql()),
            params_from_iter(filter.params.iter()),
            |r| r.get(0),
        )?;
        if let Some(before) = query.before_id {
            filter.clauses.push("id < ?".into());
            filter.params.push(Box::new(before));
        }
        filter.params.push(Box::new(i64::from(limit) + 1));
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM audit_entry {} ORDER BY id DESC LIMIT ?",
            filter.sql()
        ))?;
        let mut entries = stmt
            .query_map(params_from_iter(filter.params.iter()), entry)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let next_before_id = if entries.len() > limit as usize {
            entries.truncate(limit as usize);
            entries.last().map(|e| e.id)
        } else {
            None
        };
        Ok(AuditPage {
            entries,
            total,
            next_before_id,
        })
    }

    /// Every entry `query` picks (its paging ignored), oldest first, as a file's bytes.
    pub fn export(&self, query: &AuditQuery, format: ExportFormat) -> Result<Vec<u8>> {
        let filter = Filter::of(query)?;
        let conn = self.store.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM audit_entry {} ORDER BY id",
            filter.sql()
        ))?;
        let entries = stmt
            .query_map(params_from_iter(filter.params.iter()), entry)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        match format {
            ExportFormat::Json => serde_json::to_vec_pretty(&entries)
                .map_err(|e| Error::Internal(format!("The JSON file could not be written: {e}"))),
            ExportFormat::Csv => csv_bytes(&entries),
        }
    }

    /// [`AuditLog::export`] written to a new file in `dir`, named after the time
    /// (`pitchbar-audit-20261207-201500.csv`); returns its path. Written whole or not at all.
    pub fn export_file(
        &self,
        query: &AuditQuery,
        format: ExportFormat,
        dir: &Path,
    ) -> Result<PathBuf> {
        let bytes = self.export(query, format)?;
        crate::paths::write_new_file(dir, EXPORT_PREFIX, format.extension(), |temp| {
            std::fs::write(temp, &bytes)
                .map_err(|e| Error::Storage(format!("The audit trail could not be written: {e}.")))
        })
    }
}

/// How an exported file's name starts.
pub const EXPORT_PREFIX: &str = "pitchbar-audit-";

const COLUMNS: &str = "id, at_ms, member_id, member_name, member_role, previewed_by, surface, area, action, target, summary";

fn entry(r: &Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        id: r.get(0)?,
        at: rfc3339_ms(r.get(1)?),
        member_id: r.get(2)?,
        member_name: r.get(3)?,
        member_role: r.get::<_, Option<String>>(4)?.map(|s| Role::parse(&s)),
        previewed_by: r.get(5)?,
        surface: Surface::parse(&r.get::<_, String>(6)?),
        area: Area::parse(&r.get::<_, String>(7)?),
        action: r.get(8)?,
        target: r.get(9)?,
        summary: r.get(10)?,
    })
}

/// The WHERE clause a query's filters make, and its values.
struct Filter {
    clauses: Vec<String>,
    params: Vec<Box<dyn ToSql>>,
}

impl Filter {
    fn of(q: &AuditQuery) -> Result<Self> {
        let mut clauses: Vec<&str> = Vec::new();
        let mut params: Vec<Box<dyn ToSql>> = Vec::new();
        match q.who.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
            Some("app") => clauses.push("member_id IS NULL"),
            Some(id) => {
                clauses.push("member_id = ?");
                params.push(Box::new(id.to_owned()));
            }
            None => {}
        }
        if let Some(area) = q.area {
            clauses.push("area = ?");
            params.push(Box::new(area.name()));
        }
        if let Some(surface) = q.surface {
            clauses.push("surface = ?");
            params.push(Box::new(surface.as_str()));
        }
        let since = q.since.as_deref().filter(|s| !s.trim().is_empty());
        let until = q.until.as_deref().filter(|s| !s.trim().is_empty());
        let since = since.map(parse_time).transpose()?;
        let until = until.map(parse_time).transpose()?;
        if let (Some(s), Some(u)) = (since, until) {
            if u <= s {
                return Err(Error::invalid(
                    "The end of the period is before its start. Pick an end after the start.",
                ));
            }
        }
        if let Some(s) = since {
            clauses.push("at_ms >= ?");
            params.push(Box::new(s));
        }
        if let Some(u) = until {
            clauses.push("at_ms < ?");
            params.push(Box::new(u));
        }
        if let Some(text) = q.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            let like = format!(
                "%{}%",
                text.replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            clauses.push(
                "(action LIKE ? ESCAPE '\\' OR target LIKE ? ESCAPE '\\' OR summary LIKE ? ESCAPE '\\' OR member_name LIKE ? ESCAPE '\\')",
            );
            for _ in 0..4 {
                params.push(Box::new(like.clone()));
            }
        }
        Ok(Self {
            clauses: clauses.into_iter().map(String::from).collect(),
            params,
        })
    }

    fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.clauses.join(" AND "))
        }
    }
}

fn csv_bytes(entries: &[AuditEntry]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| Error::Internal(format!("The CSV file could not be written: {e}"));
    w.write_record([
        "id",
        "at",
        "member_id",
        "member",
        "role",
        "previewed_by",
        "surface",
        "area",
        "action",
        "target",
        "summary",
    ])
    .map_err(fail)?;
    for e in entries {
        w.write_record([
            e.id.to_string().as_str(),
            &e.at,
            e.member_id.as_deref().unwrap_or(""),
            &neutralised(&e.member_name),
            e.member_role.map(Role::as_str).unwrap_or(""),
            &neutralised(e.previewed_by.as_deref().unwrap_or("")),
            e.surface.as_str(),
            e.area.name(),
            &e.action,
            &neutralised(&e.target),
            &neutralised(&e.summary),
        ])
        .map_err(fail)?;
    }
    w.into_inner()
        .map_err(|e| Error::Internal(format!("The CSV file could not be written: {e}")))
}

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) gets a `'` in front.
fn neutralised(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@']) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}
