//! The audit trail: its entries, filtered and paged, and its export to the Downloads folder.

use std::path::Path;

use pitchbar_core::audit::{AuditPage, AuditQuery, ExportFormat, EXPORT_PREFIX};
use pitchbar_core::Error;
use tauri::State;
use tauri_plugin_opener::OpenerExt;

use crate::AppState;

#[tauri::command]
#[specta::specta]
pub fn list_audit(state: State<'_, AppState>, query: AuditQuery) -> Result<AuditPage, Error> {
    state.core()?.audit().list(&query)
}

/// Saves the entries `query` picks as a CSV or JSON file in Downloads; returns its path.
#[tauri::command]
#[specta::specta]
pub fn export_audit(
    state: State<'_, AppState>,
    query: AuditQuery,
    format: ExportFormat,
) -> Result<String, Error> {
    let dir = pitchbar_core::paths::downloads_dir()?;
    let path = state.core()?.audit().export_file(&query, format, &dir)?;
    Ok(path.display().to_string())
}

/// Shows an exported file in the file manager; only files this app exported.
#[tauri::command]
#[specta::specta]
pub fn show_audit_export(app: tauri::AppHandle, path: String) -> Result<(), Error> {
    let path = Path::new(&path);
    let ours = path.parent() == Some(pitchbar_core::paths::downloads_dir()?.as_path())
        && path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(EXPORT_PREFIX));
    if !ours || !path.is_file() {
        return Err(Error::NotFound(
            "That export is no longer in Downloads. Export again.".into(),
        ));
    }
    app.opener().reveal_item_in_dir(path).map_err(|err| {
        tracing::warn!(error = %err, "the file manager could not be opened");
        Error::Internal(format!(
            "The file manager could not be opened. The file is {}.",
            path.display()
        ))
    })
}
