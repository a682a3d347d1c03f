#!/usr/bin/env bash
# Drives the real app window: tauri-driver + WebKitWebDriver under Xvfb inside a private
# D-Bus session with a throwaway unlocked keychain (scripts/with-keychain.sh: fresh HOME),
# and a fresh data dir per launch. Expects the app built with the UI embedded
# (cargo build --features custom-protocol). Screenshots go to $CARGO_TARGET_DIR/e2e-screenshots.
set -euo pipefail
cd "$(dirname "$0")"

target="${CARGO_TARGET_DIR:-$(cd ../.. && pwd)/target}"
export PITCHBAR_APP="${PITCHBAR_APP:-$target/debug/pitchbar-admin}"
export PITCHBAR_SCREENSHOTS="${PITCHBAR_SCREENSHOTS:-$target/e2e-screenshots}"
export TAURI_DRIVER="${TAURI_DRIVER:-${PITCHBAR_TOOLS_DIR:-$HOME/.cache/pitchbar-admin/tools}/bin/tauri-driver}"
[ -x "$PITCHBAR_APP" ] || { echo "The app is not built at $PITCHBAR_APP: run cargo build --features custom-protocol" >&2; exit 1; }
[ -x "$TAURI_DRIVER" ] || { echo "tauri-driver is missing at $TAURI_DRIVER: run scripts/setup.sh --test" >&2; exit 1; }

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
export PITCHBAR_E2E_SCRATCH="$scratch"
# (WEBKIT_DISABLE_COMPOSITING_MODE would make WebKitWebDriver screenshots hang: driver.mjs keeps
# compositing on for the tests, see launch().)
export NO_AT_BRIDGE=1 GDK_BACKEND=x11
# The local API on any free port: a fixed one could be taken on a shared machine.
export PITCHBAR_API_PORT=0

../../scripts/with-keychain.sh xvfb-run -a -s "-screen 0 1600x1000x24" ${PITCHBAR_E2E_CMD:-npm test --silent}
