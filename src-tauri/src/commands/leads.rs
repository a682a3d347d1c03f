//! Agents (with their custom lead fields), the lead list, and the Playground's lead form.

use pitchbar_core::agents::{Agent, AgentInput};
use pitchbar_core::leads::{Lead, LeadInput, LeadPage, LeadQuery};
use pitchbar_core::Error;
use tauri::State;

use crate::AppState;

#[tauri::command]
#[specta::specta]
pub fn list_agents(state: State<'_, AppState>) -> Result<Vec<Agent>, Error> {
    state.core()?.agents().list()
}

#[tauri::command]
#[specta::specta]
pub fn create_agent(state: State<'_, AppState>, input: AgentInput) -> Result<Agent, Error> {
    let core = state.core()?;
    core.agents().create(&core.workspaces().actor()?, input)
}

#[tauri::command]
#[specta::specta]
pub fn update_agent(
    state: State<'_, AppState>,
    agent_id: String,
    input: AgentInput,
) -> Result<Agent, Error> {
    let core = state.core()?;
    core.agents()
        .update(&core.workspaces().actor()?, &agent_id, input)
}

#[tauri::command]
#[specta::specta]
pub fn delete_agent(state: State<'_, AppState>, agent_id: String) -> Result<(), Error> {
    let core = state.core()?;
    core.agents().delete(&core.workspaces().actor()?, &agent_id)
}

#[tauri::command]
#[specta::specta]
pub fn list_leads(state: State<'_, AppState>, query: LeadQuery) -> Result<LeadPage, Error> {
    state.core()?.leads().list(&query)
}

/// The Playground: submits a lead as the widget would, through the same core path as
/// `POST /v1/leads` (stored, then `lead.captured` fired). A testing tool, so it takes
/// `integrations.manage` like every other change made from the window.
#[tauri::command]
#[specta::specta]
pub fn submit_playground_lead(state: State<'_, AppState>, input: LeadInput) -> Result<Lead, Error> {
    let core = state.core()?;
    core.workspaces().actor()?.require_manage()?;
    core.leads().capture(input)
}
