//! `pitchbar://` links: registration, and routing each link that reaches the app
//! (cold start or forwarded by the single-instance plugin) to its handler.

use tauri::{AppHandle, Manager, Url};
use tauri_plugin_deep_link::DeepLinkExt;

pub fn install(app: &AppHandle) {
    // Installed bundles register the scheme through their desktop entry; a build run from
    // the tree registers itself so links reach it too.
    #[cfg(any(target_os = "linux", all(debug_assertions, windows)))]
    if let Err(err) = app.deep_link().register_all() {
        tracing::warn!(error = %err, "pitchbar:// links could not be registered with the desktop");
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
    focus_main_window(app);
    // Only the scheme and host are logged: a link may carry an authorization code.
    tracing::warn!(host = ?url.host_str(), "a pitchbar:// link arrived that this version does not handle");
}

/// Brings the window to the front, for a forwarded launch or a link.
pub fn focus_main_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}
