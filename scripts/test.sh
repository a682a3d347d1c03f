#!/usr/bin/env bash
# Runs every check and test of Pitchbar Admin, setting up what they need first:
# formatting, lints, the core's tests (real SQLite files, loopback HTTP servers, a throwaway
# gnome-keyring as the OS keychain), the bindings drift test, a brief run of every fuzz target, the UI's
# type check, lint and unit tests, and the whole-app WebDriver test of the real window.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

scripts/setup.sh --test

step "Rust formatting"
cargo fmt --all --check

step "UI build (embedded into the app)"
npm --prefix ui run build --silent

step "Clippy"
cargo clippy --workspace --all-targets --features custom-protocol -- -D warnings

step "Test fixtures' self-tests (fake Slack / Teams / Discord, fake Notion / Google Docs, provider fakes)"
node --test tests/fixtures/slack-fake/
node --test tests/fixtures/provider-fakes/
tests/fixtures/knowledge-fake/selftest.sh

step "Rust tests (core on real SQLite files, loopback HTTP and a real Secret Service; bindings drift)"
scripts/with-keychain.sh cargo test --workspace --features custom-protocol

step "Fuzz targets, briefly (signature header, verification, deep links, Socket Mode frames, providers file, local API bodies, receiver)"
scripts/fuzz.sh --brief

step "UI type check, lint and unit tests"
npm --prefix ui run check
npm --prefix ui run lint
npm --prefix ui test

step "App build for the whole-app test"
cargo build --features custom-protocol --bin pitchbar-admin

step "Whole-app test (tauri-driver + WebKitWebDriver under Xvfb)"
tests/e2e/run.sh
