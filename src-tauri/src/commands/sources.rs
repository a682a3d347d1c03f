//! Knowledge sources: the Add source picker, adding, reindexing, removing and searching.
//! Ingestion runs in the core's worker; its progress reaches the window as a
//! `SourcesChangedEvent` (`crate::events`).

use pitchbar_core::sources::{PickerItem, PickerPage, SearchHit, Source};
use pitchbar_core::Error;
use tauri::{AppHandle, State};
use tauri_plugin_opener::OpenerExt;

use crate::AppState;

#[tauri::command]
#[specta::specta]
pub fn list_sources(state: State<'_, AppState>) -> Result<Vec<Source>, Error> {
    state.core()?.sources().list()
}

/// A page of `provider`'s pages and databases (Notion) or documents (Google Docs) matching
/// `query`; `cursor` is the previous page's `next_cursor`.
#[tauri::command]
#[specta::specta]
pub async fn browse_sources(
    state: State<'_, AppState>,
    provider: String,
    query: String,
    cursor: Option<String>,
) -> Result<PickerPage, Error> {
    let core = state.core()?;
    core.sources()
        .browse(
            &core.workspaces().actor()?,
            &provider,
            &query,
            cursor.as_deref(),
        )
        .await
}

#[tauri::command]
#[specta::specta]
pub fn add_sources(
    state: State<'_, AppState>,
    provider: String,
    items: Vec<PickerItem>,
) -> Result<Vec<Source>, Error> {
    let core = state.core()?;
    core.sources()
        .add(&core.workspaces().actor()?, &provider, &items)
}

#[tauri::command]
#[specta::specta]
pub fn reindex_source(state: State<'_, AppState>, id: String) -> Result<Source, Error> {
    let core = state.core()?;
    core.sources().reindex(&core.workspaces().actor()?, &id)
}

/// Opens the source's page in Notion or Google Docs in the system browser.
#[tauri::command]
#[specta::specta]
pub fn open_source(app: AppHandle, state: State<'_, AppState>, id: String) -> Result<(), Error> {
    let url = state.core()?.sources().link(&id)?;
    app.opener().open_url(&url, None::<&str>).map_err(|err| {
        tracing::warn!(error = %err, "the system browser could not be opened");
        Error::Internal(format!(
            "The browser could not be opened. The page's address is {url}"
        ))
    })
}

#[tauri::command]
#[specta::specta]
pub fn remove_source(state: State<'_, AppState>, id: String) -> Result<(), Error> {
    let core = state.core()?;
    core.sources().remove(&core.workspaces().actor()?, &id)
}

#[tauri::command]
#[specta::specta]
pub fn search_sources(state: State<'_, AppState>, query: String) -> Result<Vec<SearchHit>, Error> {
    state.core()?.sources().search(&query, 30)
}
