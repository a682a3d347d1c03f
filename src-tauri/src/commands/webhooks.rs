//! Webhook endpoints, events, test sends, redelivery, the delivery log, and verification code.

use std::time::Duration;

use pitchbar_core::webhooks::deliveries::Deliveries;
use pitchbar_core::webhooks::endpoints::{DeleteImpact, DisableAfter, EndpointInput, EndpointView};
use pitchbar_core::webhooks::events::{self, EventInfo, EventType};
use pitchbar_core::webhooks::log::{AttemptDetail, EndpointHealth, LogPage, LogQuery};
use pitchbar_core::webhooks::snippets::{self, Language};
use pitchbar_core::Error;
use serde_json::Value;
use tauri::State;

use crate::AppState;

/// Health is computed over this many of an endpoint's latest attempts.
const HEALTH_WINDOW: u32 = 100;

#[tauri::command]
#[specta::specta]
pub fn list_event_types() -> Vec<EventInfo> {
    events::catalog()
}

/// The JSON Schema of an event type's payload, and a sample payload to start a test from.
#[tauri::command]
#[specta::specta]
pub fn event_schema_and_sample(event_type: EventType) -> (Value, Value) {
    (events::schema(event_type), events::sample(event_type))
}

#[tauri::command]
#[specta::specta]
pub fn list_endpoints(state: State<'_, AppState>) -> Result<Vec<EndpointView>, Error> {
    state.core()?.webhook_endpoints().list()
}

#[tauri::command]
#[specta::specta]
pub fn create_endpoint(
    state: State<'_, AppState>,
    input: EndpointInput,
) -> Result<EndpointView, Error> {
    let core = state.core()?;
    core.webhook_endpoints()
        .create(&core.workspaces().actor()?, input)
}

#[tauri::command]
#[specta::specta]
pub fn update_endpoint(
    state: State<'_, AppState>,
    endpoint_id: String,
    input: EndpointInput,
) -> Result<EndpointView, Error> {
    let core = state.core()?;
    core.webhook_endpoints()
        .update(&core.workspaces().actor()?, &endpoint_id, input)
}

/// Turns an endpoint back on (after the app turned it off, or a person paused it); the
/// deliveries held while it was off for failing are sent.
#[tauri::command]
#[specta::specta]
pub fn enable_endpoint(
    state: State<'_, AppState>,
    endpoint_id: String,
) -> Result<EndpointView, Error> {
    let core = state.core()?;
    core.webhook_endpoints()
        .enable(&core.workspaces().actor()?, &endpoint_id)
}

/// How long every attempt to an endpoint may fail before it is turned off.
#[tauri::command]
#[specta::specta]
pub fn endpoint_disable_after(state: State<'_, AppState>) -> Result<DisableAfter, Error> {
    state.core()?.webhook_endpoints().disable_after()
}

#[tauri::command]
#[specta::specta]
pub fn set_endpoint_disable_after(
    state: State<'_, AppState>,
    hours: u32,
) -> Result<DisableAfter, Error> {
    let core = state.core()?;
    core.webhook_endpoints()
        .set_disable_after(&core.workspaces().actor()?, hours)
}

/// What deleting would remove, for the confirmation modal.
#[tauri::command]
#[specta::specta]
pub fn endpoint_delete_impact(
    state: State<'_, AppState>,
    endpoint_id: String,
) -> Result<DeleteImpact, Error> {
    state
        .core()?
        .webhook_endpoints()
        .delete_impact(&endpoint_id)
}

#[tauri::command]
#[specta::specta]
pub fn delete_endpoint(
    state: State<'_, AppState>,
    endpoint_id: String,
) -> Result<DeleteImpact, Error> {
    let core = state.core()?;
    core.webhook_endpoints()
        .delete(&core.workspaces().actor()?, &endpoint_id)
}

#[tauri::command]
#[specta::specta]
pub fn rotate_endpoint_secret(
    state: State<'_, AppState>,
    endpoint_id: String,
    overlap_hours: u32,
) -> Result<EndpointView, Error> {
    let core = state.core()?;
    let overlap = Duration::from_secs(u64::from(overlap_hours) * 3600);
    core.webhook_endpoints()
        .rotate_secret(&core.workspaces().actor()?, &endpoint_id, overlap)
}

/// The signing secret in clear: only when the user presses Reveal or Copy.
#[tauri::command]
#[specta::specta]
pub fn reveal_endpoint_secret(
    state: State<'_, AppState>,
    endpoint_id: String,
) -> Result<String, Error> {
    let core = state.core()?;
    let secret = core
        .webhook_endpoints()
        .reveal_secret(&core.workspaces().actor()?, &endpoint_id)?;
    Ok(secret.expose().to_owned())
}

#[tauri::command]
#[specta::specta]
pub fn endpoint_health(
    state: State<'_, AppState>,
    endpoint_id: String,
) -> Result<EndpointHealth, Error> {
    state
        .core()?
        .delivery_log()
        .health(&endpoint_id, HEALTH_WINDOW)
}

/// Sends one event to one endpoint: the sample payload, or the one edited in the modal.
/// Returns the delivery's ID.
#[tauri::command]
#[specta::specta]
pub fn send_test_event(
    state: State<'_, AppState>,
    endpoint_id: String,
    event_type: EventType,
    payload: Option<Value>,
) -> Result<String, Error> {
    let core = state.core()?;
    deliveries(&state)?.send_test(
        &core.workspaces().actor()?,
        &endpoint_id,
        event_type,
        payload,
    )
}

/// Sends a delivery again: the same payload and delivery ID, a fresh timestamp and signature.
#[tauri::command]
#[specta::specta]
pub fn redeliver(state: State<'_, AppState>, delivery_id: String) -> Result<(), Error> {
    let core = state.core()?;
    deliveries(&state)?.redeliver(&core.workspaces().actor()?, &delivery_id)
}

/// How many deliveries failed since `since` (RFC 3339): the count the replay dialog shows.
#[tauri::command]
#[specta::specta]
pub fn count_failed_since(state: State<'_, AppState>, since: String) -> Result<u64, Error> {
    deliveries(&state)?.count_failed_since(&since)
}

#[tauri::command]
#[specta::specta]
pub fn replay_failed_since(state: State<'_, AppState>, since: String) -> Result<u64, Error> {
    let core = state.core()?;
    deliveries(&state)?.replay_failed_since(&core.workspaces().actor()?, &since)
}

#[tauri::command]
#[specta::specta]
pub fn list_attempts(state: State<'_, AppState>, query: LogQuery) -> Result<LogPage, Error> {
    state.core()?.delivery_log().list(&query)
}

#[tauri::command]
#[specta::specta]
pub fn get_attempt(state: State<'_, AppState>, attempt_id: i64) -> Result<AttemptDetail, Error> {
    state.core()?.delivery_log().get(attempt_id)
}

/// The attempt as a `curl` command line, for "Copy as curl".
#[tauri::command]
#[specta::specta]
pub fn attempt_curl(state: State<'_, AppState>, attempt_id: i64) -> Result<String, Error> {
    state.core()?.delivery_log().curl(attempt_id)
}

fn deliveries<'a>(state: &'a State<'_, AppState>) -> Result<Deliveries<'a>, Error> {
    Ok(state.core()?.webhook_deliveries())
}

/// A snippet that verifies an endpoint's signatures, ready to save as `file_name`.
#[derive(serde::Serialize, specta::Type)]
pub struct Snippet {
    pub file_name: String,
    pub code: String,
}

/// The secret is filled in only when `reveal` (Owners and Admins); else a placeholder.
#[tauri::command]
#[specta::specta]
pub fn endpoint_snippet(
    state: State<'_, AppState>,
    endpoint_id: String,
    language: Language,
    reveal: bool,
) -> Result<Snippet, Error> {
    let core = state.core()?;
    let endpoints = core.webhook_endpoints();
    let secret = if reveal {
        Some(endpoints.reveal_secret(&core.workspaces().actor()?, &endpoint_id)?)
    } else {
        endpoints.get(&endpoint_id)?;
        None
    };
    Ok(Snippet {
        file_name: language.file_name().to_owned(),
        code: snippets::snippet(language, secret.as_ref().map_or("whsec_…", |s| s.expose())),
    })
}
