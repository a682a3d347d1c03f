//! The shell: builds the Tauri app, registers plugins and commands, and hands the core to them.

mod background;
mod commands;
mod deep_link;

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

/// WebKitGTK paints tiles with Skia on the GPU by default. Without a GPU (a VM, a remote
/// desktop, Xvfb) that GPU is Mesa's llvmpipe, whose shader compiler and textures cost the web
/// process ~60 MB for this UI (first screen 363 → 302 MB PSS in `tests/e2e/memory.mjs`).
/// Painting forms and tables on the CPU looks the same and is WPE WebKit's default;
/// `WEBKIT_SKIA_ENABLE_CPU_RENDERING=0` in the environment keeps GPU painting.
#[cfg(target_os = "linux")]
fn prefer_cpu_painting() {
    const VAR: &str = "WEBKIT_SKIA_ENABLE_CPU_RENDERING";
    if std::env::var_os(VAR).is_none() {
        // Before any thread starts (WebKit reads it in the web process, which inherits it).
        std::env::set_var(VAR, "1");
    }
}

pub fn run() {
    #[cfg(target_os = "linux")]
    prefer_cpu_painting();
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
        .invoke_handler(specta.invoke_handler())
        .setup(move |app| {
            specta.mount_events(app);
            let mut state = AppState::start();
            if let Ok(core) = &state.core {
                state.background_error = background::start(app.handle(), core).err();
            }
            app.manage(state);
            deep_link::install(app.handle());
            Ok(())
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
