//! Connecting (OAuth sign-ins, API keys) and disconnecting integrations. The sign-in itself happens in the system
//! browser; its outcome reaches the window as an `OAuthFinishedEvent` (`crate::events`).

use pitchbar_core::connections::Connection;
use pitchbar_core::oauth::Authorization;
use pitchbar_core::Error;
use tauri::{AppHandle, State};
use tauri_plugin_opener::OpenerExt;

use crate::AppState;

/// Starts connecting `provider_id` and opens its sign-in link in the system browser. The link
/// is returned too: the window shows it, for when no browser opened.
#[tauri::command]
#[specta::specta]
pub async fn connect_integration(
    app: AppHandle,
    state: State<'_, AppState>,
    provider_id: String,
) -> Result<Authorization, Error> {
    let core = state.core()?;
    let authorization = core
        .oauth()
        .begin(&core.workspaces().actor()?, &provider_id)
        .await?;
    if let Err(err) = app.opener().open_url(&authorization.url, None::<&str>) {
        // Not fatal: the window shows the link to open by hand.
        tracing::warn!(error = %err, provider = %provider_id, "the system browser could not be opened");
    }
    Ok(authorization)
}

/// Connects `provider_id` with the values of its API-key form (field key → value): they are
/// checked with the provider first, then kept in the keychain. A refusal keeps nothing.
#[tauri::command]
#[specta::specta]
pub async fn connect_api_key(
    state: State<'_, AppState>,
    provider_id: String,
    values: std::collections::BTreeMap<String, String>,
) -> Result<Connection, Error> {
    let core = state.core()?;
    core.api_key_connections()
        .connect(&core.workspaces().actor()?, &provider_id, values)
        .await
}

/// Abandons a sign-in (its dialog was closed).
#[tauri::command]
#[specta::specta]
pub fn cancel_connect(state: State<'_, AppState>, authorization_id: String) -> Result<(), Error> {
    state.core()?.oauth().cancel(&authorization_id)
}

/// Disconnects: access is revoked at the provider (retried until it succeeds, meanwhile the
/// connection is `revocation_pending`); Slack's channel configuration is deleted with it.
#[tauri::command]
#[specta::specta]
pub async fn disconnect_integration(
    state: State<'_, AppState>,
    connection_id: String,
) -> Result<Connection, Error> {
    let core = state.core()?;
    core.disconnect(&core.workspaces().actor()?, &connection_id)
        .await
}
