//! Connections of catalog integrations (the spec's `integration_connection`), as listed on the
//! Connected tab.

use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use specta::Type;

use crate::audit::{self, Area, By};
use crate::error::{Error, Result};
use crate::store::Store;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    Active,
    NeedsReauth,
    Inactive,
    RevocationPending,
}

impl ConnectionStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::NeedsReauth => "needs_reauth",
            Self::Inactive => "inactive",
            Self::RevocationPending => "revocation_pending",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "active" => Self::Active,
            "needs_reauth" => Self::NeedsReauth,
            "revocation_pending" => Self::RevocationPending,
            _ => Self::Inactive,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Type)]
pub struct Connection {
    pub id: String,
    /// The catalog id of the integration.
    pub provider: String,
    pub status: ConnectionStatus,
    /// Who it is connected as, from the provider (Slack team, Notion workspace, Google account).
    pub account_label: Option<String>,
    /// The name of the member who connected it, if they are still a member.
    pub connected_by: Option<String>,
    pub connected_at: String,
    /// Why the status is not `active`, for the card ("reconnect: access was revoked").
    pub status_detail: Option<String>,
    /// Where this account's API lives, when the provider says so per account (Salesforce
    /// instance, Pipedrive company domain, Mailchimp data center).
    pub api_base: Option<String>,
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Connection> {
    Ok(Connection {
        id: r.get(0)?,
        provider: r.get(1)?,
        status: ConnectionStatus::parse(&r.get::<_, String>(2)?),
        account_label: r.get(3)?,
        connected_by: r.get(4)?,
        connected_at: r.get(5)?,
        status_detail: r.get(6)?,
        api_base: r.get(7)?,
    })
}

const SELECT: &str =
    "SELECT c.id, c.provider, c.status, c.account_label, m.name, c.connected_at, c.status_detail, c.api_base
     FROM integration_connection c LEFT JOIN member m ON m.id = c.connected_by";

/// Connections that are in use or still being wound down (not the fully disconnected ones).
pub fn list(store: &Store) -> Result<Vec<Connection>> {
    let conn = store.conn();
    let mut stmt = conn.prepare(&format!(
        "{SELECT} WHERE c.status != 'inactive' ORDER BY c.connected_at"
    ))?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// One connection, whatever its status.
pub fn get(store: &Store, id: &str) -> Result<Connection> {
    store
        .conn()
        .query_row(&format!("{SELECT} WHERE c.id = ?1"), [id], from_row)
        .optional()?
        .ok_or_else(|| {
            Error::NotFound("This connection no longer exists. Refresh the list.".into())
        })
}

/// The provider's most recent connection, whatever its status: connecting again re-binds it,
/// so its configuration and the sources bound to it carry over.
pub fn latest_for_provider(store: &Store, provider: &str) -> Result<Option<Connection>> {
    Ok(store
        .conn()
        .query_row(
            &format!(
                "{SELECT} WHERE c.provider = ?1 ORDER BY c.connected_at DESC, c.id DESC LIMIT 1"
            ),
            [provider],
            from_row,
        )
        .optional()?)
}

/// Marks `id` active as connected now by `member_id`, creating the row if it is new and
/// keeping its configuration if it is not.
pub(crate) fn bind(
    tx: &rusqlite::Transaction<'_>,
    id: &str,
    provider: &str,
    account_label: Option<&str>,
    api_base: Option<&str>,
    by: &By,
    connected_at: &str,
) -> Result<()> {
    let member_id = by.member_id().unwrap_or_default();
    tx.execute(
        "INSERT INTO integration_connection (id, provider, status, account_label, connected_by, connected_at, api_base)
         VALUES (?1, ?2, 'active', ?3, ?4, ?5, ?6)
         ON CONFLICT (id) DO UPDATE SET status = 'active', account_label = excluded.account_label,
             connected_by = excluded.connected_by, connected_at = excluded.connected_at, status_detail = NULL,
             api_base = excluded.api_base",
        params![id, provider, account_label, member_id, connected_at, api_base],
    )?;
    let name = crate::catalog::get(provider).map_or(provider, |i| i.name.as_str());
    audit::record(
        tx,
        by.clone(),
        Area::Connections,
        "connection.connected",
        name,
        match account_label {
            Some(label) => format!("Connected {name} as {label}."),
            None => format!("Connected {name}."),
        },
    )?;
    crate::destinations::kinds::connected(tx, provider, id, crate::clock::unix_ms())
}

/// Records that `actor` disconnected `connection`; `outcome` says what became of its access.
pub(crate) fn audit_disconnect(
    store: &Store,
    actor: &crate::workspace::Actor,
    connection: &Connection,
    outcome: &str,
) -> Result<()> {
    let name = crate::catalog::get(&connection.provider)
        .map_or(connection.provider.as_str(), |i| i.name.as_str());
    let account = connection
        .account_label
        .as_deref()
        .map(|l| format!(" ({l})"))
        .unwrap_or_default();
    audit::record_now(
        store,
        actor,
        Area::Connections,
        "connection.disconnected",
        name,
        format!("Disconnected {name}{account}: {outcome}"),
    )
}

pub(crate) fn set_status(
    store: &Store,
    id: &str,
    status: ConnectionStatus,
    detail: Option<&str>,
) -> Result<()> {
    store.write(|tx| {
        tx.execute(
            "UPDATE integration_connection SET status = ?2, status_detail = ?3 WHERE id = ?1",
            params![id, status.as_str(), detail],
        )?;
        // Disconnected (revoked or still revoking): its destination stops.
        if matches!(
            status,
            ConnectionStatus::Inactive | ConnectionStatus::RevocationPending
        ) {
            crate::destinations::kinds::disconnected(tx, id, crate::clock::unix_ms())?;
        }
        Ok(())
    })
}
