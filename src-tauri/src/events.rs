//! Core notifications forwarded to the window as Tauri events: the UI refetches, never polls.

use tauri::{AppHandle, Emitter};
use tokio::sync::broadcast::error::RecvError;

use pitchbar_core::Core;

/// After each batch of delivery-log writes.
pub const DELIVERIES_CHANGED: &str = "deliveries://changed";

/// Starts the core's background work and forwards what it announces, until the app exits.
pub fn start(app: &AppHandle, core: &Core) {
    let started =
        tauri::async_runtime::block_on(async { core.start_dispatcher(Default::default()) });
    if let Err(err) = started {
        tracing::error!(error = %err, "the webhook dispatcher did not start");
    }
    let mut deliveries = core.subscribe_deliveries();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            match deliveries.recv().await {
                Ok(changed) => {
                    let _ = app.emit(DELIVERIES_CHANGED, changed);
                }
                // The window refetches anyway: a skipped notice loses nothing.
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => break,
            }
        }
    });
}

/// Lets attempts in flight finish and be logged before the process ends.
pub fn stop(core: &Core) {
    tauri::async_runtime::block_on(core.stop_dispatcher());
}
