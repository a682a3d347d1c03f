//! Pitchbar Admin's domain: the store, the workspace and its roles, the catalog, connections.
//! Nothing here knows of Tauri: the shell turns these calls into commands.

pub mod catalog;
pub mod connections;
pub mod error;
pub mod secret;
pub mod store;
pub mod webhooks;
pub mod workspace;

use std::path::{Path, PathBuf};

use serde::Serialize;
use specta::Type;

pub use error::{Error, Result};
use store::Store;
use workspace::{Session, Workspaces};

/// The app's identifier: the OS data dir is named after it.
pub const APP_ID: &str = "com.pitchbar.admin";

/// One value built at start, holding everything the services share.
pub struct Core {
    store: Store,
    data_dir: PathBuf,
}

/// What the window shows first.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Startup {
    Ready {
        session: Session,
    },
    /// First run: ask for the workspace and its first member.
    NeedsSetup,
    /// The store could not be opened; the window says why and where, and touches nothing.
    Failed {
        error: Error,
        data_dir: String,
    },
}

impl Core {
    pub fn open(data_dir: &Path) -> Result<Self> {
        let store = Store::open(data_dir)?;
        Ok(Self {
            store,
            data_dir: data_dir.to_path_buf(),
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn workspaces(&self) -> Workspaces<'_> {
        Workspaces { store: &self.store }
    }

    pub fn startup(&self) -> Result<Startup> {
        Ok(match self.workspaces().session()? {
            Some(session) => Startup::Ready { session },
            None => Startup::NeedsSetup,
        })
    }
}

/// The data dir: `PITCHBAR_DATA_DIR` if set, else the OS app-data dir for `com.pitchbar.admin`.
pub fn data_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("PITCHBAR_DATA_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    // The same folder Tauri's `app_data_dir` names: the OS data dir plus the identifier.
    directories::BaseDirs::new()
        .map(|d| d.data_dir().join(APP_ID))
        .ok_or_else(|| {
            Error::Storage(
                "No home folder was found for the app's data. Set PITCHBAR_DATA_DIR to a writable folder.".into(),
            )
        })
}

pub(crate) fn new_id() -> String {
    ulid::Ulid::new().to_string()
}

pub(crate) fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}
