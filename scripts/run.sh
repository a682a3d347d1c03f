#!/usr/bin/env bash
# Sets up, builds and runs Pitchbar Admin in a window.
# PITCHBAR_DATA_DIR chooses another data folder (default: the OS app-data dir for com.pitchbar.admin).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  cat >&2 <<'MSG'
No display found, so the Pitchbar Admin window has nowhere to open.
- On a desktop, run this from a terminal inside your graphical session.
- Over SSH, forward X (ssh -X) or run it under a virtual display:
    xvfb-run -a scripts/run.sh
- To check the app without a window, run the tests instead: scripts/test.sh
MSG
  exit 2
fi

scripts/setup.sh
echo "==> Building the UI"
npm --prefix ui run build --silent
echo "==> Building and starting the app"
exec cargo run --features custom-protocol --bin pitchbar-admin -- "$@"
