//! Notifications to Slack, Microsoft Teams and Discord: their settings, Slack's channels, Retry.

use pitchbar_core::notify::{NotifyTarget, SlackChannel, SlackSettings, WebhookSettings};
use pitchbar_core::Error;
use tauri::State;

use crate::AppState;

/// Every configured notification target, for the Connected tab and the Configure dialogs.
#[tauri::command]
#[specta::specta]
pub fn list_notification_targets(state: State<'_, AppState>) -> Result<Vec<NotifyTarget>, Error> {
    state.core()?.notifications().list()
}

/// The channels the Slack bot can post to (all pages), for the channel picker.
#[tauri::command]
#[specta::specta]
pub async fn list_slack_channels(state: State<'_, AppState>) -> Result<Vec<SlackChannel>, Error> {
    state.core()?.notifications().slack_channels().await
}

/// The Configure Slack dialog's Save.
#[tauri::command]
#[specta::specta]
pub async fn configure_slack(
    state: State<'_, AppState>,
    settings: SlackSettings,
) -> Result<NotifyTarget, Error> {
    let core = state.core()?;
    core.notifications()
        .configure_slack(&core.workspaces().actor()?, settings)
        .await
}

/// Connects Teams or Discord with a pasted webhook URL, or changes their toggles.
#[tauri::command]
#[specta::specta]
pub async fn configure_webhook_target(
    state: State<'_, AppState>,
    settings: WebhookSettings,
) -> Result<NotifyTarget, Error> {
    let core = state.core()?;
    core.notifications()
        .configure_webhook(&core.workspaces().actor()?, settings)
        .await
}

/// Disconnects Teams or Discord: the settings and the URL in the keychain are removed.
#[tauri::command]
#[specta::specta]
pub async fn remove_notification_target(
    state: State<'_, AppState>,
    provider: String,
) -> Result<(), Error> {
    let core = state.core()?;
    core.notifications()
        .remove(&core.workspaces().actor()?, &provider)
        .await
}

/// Sends the failed notifications again and resumes the target.
#[tauri::command]
#[specta::specta]
pub fn retry_notifications(
    state: State<'_, AppState>,
    provider: String,
) -> Result<NotifyTarget, Error> {
    let core = state.core()?;
    core.notifications()
        .retry(&core.workspaces().actor()?, &provider)
}
