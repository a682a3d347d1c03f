// No console window on Windows in release.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

/// mimalloc rather than glibc's allocator: a delivery makes about a hundred small allocations
/// across threads, and glibc's malloc and free were 14 % of the dispatcher's CPU.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // `pitchbar-admin listen | trigger | verify | serve …` runs headless and never opens a window
    // (no display needed); anything else, a `pitchbar://` link included, is the app.
    if let Some(code) = pitchbar_core::cli::main_if_command(std::env::args_os().collect()) {
        std::process::exit(code);
    }
    pitchbar_admin_lib::run();
}
