//! The core's background work in the app: the webhook dispatcher and the local API, started
//! with the window and stopped cleanly on exit; core notifications forwarded to the window as
//! Tauri events, so the UI refetches and never polls.

use tauri::{AppHandle, Emitter};
use tokio::sync::broadcast::error::RecvError;

use pitchbar_core::api::ApiConfig;
use pitchbar_core::{Core, Error};

/// After each batch of delivery-log writes.
pub const DELIVERIES_CHANGED: &str = "deliveries://changed";

/// Starts the dispatcher and the local API (port: `PITCHBAR_API_PORT`, default 4787; 0 picks a
/// free one) and forwards what the core announces. A failure of one does not stop the other:
/// the error is returned for the window to show.
pub fn start(app: &AppHandle, core: &Core) -> Result<(), Error> {
    let (dispatcher, api) = tauri::async_runtime::block_on(async {
        (
            core.start_dispatcher(Default::default()),
            ApiConfig::from_env().and_then(|c| core.start_api(c)),
        )
    });
    if let Err(err) = &dispatcher {
        tracing::error!(error = %err, "the webhook dispatcher did not start");
    }
    match &api {
        Ok(addr) => tracing::info!(%addr, "local API listening"),
        Err(err) => tracing::error!(error = %err, "the local API did not start"),
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
    dispatcher.and(api.map(|_| ()))
}

/// Lets attempts in flight finish and be logged, and requests in flight be answered.
pub fn stop(core: &Core) {
    tauri::async_runtime::block_on(async {
        core.stop_api().await;
        core.stop_dispatcher().await;
    });
}
