//! The tray icon, where the app lives while its window is closed: what the background work is
//! doing (deliveries failing or paused, the receiver, sign-ins waiting), Open, Pause or Resume
//! deliveries, Quit. Its words follow the core's status after each notice the
//! window also hears (`background` pokes it), and every half minute for what changes with time.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use pitchbar_core::status::BackgroundStatus;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager};
use tokio::sync::Notify;

use crate::AppState;

const TRAY: &str = "main";

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Held in the app's state: rung when the status may have changed (see [`follow`]).
struct Dirty(Arc<Notify>);

/// Held in the app's state with the tray: the menu's items, whose words change in place (a
/// panel keeps the item a person is about to click).
struct Tray {
    items: Mutex<Items>,
}

struct Items {
    /// The headline, then one per detail line.
    info: Vec<MenuItem<tauri::Wry>>,
    pause: MenuItem<tauri::Wry>,
}

/// The menu's words for a status: pure, so they are tested without a desktop.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Lines {
    /// One line a person reads first (also the tooltip).
    pub(crate) headline: String,
    /// What else runs or waits, one line each.
    pub(crate) details: Vec<String>,
    /// "Pause deliveries" or "Resume deliveries".
    pub(crate) pause: &'static str,
}

fn plural(n: u32, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub(crate) fn lines(status: &BackgroundStatus) -> Lines {
    let waiting = plural(status.pending_deliveries, "delivery", "deliveries");
    let headline = if status.deliveries_paused {
        format!("Deliveries paused · {waiting} waiting")
    } else if status.failing_endpoints > 0 {
        format!(
            "{} failing",
            plural(status.failing_endpoints, "endpoint", "endpoints")
        )
    } else if status.pending_deliveries > 0 {
        format!("Delivering · {waiting} pending")
    } else {
        "Deliveries: all sent".to_string()
    };
    let mut details = Vec::new();
    if status.disabled_endpoints > 0 {
        details.push(format!(
            "{} turned off for failing",
            plural(status.disabled_endpoints, "endpoint", "endpoints")
        ));
    }
    details.push(match &status.receiver_addr {
        Some(addr) => format!("Receiver on at {addr}"),
        None => "Receiver off".to_string(),
    });
    details.push(match &status.api_addr {
        Some(addr) => format!("Local API on {addr}"),
        None => "Local API not running".to_string(),
    });
    if status.sign_ins_pending > 0 {
        details.push(format!(
            "{} waiting for the browser",
            plural(status.sign_ins_pending, "sign-in", "sign-ins")
        ));
    }
    if status.revocations_pending > 0 {
        details.push(format!(
            "{} waiting for the provider",
            plural(
                status.revocations_pending,
                "disconnection",
                "disconnections"
            )
        ));
    }
    Lines {
        headline,
        details,
        pause: if status.deliveries_paused {
            "Resume deliveries"
        } else {
            "Pause deliveries"
        },
    }
}

/// Puts the icon in the tray, and keeps its menu current.
pub fn install(app: &AppHandle) -> tauri::Result<()> {
    let (lines, can_manage) = current(app);
    let (menu, items) = menu(app, &lines, can_manage)?;
    let mut tray = TrayIconBuilder::with_id(TRAY)
        .tooltip("Pitchbar Admin")
        .menu(&menu)
        .show_menu_on_left_click(true)
        .on_menu_event(|app, event| match event.id.as_ref() {
            "open" => crate::deep_link::focus_main_window(app),
            "pause" => toggle_pause(app),
            "quit" => app.exit(0),
            _ => {}
        });
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    app.manage(Tray {
        items: Mutex::new(items),
    });
    Ok(())
}

/// After each burst of core notices (and every half minute): the tray's words, and new notices
/// to the OS notification centre — with a tray or without one.
pub fn follow(app: &AppHandle) {
    let dirty = Arc::new(Notify::new());
    app.manage(Dirty(dirty.clone()));
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        // Notices written just before the last quit go out now.
        crate::notices::show_new(&app);
        loop {
            let _ = tokio::time::timeout(Duration::from_secs(30), dirty.notified()).await;
            // Notices come in bursts (a batch of deliveries): one update for each burst.
            tokio::time::sleep(Duration::from_millis(250)).await;
            if let Err(err) = refresh(&app) {
                tracing::warn!(error = %err, "the tray menu could not be updated");
            }
            crate::notices::show_new(&app);
        }
    });
}

/// The window's close button: with the tray there and the setting on (the default), the window
/// hides and the background work goes on; the first time, an OS notification says where the
/// app went. Returns whether the close was turned into a hide.
pub fn hide_instead_of_closing(window: &tauri::Window) -> bool {
    let app = window.app_handle();
    if app.tray_by_id(TRAY).is_none() {
        return false;
    }
    let state = app.state::<AppState>();
    let Ok(core) = state.core() else {
        return false;
    };
    if !core
        .settings()
        .desktop()
        .is_ok_and(|d| d.close_to_background)
    {
        return false;
    }
    let _ = window.hide();
    if core.settings().first_close().unwrap_or(false) {
        use tauri_plugin_notification::NotificationExt;
        let shown = app
            .notification()
            .builder()
            .title("Pitchbar Admin is still running")
            .body(
                "Deliveries, the receiver and the local API keep working. Open the window \
                 again from the tray icon or by starting Pitchbar Admin; Quit is in the \
                 tray menu. Settings → Desktop changes this.",
            )
            .show();
        if let Err(err) = shown {
            tracing::warn!(error = %err, "the notice about the closed window could not be shown");
        }
    }
    changed(app);
    true
}

/// The status may have changed: the menu is updated shortly.
pub fn changed(app: &AppHandle) {
    if let Some(dirty) = app.try_state::<Dirty>() {
        dirty.0.notify_one();
    }
}

/// The words change in place; the menu is made again only when it has more or fewer lines.
fn refresh(app: &AppHandle) -> tauri::Result<()> {
    let (Some(tray), Some(state)) = (app.tray_by_id(TRAY), app.try_state::<Tray>()) else {
        return Ok(());
    };
    let (lines, can_manage) = current(app);
    let mut items = lock(&state.items);
    let texts: Vec<&str> = std::iter::once(lines.headline.as_str())
        .chain(lines.details.iter().map(String::as_str))
        .collect();
    if texts.len() == items.info.len() {
        for (item, text) in items.info.iter().zip(&texts) {
            if item.text()? != *text {
                item.set_text(*text)?;
            }
        }
        if items.pause.text()? != lines.pause {
            items.pause.set_text(lines.pause)?;
        }
        if items.pause.is_enabled()? != can_manage {
            items.pause.set_enabled(can_manage)?;
        }
    } else {
        let (menu, fresh) = menu(app, &lines, can_manage)?;
        tray.set_menu(Some(menu))?;
        *items = fresh;
    }
    Ok(())
}

/// The status in words, and whether the window's member may pause.
fn current(app: &AppHandle) -> (Lines, bool) {
    let state = app.state::<AppState>();
    let status = state.core().and_then(|core| {
        let can_manage = core
            .workspaces()
            .actor()
            .is_ok_and(|a| a.require_manage().is_ok());
        Ok((lines(&core.background_status()?), can_manage))
    });
    status.unwrap_or_else(|err| {
        (
            Lines {
                headline: format!("Not working: {err}"),
                details: Vec::new(),
                pause: "Pause deliveries",
            },
            false,
        )
    })
}

fn menu(
    app: &AppHandle,
    lines: &Lines,
    can_manage: bool,
) -> tauri::Result<(Menu<tauri::Wry>, Items)> {
    let menu = Menu::new(app)?;
    let mut info = Vec::new();
    for text in std::iter::once(&lines.headline).chain(&lines.details) {
        let item = MenuItem::new(app, text, false, None::<&str>)?;
        menu.append(&item)?;
        info.push(item);
    }
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&MenuItem::with_id(
        app,
        "open",
        "Open Pitchbar Admin",
        true,
        None::<&str>,
    )?)?;
    let pause = MenuItem::with_id(app, "pause", lines.pause, can_manage, None::<&str>)?;
    menu.append(&pause)?;
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?)?;
    Ok((menu, Items { info, pause }))
}

/// Pauses deliveries, or resumes them, as the window's member (the tray offers it only to an
/// Owner or Admin).
fn toggle_pause(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let state = app.state::<AppState>();
        let done = async {
            let core = state.core()?;
            let actor = core.workspaces().actor()?;
            if core.settings().deliveries_paused()? {
                core.resume_deliveries(&actor)
            } else {
                core.pause_deliveries(&actor).await
            }
        };
        if let Err(err) = done.await {
            tracing::warn!(error = %err, "deliveries could not be paused or resumed from the tray");
        }
        changed(&app);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_headline_says_what_needs_attention_first() {
        let calm = BackgroundStatus {
            api_addr: Some("127.0.0.1:4787".into()),
            ..Default::default()
        };
        assert_eq!(
            lines(&calm),
            Lines {
                headline: "Deliveries: all sent".into(),
                details: vec!["Receiver off".into(), "Local API on 127.0.0.1:4787".into()],
                pause: "Pause deliveries",
            }
        );
        let busy = BackgroundStatus {
            pending_deliveries: 3,
            failing_endpoints: 2,
            disabled_endpoints: 1,
            receiver_addr: Some("127.0.0.1:4788".into()),
            sign_ins_pending: 1,
            revocations_pending: 2,
            ..Default::default()
        };
        let l = lines(&busy);
        assert_eq!(l.headline, "2 endpoints failing");
        assert_eq!(
            l.details,
            [
                "1 endpoint turned off for failing",
                "Receiver on at 127.0.0.1:4788",
                "Local API not running",
                "1 sign-in waiting for the browser",
                "2 disconnections waiting for the provider",
            ]
        );
        let paused = BackgroundStatus {
            deliveries_paused: true,
            ..busy.clone()
        };
        assert_eq!(
            lines(&paused).headline,
            "Deliveries paused · 3 deliveries waiting"
        );
        assert_eq!(lines(&paused).pause, "Resume deliveries");
        let pending = BackgroundStatus {
            pending_deliveries: 1,
            ..Default::default()
        };
        assert_eq!(lines(&pending).headline, "Delivering · 1 delivery pending");
    }
}
