//! Notices in the OS notification centre: the ones the core wrote and no one has shown yet go
//! out after each burst of core notices (and at start, for those written just before a quit),
//! for the kinds switched on in Settings; the bell hears that there are new ones.

use tauri::AppHandle;
use tauri::Manager;
use tauri_plugin_notification::NotificationExt;
use tauri_specta::Event;

use crate::events::NoticesChangedEvent;
use crate::AppState;

pub fn show_new(app: &AppHandle) {
    let state = app.state::<AppState>();
    let Ok(core) = state.core() else { return };
    let notices = match core.notices().take_unshown() {
        Ok(notices) => notices,
        Err(err) => {
            tracing::warn!(error = %err, "notices could not be read");
            return;
        }
    };
    for notice in &notices {
        let shown = app
            .notification()
            .builder()
            .title(&notice.title)
            .body(&notice.body)
            .show();
        if let Err(err) = shown {
            // No notification server (a bare X session): the bell still lists it.
            tracing::warn!(error = %err, "a notice could not reach the OS notification centre");
        }
    }
    if !notices.is_empty() {
        let _ = NoticesChangedEvent.emit(app);
    }
}
