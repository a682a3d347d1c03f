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

/// Where the local API listens, or why it does not.
#[derive(serde::Serialize, specta::Type)]
pub struct ApiStatus {
    /// `http://127.0.0.1:<port>/v1`
    pub base_url: Option<String>,
    pub error: Option<Error>,
}

#[tauri::command]
#[specta::specta]
pub fn api_status(state: State<'_, AppState>) -> Result<ApiStatus, Error> {
    let core = state.core()?;
    Ok(ApiStatus {
        base_url: core.api_addr().map(|addr| format!("http://{addr}/v1")),
        error: state.background_error.clone(),
    })
}
