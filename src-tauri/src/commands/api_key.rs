//! The workspace API key: shown redacted, revealed on request, regenerated with confirmation.

use pitchbar_core::api_key::ApiKeyView;
use pitchbar_core::Error;
use tauri::State;

use crate::AppState;

#[tauri::command]
#[specta::specta]
pub fn api_key(state: State<'_, AppState>) -> Result<ApiKeyView, Error> {
    state.core()?.api_keys().view()
}

/// The key in clear: only when the user presses Show or Copy.
#[tauri::command]
#[specta::specta]
pub fn reveal_api_key(state: State<'_, AppState>) -> Result<String, Error> {
    let core = state.core()?;
    let key = core.api_keys().reveal(&core.workspaces().actor()?)?;
    Ok(key.expose().to_owned())
}

/// A new key; the old one stops working at once.
#[tauri::command]
#[specta::specta]
pub fn regenerate_api_key(state: State<'_, AppState>) -> Result<ApiKeyView, Error> {
    let core = state.core()?;
    core.api_keys().regenerate(&core.workspaces().actor()?)
}
