//! Destinations (CRMs, helpdesks, marketing and analytics): Configure, Send a test lead, the
//! sync log and its retries.

use pitchbar_core::destinations::{
    Destination, DestinationFields, DestinationInput, ItemStatus, SyncCall, SyncItem,
    SyncItemDetail, TestLeadResult,
};
use pitchbar_core::Error;
use tauri::{AppHandle, State};
use tauri_plugin_opener::OpenerExt;

use crate::AppState;

/// The destinations of connected integrations, for their cards.
#[tauri::command]
#[specta::specta]
pub fn list_destinations(state: State<'_, AppState>) -> Result<Vec<Destination>, Error> {
    state.core()?.destinations().list()
}

/// The Configure dialog's lists, read live from the provider.
#[tauri::command]
#[specta::specta]
pub async fn destination_fields(
    state: State<'_, AppState>,
    provider: String,
) -> Result<DestinationFields, Error> {
    state.core()?.destinations().fields(&provider).await
}

/// The Configure dialog's Save (checked with the provider first).
#[tauri::command]
#[specta::specta]
pub async fn save_destination(
    state: State<'_, AppState>,
    provider: String,
    input: DestinationInput,
) -> Result<Destination, Error> {
    let core = state.core()?;
    core.destinations()
        .save(&core.workspaces().actor()?, &provider, input)
        .await
}

#[tauri::command]
#[specta::specta]
pub async fn send_test_lead(
    state: State<'_, AppState>,
    provider: String,
) -> Result<TestLeadResult, Error> {
    let core = state.core()?;
    core.destinations()
        .send_test_lead(&core.workspaces().actor()?, &provider)
        .await
}

/// The sync log: the destination's queue items, newest first.
#[tauri::command]
#[specta::specta]
pub fn list_sync_items(
    state: State<'_, AppState>,
    provider: String,
    status: Option<ItemStatus>,
) -> Result<Vec<SyncItem>, Error> {
    state.core()?.destinations().items(&provider, status, 200)
}

#[tauri::command]
#[specta::specta]
pub fn get_sync_item(
    state: State<'_, AppState>,
    provider: String,
    event_id: String,
) -> Result<SyncItemDetail, Error> {
    state.core()?.destinations().item(&provider, &event_id)
}

/// The calls "Send a test lead" made, newest first.
#[tauri::command]
#[specta::specta]
pub fn list_test_calls(
    state: State<'_, AppState>,
    provider: String,
) -> Result<Vec<SyncCall>, Error> {
    state.core()?.destinations().test_calls(&provider, 20)
}

#[tauri::command]
#[specta::specta]
pub fn retry_sync_item(
    state: State<'_, AppState>,
    provider: String,
    event_id: String,
) -> Result<SyncItem, Error> {
    let core = state.core()?;
    core.destinations()
        .retry(&core.workspaces().actor()?, &provider, &event_id)
}

/// Retry all failed. Returns how many were queued again.
#[tauri::command]
#[specta::specta]
pub fn retry_failed_sync_items(state: State<'_, AppState>, provider: String) -> Result<u32, Error> {
    let core = state.core()?;
    core.destinations()
        .retry_failed(&core.workspaces().actor()?, &provider)
}

/// What disconnecting would cancel: the items waiting for the connection's destination.
#[tauri::command]
#[specta::specta]
pub fn pending_sync_items(state: State<'_, AppState>, connection_id: String) -> Result<u32, Error> {
    state
        .core()?
        .destinations()
        .pending_for_connection(&connection_id)
}

/// Opens a record a destination made (a ticket, a contact) in the system browser.
#[tauri::command]
#[specta::specta]
pub fn open_sync_record(
    app: AppHandle,
    state: State<'_, AppState>,
    url: String,
) -> Result<(), Error> {
    let url = state.core()?.destinations().record_link(&url)?;
    app.opener().open_url(&url, None::<&str>).map_err(|err| {
        tracing::warn!(error = %err, "the system browser could not be opened");
        Error::Internal(format!(
            "The browser could not be opened. The record's address is {url}"
        ))
    })
}
