//! The shell: builds the Tauri app, registers plugins and commands, and hands the core to them.

mod background;
mod commands;
mod deep_link;
mod events;
mod notices;
mod tray;

use std::path::PathBuf;

use pitchbar_core::{Core, Error};
use tauri::Manager;

/// The core, or why it could not start: the window still opens and says so.
pub struct AppState {
    core: Result<Core, (Error, PathBuf)>,
    /// Why background work (the local API, the dispatcher) did not start, for the window.
    background_error: Option<Error>,
}

impl AppState {
    fn start() -> Self {
        let core = pitchbar_core::data_dir()
            .map_err(|err| (err, PathBuf::new()))
            .and_then(|dir| Core::open(&dir).map_err(|err| (err, dir)));
        if let Err((err, dir)) = &core {
            tracing::error!(error = %err, dir = %dir.display(), "the core could not start");
        }
        Self {
            core,
            background_error: None,
        }
    }

    /// The core, or the reason it did not start.
    pub fn core(&self) -> Result<&Core, Error> {
        self.core.as_ref().map_err(|(err, _)| err.clone())
    }
}

/// Without a GPU (a VM, a remote desktop, Xvfb) WebKitGTK composites and paints through Mesa's
/// llvmpipe, a GL emulation on the CPU. Turning its DMA-BUF renderer off turns that accelerated
/// compositing off: the web process draws straight to the window, looks the same, and uses
/// ~120 MB less for this UI (first screen 364 → 242 MB PSS in `tests/e2e/memory.mjs`), with the
/// first paint ~100 ms sooner (`tests/e2e/first-paint.mjs`). With a GPU, WebKit's defaults
/// stay; the variable set in the environment (`=0` keeps the renderer) wins.
#[cfg(target_os = "linux")]
fn without_gpu_draw_without_compositing() {
    const VAR: &str = "WEBKIT_DISABLE_DMABUF_RENDERER";
    let has_gpu = std::fs::read_dir("/dev/dri").is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
    });
    if !has_gpu && std::env::var_os(VAR).is_none() {
        // Before any thread starts; the web process inherits the environment.
        std::env::set_var(VAR, "1");
    }
}

pub fn run() {
    #[cfg(target_os = "linux")]
    without_gpu_draw_without_compositing();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();

    let specta = commands::builder();
    tauri::Builder::default()
        // First, so a second launch (with a pitchbar:// link) is forwarded to this one.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            deep_link::focus_main_window(app);
        }))
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_notification::init())
        // Start at login (Settings → Desktop; off until chosen): the OS's own autostart entry.
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            None,
        ))
        // The window comes back where it was: size, place, maximised. Not whether it was shown:
        // quitting from the tray with the window closed must not start the app hidden.
        .plugin(
            tauri_plugin_window_state::Builder::default()
                .with_state_flags(
                    tauri_plugin_window_state::StateFlags::all()
                        - tauri_plugin_window_state::StateFlags::VISIBLE,
                )
                .build(),
        )
        .invoke_handler(specta.invoke_handler())
        .setup(move |app| {
            specta.mount_events(app);
            let mut state = AppState::start();
            if let Ok(core) = &state.core {
                state.background_error = background::start(app.handle(), core).err();
            }
            app.manage(state);
            deep_link::install(app.handle());
            // Without a tray (no AppIndicator library) closing the window quits, as before.
            let tray = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                tray::install(app.handle())
            }));
            match tray {
                Ok(Ok(())) => {}
                Ok(Err(err)) => tracing::warn!(error = %err, "no tray icon: closing the window quits"),
                Err(_) => tracing::warn!("no tray icon (is libayatana-appindicator3 installed?): closing the window quits"),
            }
            tray::follow(app.handle());
            Ok(())
        })
        .on_window_event(|window, event| {
            if let tauri::WindowEvent::CloseRequested { api, .. } = event {
                if window.label() == "main" && tray::hide_instead_of_closing(window) {
                    api.prevent_close();
                }
            }
        })
        .build(tauri::generate_context!())
        .unwrap_or_else(|err| {
            eprintln!("Pitchbar Admin could not start: {err}");
            std::process::exit(1);
        })
        .run(|app, event| {
            if let tauri::RunEvent::Exit = event {
                if let Ok(core) = app.state::<AppState>().core() {
                    background::stop(core);
                }
            }
        });
}
