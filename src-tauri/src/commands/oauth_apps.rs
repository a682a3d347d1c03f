//! OAuth apps entered in the window (client ID and secret per provider) and each provider's
//! guide: the redirect URI to register, the scopes, the developer console and its steps.

use pitchbar_core::oauth::{OAuthAppInput, OAuthAppView};
use pitchbar_core::Error;
use tauri::State;

use crate::AppState;

/// Every OAuth provider with its app, or none yet.
#[tauri::command]
#[specta::specta]
pub async fn list_oauth_apps(state: State<'_, AppState>) -> Result<Vec<OAuthAppView>, Error> {
    state.core()?.oauth().list_apps().await
}

/// One provider's app and guide.
#[tauri::command]
#[specta::specta]
pub async fn oauth_app(
    state: State<'_, AppState>,
    provider: String,
) -> Result<OAuthAppView, Error> {
    state.core()?.oauth().app(&provider).await
}

/// Saves a provider's app; the secret goes to the keychain only.
#[tauri::command]
#[specta::specta]
pub async fn save_oauth_app(
    state: State<'_, AppState>,
    input: OAuthAppInput,
) -> Result<OAuthAppView, Error> {
    let core = state.core()?;
    core.oauth()
        .save_app(&core.workspaces().actor()?, input)
        .await
}

/// What removing a provider's app does, to say before it is done.
#[tauri::command]
#[specta::specta]
pub fn oauth_app_removal(state: State<'_, AppState>, provider: String) -> Result<String, Error> {
    state.core()?.oauth().remove_app_impact(&provider)
}

/// Removes a provider's app (its secret from the keychain); its connections must reconnect.
#[tauri::command]
#[specta::specta]
pub async fn remove_oauth_app(state: State<'_, AppState>, provider: String) -> Result<(), Error> {
    let core = state.core()?;
    core.oauth()
        .remove_app(&core.workspaces().actor()?, &provider)
        .await
}

/// Opens the provider's developer console in the system browser (the address comes from the
/// catalog, never from the window).
#[tauri::command]
#[specta::specta]
pub async fn open_oauth_console(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    provider: String,
) -> Result<(), Error> {
    use tauri_plugin_opener::OpenerExt;
    let view = state.core()?.oauth().app(&provider).await?;
    let url = view.console_url.ok_or_else(|| {
        Error::NotFound(format!("{} has no developer console address.", view.name))
    })?;
    app.opener().open_url(&url, None::<&str>).map_err(|err| {
        tracing::warn!(error = %err, "the system browser could not be opened");
        Error::Internal(format!(
            "The browser could not be opened. Open {url} by hand."
        ))
    })
}
