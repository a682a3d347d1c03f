//! What the background work is doing, in one read: the tray's menu and the window's banner
//! show it while the window is closed or on another tab.

use serde::Serialize;
use specta::Type;

use crate::error::Result;
use crate::store::Store;

/// The background work at a glance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Type)]
pub struct BackgroundStatus {
    /// A person paused deliveries: they wait, pending, until resumed.
    pub deliveries_paused: bool,
    /// Deliveries not yet delivered nor given up on (retries included).
    pub pending_deliveries: u32,
    /// Endpoints on whose last attempts all failed.
    pub failing_endpoints: u32,
    /// Endpoints the app turned off (they kept failing, or answered 410 Gone).
    pub disabled_endpoints: u32,
    /// Where the local receiver listens, while it runs.
    pub receiver_addr: Option<String>,
    /// Where the local API listens, while it runs.
    pub api_addr: Option<String>,
    /// Sign-ins started and not finished in the browser yet.
    pub sign_ins_pending: u32,
    /// Disconnections whose access the provider has not confirmed revoked yet.
    pub revocations_pending: u32,
}

/// The counts kept in the store; the caller adds what runs in memory.
pub(crate) fn stored(store: &Store) -> Result<BackgroundStatus> {
    let conn = store.conn();
    let count = |sql: &str| -> Result<u32> { Ok(conn.query_row(sql, [], |r| r.get(0))?) };
    Ok(BackgroundStatus {
        deliveries_paused: false,
        pending_deliveries: count(
            "SELECT COUNT(*) FROM webhook_delivery WHERE status = 'pending'",
        )?,
        failing_endpoints: count(
            "SELECT COUNT(*) FROM webhook_endpoint WHERE active = 1 AND failing_since IS NOT NULL",
        )?,
        disabled_endpoints: count(
            "SELECT COUNT(*) FROM webhook_endpoint WHERE active = 0 AND disabled_for IS NOT NULL",
        )?,
        revocations_pending: count("SELECT COUNT(DISTINCT connection_id) FROM oauth_revocation")?,
        ..Default::default()
    })
}
