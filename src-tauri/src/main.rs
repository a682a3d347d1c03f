// No console window on Windows in release.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // `pitchbar-admin listen | trigger | verify | serve …` runs headless and never opens a window
    // (no display needed); anything else, a `pitchbar://` link included, is the app.
    if let Some(code) = pitchbar_core::cli::main_if_command(std::env::args_os().collect()) {
        std::process::exit(code);
    }
    pitchbar_admin_lib::run();
}
