//! The desktop app around the window: the background work at a glance (as the tray shows it),
//! pausing and resuming deliveries, what closing the window does, starting at login.

use pitchbar_core::settings::DesktopSettings;
use pitchbar_core::status::BackgroundStatus;
use pitchbar_core::Error;
use tauri::{AppHandle, State};
use tauri_plugin_autostart::ManagerExt;

use crate::AppState;

#[tauri::command]
#[specta::specta]
pub fn background_status(state: State<'_, AppState>) -> Result<BackgroundStatus, Error> {
    state.core()?.background_status()
}

/// Deliveries wait, pending, until resumed (across restarts); attempts in flight finish. The
/// core announces it as a deliveries change, which the tray (and the window) follow.
#[tauri::command]
#[specta::specta]
pub async fn pause_deliveries(state: State<'_, AppState>) -> Result<BackgroundStatus, Error> {
    let core = state.core()?;
    core.pause_deliveries(&core.workspaces().actor()?).await?;
    core.background_status()
}

/// Async: the dispatcher starts on the app's async runtime.
#[tauri::command]
#[specta::specta]
pub async fn resume_deliveries(state: State<'_, AppState>) -> Result<BackgroundStatus, Error> {
    let core = state.core()?;
    core.resume_deliveries(&core.workspaces().actor()?)?;
    core.background_status()
}

#[tauri::command]
#[specta::specta]
pub fn desktop_settings(state: State<'_, AppState>) -> Result<DesktopSettings, Error> {
    state.core()?.settings().desktop()
}

#[tauri::command]
#[specta::specta]
pub fn set_desktop_settings(
    state: State<'_, AppState>,
    settings: DesktopSettings,
) -> Result<DesktopSettings, Error> {
    state.core()?.settings().set_desktop(settings)
}

/// Whether the OS starts the app at login (its autostart entry, not a setting of ours).
#[tauri::command]
#[specta::specta]
pub fn start_at_login(app: AppHandle) -> Result<bool, Error> {
    app.autolaunch().is_enabled().map_err(autostart_error)
}

#[tauri::command]
#[specta::specta]
pub fn set_start_at_login(app: AppHandle, on: bool) -> Result<bool, Error> {
    let autolaunch = app.autolaunch();
    if on {
        autolaunch.enable()
    } else {
        autolaunch.disable()
    }
    .map_err(autostart_error)?;
    autolaunch.is_enabled().map_err(autostart_error)
}

fn autostart_error(err: tauri_plugin_autostart::Error) -> Error {
    Error::Internal(format!(
        "Starting at login could not be changed: {err}. Check that your autostart folder (~/.config/autostart on Linux) can be written."
    ))
}
