//! Where the app keeps things: its identifier (the keychain's service name, the data folder's
//! name) and its data folder.

use std::path::PathBuf;

use crate::error::{Error, Result};

/// The app's identifier: the OS data dir is named after it.
pub const APP_ID: &str = "com.pitchbar.admin";

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

/// Where exports are saved: the user's Downloads folder (`~/Downloads` when the desktop names
/// none), made if missing.
pub fn downloads_dir() -> Result<PathBuf> {
    let dirs = directories::UserDirs::new()
        .ok_or_else(|| Error::Storage("No home folder was found to save the file in.".into()))?;
    let dir = dirs
        .download_dir()
        .map(PathBuf::from)
        .unwrap_or_else(|| dirs.home_dir().join("Downloads"));
    std::fs::create_dir_all(&dir).map_err(|e| {
        Error::Storage(format!(
            "The folder {} could not be made for the file: {e}.",
            dir.display()
        ))
    })?;
    Ok(dir)
}
