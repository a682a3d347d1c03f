//! The local receiver (start, answer, forward, stop; its log), "Send test events here", and the
//! verify tool.

use pitchbar_core::receiver::{
    ReceivedDetail, ReceivedPage, ReceiverQuery, ReceiverStart, ReceiverStatus, ResponseSpec,
    Retention, SentHere, VerifyInput,
};
use pitchbar_core::webhooks::verify::Verdict;
use pitchbar_core::Error;
use tauri::State;

use crate::AppState;

#[tauri::command]
#[specta::specta]
pub fn receiver_status(state: State<'_, AppState>) -> Result<ReceiverStatus, Error> {
    Ok(state.core()?.receiver().status())
}

/// Runs inside the async runtime: the listener is spawned on it.
#[tauri::command]
#[specta::specta]
pub async fn start_receiver(
    state: State<'_, AppState>,
    start: ReceiverStart,
) -> Result<ReceiverStatus, Error> {
    let core = state.core()?;
    core.receiver()
        .start_as(&core.workspaces().actor()?, start)?;
    Ok(core.receiver().status())
}

#[tauri::command]
#[specta::specta]
pub async fn stop_receiver(state: State<'_, AppState>) -> Result<ReceiverStatus, Error> {
    let core = state.core()?;
    core.receiver().stop_as(&core.workspaces().actor()?).await?;
    Ok(core.receiver().status())
}

#[tauri::command]
#[specta::specta]
pub fn set_receiver_response(
    state: State<'_, AppState>,
    spec: ResponseSpec,
) -> Result<ReceiverStatus, Error> {
    let core = state.core()?;
    core.receiver()
        .set_response_as(&core.workspaces().actor()?, spec)?;
    Ok(core.receiver().status())
}

/// `None` stops forwarding.
#[tauri::command]
#[specta::specta]
pub fn set_receiver_forward(
    state: State<'_, AppState>,
    forward_to: Option<String>,
) -> Result<ReceiverStatus, Error> {
    let core = state.core()?;
    core.receiver()
        .set_forward_as(&core.workspaces().actor()?, forward_to)?;
    Ok(core.receiver().status())
}

#[tauri::command]
#[specta::specta]
pub fn list_received(
    state: State<'_, AppState>,
    query: ReceiverQuery,
) -> Result<ReceivedPage, Error> {
    state.core()?.receiver_log().list(&query)
}

#[tauri::command]
#[specta::specta]
pub fn get_received(state: State<'_, AppState>, id: i64) -> Result<ReceivedDetail, Error> {
    state.core()?.receiver_log().get(id)
}

#[tauri::command]
#[specta::specta]
pub fn clear_received(state: State<'_, AppState>) -> Result<u64, Error> {
    let core = state.core()?;
    core.receiver_log().clear(&core.workspaces().actor()?)
}

/// What the receiver's log keeps.
#[tauri::command]
#[specta::specta]
pub fn receiver_retention(state: State<'_, AppState>) -> Result<Retention, Error> {
    state.core()?.receiver().retention()
}

/// Changes what the log keeps; returns how many requests were deleted to fit it.
#[tauri::command]
#[specta::specta]
pub fn set_receiver_retention(
    state: State<'_, AppState>,
    retention: Retention,
) -> Result<u64, Error> {
    let core = state.core()?;
    core.receiver()
        .set_retention(&core.workspaces().actor()?, retention)
}

#[tauri::command]
#[specta::specta]
pub fn send_test_events_here(state: State<'_, AppState>) -> Result<SentHere, Error> {
    let core = state.core()?;
    core.receiver()
        .send_test_events_here(&core.workspaces().actor()?)
}

#[tauri::command]
#[specta::specta]
pub fn verify_signature(state: State<'_, AppState>, input: VerifyInput) -> Result<Verdict, Error> {
    state.core()?.receiver().verify_pasted(&input)
}
