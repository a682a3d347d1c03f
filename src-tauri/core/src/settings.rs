//! Settings the user chose in the app and that outlive it: where the local API listens,
//! whether deliveries are paused, what closing the window does.

use rusqlite::Transaction;
use serde::{Deserialize, Serialize};
use specta::Type;

use crate::api::{ApiConfig, DEFAULT_PORT};
use crate::error::{Error, Result};
use crate::store::{app_setting, Store};

const API_PORT: &str = "api_port";
const DELIVERIES_PAUSED: &str = "deliveries_paused";
const CLOSE_TO_BACKGROUND: &str = "close_to_background";
const CLOSE_NOTICE_SHOWN: &str = "close_notice_shown";

/// What the desktop app does around its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct DesktopSettings {
    /// Closing the window keeps deliveries, the receiver and the local API running, with the
    /// app in the tray (the default); off, closing the window quits.
    pub close_to_background: bool,
}

/// Ports below this need administrator rights on most systems.
pub const MIN_USER_PORT: u16 = 1024;

pub struct Settings<'a> {
    pub(crate) store: &'a Store,
}

impl Settings<'_> {
    fn get(&self, key: &str) -> Result<Option<String>> {
        app_setting::get(&self.store.conn(), key)
    }

    fn flag(&self, key: &str, default: bool) -> Result<bool> {
        app_setting::flag(&self.store.conn(), key, default)
    }

    /// The port the user chose for the local API, if they chose one.
    pub fn api_port(&self) -> Result<Option<u16>> {
        // A value this version cannot read is treated as unset rather than blocking the API.
        Ok(self.get(API_PORT)?.and_then(|v| v.parse().ok()))
    }

    pub(crate) fn set_api_port(&self, port: u16) -> Result<()> {
        self.store
            .write(|tx| app_setting::put(tx, API_PORT, &port.to_string()))
    }

    /// Whether a person paused webhook deliveries (they wait, pending, until resumed).
    pub fn deliveries_paused(&self) -> Result<bool> {
        self.flag(DELIVERIES_PAUSED, false)
    }

    pub fn desktop(&self) -> Result<DesktopSettings> {
        Ok(DesktopSettings {
            close_to_background: self.flag(CLOSE_TO_BACKGROUND, true)?,
        })
    }

    /// Saves what the app does around its window; anyone at the keyboard may choose it.
    pub fn set_desktop(&self, desktop: DesktopSettings) -> Result<DesktopSettings> {
        self.store.write(|tx| {
            app_setting::put_flag(tx, CLOSE_TO_BACKGROUND, desktop.close_to_background)
        })?;
        self.desktop()
    }

    /// True the first time only: whether to say where the app went when its window closed.
    pub fn first_close(&self) -> Result<bool> {
        self.store.write(|tx| {
            let shown = app_setting::get(tx, CLOSE_NOTICE_SHOWN)?;
            app_setting::put_flag(tx, CLOSE_NOTICE_SHOWN, true)?;
            Ok(shown.is_none())
        })
    }

    /// Where the local API should listen: the port chosen in the app, else `PITCHBAR_API_PORT`
    /// (for scripts and tests; 0 picks any free port), else 4787.
    pub fn api_config(&self) -> Result<ApiConfig> {
        if let Some(port) = self.api_port()? {
            return Ok(ApiConfig::on_port(port));
        }
        ApiConfig::from_env()
    }
}

/// Pauses or resumes deliveries, in the caller's transaction (with its audit entry).
pub(crate) fn set_deliveries_paused(tx: &Transaction<'_>, paused: bool) -> Result<()> {
    app_setting::put_flag(tx, DELIVERIES_PAUSED, paused)
}

/// A port a person may choose for the local API.
pub fn check_api_port(port: u16) -> Result<()> {
    if port < MIN_USER_PORT {
        return Err(Error::invalid(format!(
            "Port {port} is reserved for the system (ports below {MIN_USER_PORT} need administrator rights). Choose a port from {MIN_USER_PORT} to 65535, such as {DEFAULT_PORT}."
        )));
    }
    Ok(())
}
