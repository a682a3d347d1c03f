// No console window on Windows in release.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

/// mimalloc rather than glibc's allocator: a delivery makes about a hundred small allocations
/// across threads, and glibc's malloc and free were 14 % of the dispatcher's CPU.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // Nothing, or a `pitchbar://` link, opens the window; anything else is the command line
    // (`listen`, `trigger`, … run headless, no display needed; a mistyped word is a usage error).
    if let Some(code) = pitchbar_core::cli::main_if_command(std::env::args_os().collect()) {
        std::process::exit(code);
    }
    #[cfg(target_os = "linux")]
    if !has_display() {
        eprintln!(
            "No display found, so the Pitchbar Admin window has nowhere to open.\n\
             - On a desktop, start it from your graphical session.\n\
             - Over SSH, forward X (ssh -X) or use a virtual display: xvfb-run -a pitchbar-admin\n\
             - Without a window, `pitchbar-admin serve` runs the deliveries, the local API and\n  \
               notifications, and `pitchbar-admin --help` lists the other commands."
        );
        std::process::exit(1);
    }
    pitchbar_admin_lib::run();
}

/// Whether an X or Wayland display is set for the window to open on.
#[cfg(target_os = "linux")]
fn has_display() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|d| !d.is_empty()))
}
