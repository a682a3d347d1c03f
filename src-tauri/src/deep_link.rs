//! `pitchbar://` links: registration, and routing each link that reaches the app
//! (cold start or forwarded by the single-instance plugin) to its handler.

use pitchbar_core::oauth::is_callback_link;
use tauri::{AppHandle, Manager, Url};
use tauri_plugin_deep_link::DeepLinkExt;
use tauri_specta::Event;

use crate::events::OAuthNoticeEvent;
use crate::AppState;

pub fn install(app: &AppHandle) {
    // Installed bundles register the scheme through their desktop entry; a build run from
    // the tree registers itself so links reach it too. Off the main thread, which is starting
    // the window meanwhile: on Linux this writes a .desktop file and runs xdg-mime, a script.
    #[cfg(any(target_os = "linux", all(debug_assertions, windows)))]
    {
        let app = app.clone();
        std::thread::spawn(move || {
            if let Err(err) = app.deep_link().register_all() {
                tracing::warn!(error = %err, "pitchbar:// links could not be registered with the desktop");
            }
        });
    }
    let handle = app.clone();
    app.deep_link().on_open_url(move |event| {
        for url in event.urls() {
            route(&handle, &url);
        }
    });
    if let Ok(Some(urls)) = app.deep_link().get_current() {
        for url in urls {
            route(app, &url);
        }
    }
}

fn route(app: &AppHandle, url: &Url) {
    if is_callback_link(url.as_str()) {
        // Focused only once the link is known to end a sign-in: a stray or hostile link
        // must not pull the window forward (the core announces it as a notice).
        complete_oauth(app, url.as_str().to_string());
        return;
    }
    focus_main_window(app);
    // Only the scheme and host are logged: a link may carry an authorization code.
    tracing::warn!(host = ?url.host_str(), "a pitchbar:// link arrived that this version does not handle");
}

/// Ends the sign-in the link belongs to. The core announces how a sign-in it matched ended
/// (the dialog waiting for it shows it, and the window comes forward); a link it could not
/// match (replayed, cancelled, malformed, expired) is a notice and changes no dialog.
fn complete_oauth(app: &AppHandle, url: String) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let oauth = match app.state::<AppState>().core() {
            Ok(core) => core.oauth(),
            Err(error) => {
                let _ = OAuthNoticeEvent {
                    message: format!("A sign-in link could not be used: {error}"),
                }
                .emit(&app);
                return;
            }
        };
        // How it ended is announced by the core (and the window focused when it ended a
        // sign-in, see `background`); here it is only logged.
        if let Err(error) = oauth.complete(&url).await {
            tracing::warn!(error = %error, "an OAuth callback link did not complete a sign-in");
        }
    });
}

/// Brings the window to the front, for a forwarded launch or a link.
pub fn focus_main_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}
