//! The header's bell: notices, marking them read, and which kinds reach the OS.

use pitchbar_core::notices::{NoticeKind, NoticeList, NoticeSwitch};
use pitchbar_core::Error;
use tauri::State;

use crate::AppState;

#[tauri::command]
#[specta::specta]
pub fn list_notices(state: State<'_, AppState>) -> Result<NoticeList, Error> {
    state.core()?.notices().list()
}

/// Marks the notices `ids` read, or every one with `null`.
#[tauri::command]
#[specta::specta]
pub fn mark_notices_read(
    state: State<'_, AppState>,
    ids: Option<Vec<i64>>,
) -> Result<NoticeList, Error> {
    state.core()?.notices().mark_read(ids)
}

#[tauri::command]
#[specta::specta]
pub fn notice_switches(state: State<'_, AppState>) -> Result<Vec<NoticeSwitch>, Error> {
    state.core()?.notices().switches()
}

#[tauri::command]
#[specta::specta]
pub fn set_notice_switch(
    state: State<'_, AppState>,
    kind: NoticeKind,
    os: bool,
) -> Result<Vec<NoticeSwitch>, Error> {
    state.core()?.notices().set_switch(kind, os)
}
