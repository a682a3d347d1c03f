//! Connections of catalog integrations (the spec's `integration_connection`), as listed on the
//! Connected tab.

use rusqlite::Row;
use serde::{Deserialize, Serialize};
use specta::Type;

use crate::error::Result;
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
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Connection> {
    Ok(Connection {
        id: r.get(0)?,
        provider: r.get(1)?,
        status: ConnectionStatus::parse(&r.get::<_, String>(2)?),
        account_label: r.get(3)?,
        connected_by: r.get(4)?,
        connected_at: r.get(5)?,
    })
}

/// Connections that are in use or still being wound down (not the fully disconnected ones).
pub fn list(store: &Store) -> Result<Vec<Connection>> {
    let conn = store.conn();
    let mut stmt = conn.prepare(
        "SELECT c.id, c.provider, c.status, c.account_label, m.name, c.connected_at
         FROM integration_connection c LEFT JOIN member m ON m.id = c.connected_by
         WHERE c.status != 'inactive' ORDER BY c.connected_at",
    )?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
