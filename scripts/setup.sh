#!/usr/bin/env bash
# Installs what building, running and testing Pitchbar Admin needs on Debian/Ubuntu:
# Debian packages (as root; otherwise prints the apt-get line), the UI's npm packages,
# the WebDriver bridge for the whole-app test, and cargo-fuzz for the fuzz targets.
# Safe to run again: it skips what is there.
# Usage: scripts/setup.sh [--test]   (--test adds what only the tests need)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

packages=(build-essential pkg-config curl file libwebkit2gtk-4.1-dev libssl-dev libxdo-dev
  libayatana-appindicator3-dev librsvg2-dev xdg-utils)
# Node.js may come from elsewhere (nodesource bundles npm): ask Debian only when it is absent.
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)
# The tests: a display and a keychain for the whole-app test, and every language the webhook
# snippets are run in (tests/snippets.rs fails, naming the package, when one is missing).
[ $want_test = 1 ] && packages+=(xvfb xauth dbus dbus-x11 webkit2gtk-driver gnome-keyring
  libglib2.0-bin python3 python3-xlib dunst php-cli ruby golang-go)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "==> Installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "Pitchbar Admin needs these Debian packages. Install them, then run this again:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

command -v cargo >/dev/null || { echo "Rust is needed: install it with rustup (https://rustup.rs), then run this again." >&2; exit 1; }

echo "==> UI packages"
# npm install, not npm ci: the registry here lacks some other platforms' optional CLI
# packages, so the lock file cannot list them and `npm ci` would refuse it as out of sync.
(cd ui && npm install --no-save --no-audit --no-fund --loglevel=error)

if [ $want_test = 1 ]; then
  echo "==> WebDriver test packages"
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
  echo "==> OAuth test server packages"
  npm --prefix tests/fixtures/oauth-server ci --no-audit --no-fund --loglevel=error
  echo "==> Fake Notion + Google Docs server (knowledge sources tests)"
  npm --prefix tests/fixtures/knowledge-fake ci --no-audit --no-fund --loglevel=error
  echo "==> Fake Slack / Teams / Discord server packages"
  npm --prefix tests/fixtures/slack-fake ci --no-audit --no-fund --loglevel=error
  tools="${PITCHBAR_TOOLS_DIR:-$HOME/.cache/pitchbar-admin/tools}"
  if [ ! -x "$tools/bin/tauri-driver" ]; then
    echo "==> tauri-driver (WebDriver bridge for Tauri apps)"
    cargo install tauri-driver --locked --version 2.0.6 --root "$tools" --quiet
  fi
  if [ ! -x "$tools/bin/cargo-fuzz" ]; then
    echo "==> cargo-fuzz (runs the fuzz targets of fuzz/)"
    cargo install cargo-fuzz --locked --version 0.13.2 --root "$tools" --quiet
  fi
fi
