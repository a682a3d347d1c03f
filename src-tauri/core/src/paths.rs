//! Where the app keeps things: its identifier (the keychain's service name, the data folder's
//! name) and its data folder.

use std::path::{Path, PathBuf};

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

/// Writes a new file in `dir` named `<prefix><UTC time>.<ext>` (`-2`, `-3`… added when that
/// name is taken), whole or not at all: `write` fills a temporary file beside it, which is then
/// renamed. The file is readable by its owner only. Returns its path.
pub fn write_new_file(
    dir: &Path,
    prefix: &str,
    ext: &str,
    write: impl FnOnce(&Path) -> Result<()>,
) -> Result<PathBuf> {
    let failed = |e: &dyn std::fmt::Display| {
        Error::Storage(format!(
            "The file could not be saved in {}: {e}. Check that the folder exists, is writable and has room.",
            dir.display()
        ))
    };
    let temp = tempfile::Builder::new()
        .prefix(&format!(".{prefix}"))
        .tempfile_in(dir)
        .map_err(|e| failed(&e))?;
    write(temp.path())?;
    let stamp = crate::clock::rfc3339_utc_seconds(time::OffsetDateTime::now_utc())
        .replace(['-', ':'], "")
        .replace('T', "-")
        .replace('Z', "");
    let mut temp = temp;
    for n in 1..=100 {
        let suffix = if n == 1 {
            String::new()
        } else {
            format!("-{n}")
        };
        let path = dir.join(format!("{prefix}{stamp}{suffix}.{ext}"));
        match temp.persist_noclobber(&path) {
            Ok(_) => {
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
                }
                return Ok(path);
            }
            Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => temp = e.file,
            Err(e) => return Err(failed(&e.error)),
        }
    }
    Err(failed(
        &"a hundred files of that name were made this second",
    ))
}
