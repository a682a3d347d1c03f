//! Settings the user chose in the app and that outlive it: where the local API listens.

use rusqlite::{params, OptionalExtension};

use crate::api::{ApiConfig, DEFAULT_PORT};
use crate::clock::now_rfc3339;
use crate::error::{Error, Result};
use crate::store::Store;

const API_PORT: &str = "api_port";

/// Ports below this need administrator rights on most systems.
pub const MIN_USER_PORT: u16 = 1024;

pub struct Settings<'a> {
    pub(crate) store: &'a Store,
}

impl Settings<'_> {
    /// The port the user chose for the local API, if they chose one.
    pub fn api_port(&self) -> Result<Option<u16>> {
        let value: Option<String> = self
            .store
            .conn()
            .query_row(
                "SELECT value FROM app_setting WHERE key = ?1",
                [API_PORT],
                |r| r.get(0),
            )
            .optional()?;
        // A value this version cannot read is treated as unset rather than blocking the API.
        Ok(value.and_then(|v| v.parse().ok()))
    }

    pub(crate) fn set_api_port(&self, port: u16) -> Result<()> {
        self.store.write(|tx| {
            tx.execute(
                "INSERT INTO app_setting (key, value, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                params![API_PORT, port.to_string(), now_rfc3339()],
            )?;
            Ok(())
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

/// A port a person may choose for the local API.
pub fn check_api_port(port: u16) -> Result<()> {
    if port < MIN_USER_PORT {
        return Err(Error::invalid(format!(
            "Port {port} is reserved for the system (ports below {MIN_USER_PORT} need administrator rights). Choose a port from {MIN_USER_PORT} to 65535, such as {DEFAULT_PORT}."
        )));
    }
    Ok(())
}
