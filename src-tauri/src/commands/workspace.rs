//! Workspace, members and the active member.

use pitchbar_core::workspace::{Member, MemberInput, Role, Session, Workspace};
use pitchbar_core::{Error, Startup};
use tauri::{AppHandle, State};

use crate::AppState;

/// What the window shows first: the workspace, the first-run setup, or why the store failed.
#[tauri::command]
#[specta::specta]
pub fn startup(state: State<'_, AppState>) -> Result<Startup, Error> {
    match &state.core {
        Ok(core) => core.startup(),
        Err((error, dir)) => Ok(Startup::Failed {
            error: error.clone(),
            data_dir: dir.display().to_string(),
        }),
    }
}

#[tauri::command]
#[specta::specta]
pub fn set_up_workspace(
    app: AppHandle,
    state: State<'_, AppState>,
    workspace_name: String,
    owner_name: String,
    owner_email: String,
) -> Result<Session, Error> {
    let owner = MemberInput {
        name: owner_name,
        email: owner_email,
        role: Role::Owner,
    };
    let session = state.core()?.workspaces().set_up(&workspace_name, owner)?;
    // Who is at the keyboard decides what the tray offers.
    crate::tray::changed(&app);
    Ok(session)
}

#[tauri::command]
#[specta::specta]
pub fn rename_workspace(state: State<'_, AppState>, name: String) -> Result<Workspace, Error> {
    let workspaces = state.core()?.workspaces();
    workspaces.rename(&workspaces.actor()?, &name)
}

#[tauri::command]
#[specta::specta]
pub fn switch_member(
    app: AppHandle,
    state: State<'_, AppState>,
    member_id: String,
) -> Result<Session, Error> {
    let session = state.core()?.workspaces().switch_to(&member_id)?;
    crate::tray::changed(&app);
    Ok(session)
}

/// An Owner names who uses the app on this computer.
#[tauri::command]
#[specta::specta]
pub fn set_device_user(
    app: AppHandle,
    state: State<'_, AppState>,
    member_id: String,
) -> Result<Session, Error> {
    let workspaces = state.core()?.workspaces();
    let session = workspaces.set_device_user(&workspaces.actor()?, &member_id)?;
    crate::tray::changed(&app);
    Ok(session)
}

#[tauri::command]
#[specta::specta]
pub fn add_member(state: State<'_, AppState>, member: MemberInput) -> Result<Member, Error> {
    let workspaces = state.core()?.workspaces();
    workspaces.add_member(&workspaces.actor()?, member)
}

#[tauri::command]
#[specta::specta]
pub fn update_member(
    app: AppHandle,
    state: State<'_, AppState>,
    member_id: String,
    member: MemberInput,
) -> Result<Member, Error> {
    let workspaces = state.core()?.workspaces();
    let member = workspaces.update_member(&workspaces.actor()?, &member_id, member)?;
    // A role changed may be the role of who is at the keyboard.
    crate::tray::changed(&app);
    Ok(member)
}

#[tauri::command]
#[specta::specta]
pub fn remove_member(state: State<'_, AppState>, member_id: String) -> Result<(), Error> {
    let workspaces = state.core()?.workspaces();
    workspaces.remove_member(&workspaces.actor()?, &member_id)
}
