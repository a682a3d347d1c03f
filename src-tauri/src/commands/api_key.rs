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
    pub port: Option<u16>,
    pub error: Option<Error>,
}

fn api_status_of(state: &AppState) -> Result<ApiStatus, Error> {
    let addr = state.core()?.api_addr();
    Ok(ApiStatus {
        base_url: addr.map(|addr| format!("http://{addr}/v1")),
        port: addr.map(|addr| addr.port()),
        // A start-up failure no longer matters once the API runs (e.g. on another port).
        error: addr
            .is_none()
            .then(|| state.background_error.clone())
            .flatten(),
    })
}

#[tauri::command]
#[specta::specta]
pub fn api_status(state: State<'_, AppState>) -> Result<ApiStatus, Error> {
    api_status_of(&state)
}

/// Moves the local API to another port and remembers it; on failure it stays where it was.
#[tauri::command]
#[specta::specta]
pub async fn set_api_port(state: State<'_, AppState>, port: u16) -> Result<ApiStatus, Error> {
    let core = state.core()?;
    core.change_api_port(&core.workspaces().actor()?, port)
        .await?;
    api_status_of(&state)
}
