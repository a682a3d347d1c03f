//! The catalog and the workspace's connections.

use pitchbar_core::catalog::{self, Integration};
use pitchbar_core::connections::{self, Connection};
use pitchbar_core::Error;
use tauri::State;

use crate::AppState;

#[tauri::command]
#[specta::specta]
pub fn list_integrations() -> Vec<Integration> {
    catalog::all().to_vec()
}

#[tauri::command]
#[specta::specta]
pub fn list_connections(state: State<'_, AppState>) -> Result<Vec<Connection>, Error> {
    connections::list(state.core()?.store())
}
