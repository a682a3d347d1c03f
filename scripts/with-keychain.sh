#!/usr/bin/env bash
# Runs a command against a real, throwaway OS keychain: a private D-Bus session with an unlocked
# gnome-keyring (the Secret Service) and a fresh HOME, so the command never sees or touches the
# user's own keyring. Everything is removed afterwards; the command's exit status is returned.
# Usage: scripts/with-keychain.sh CMD [ARG…]   e.g. scripts/with-keychain.sh cargo test -p pitchbar-core
# Needs the Debian packages dbus and gnome-keyring (scripts/setup.sh --test installs them).
set -euo pipefail

# How long the keyring daemon may take to answer on the bus before we give up (seconds).
WAIT_SECONDS=${PITCHBAR_KEYCHAIN_WAIT:-20}

fail() {
  echo "with-keychain: $*" >&2
  exit 1
}

inside_session() {
  # In the foreground (as our child) rather than daemonized, so we know its PID, can stop it and
  # reap it. The password protects nothing worth guarding: the keyring is thrown away.
  local out="$XDG_RUNTIME_DIR/gnome-keyring.out"
  printf '%s' "pitchbar-test" |
    gnome-keyring-daemon --foreground --unlock --components=secrets >"$out" 2>"$out.err" &
  daemon_pid=$!
  stop_daemon() {
    kill "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
  }
  trap stop_daemon EXIT

  # NameHasOwner activates nothing: asking the service itself before the daemon has claimed its
  # name would make D-Bus start a second daemon, with a locked keyring.
  local deadline=$((SECONDS + WAIT_SECONDS))
  until dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null |
    grep -q 'boolean true'; do
    if ! kill -0 "$daemon_pid" 2>/dev/null; then
      cat "$out.err" >&2
      fail "gnome-keyring-daemon stopped before it reached the bus."
    fi
    [ $SECONDS -lt $deadline ] || fail "the Secret Service did not appear on the bus within ${WAIT_SECONDS}s."
    sleep 0.1
  done
  # Owning the name is not answering: wait until the unlocked default collection is there.
  until dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets \
    org.freedesktop.Secret.Service.ReadAlias string:default 2>/dev/null |
    grep -q '/org/freedesktop/secrets/collection/'; do
    [ $SECONDS -lt $deadline ] || fail "the Secret Service did not answer within ${WAIT_SECONDS}s."
    sleep 0.1
  done

  # Whatever it prints are shell assignments (GNOME_KEYRING_CONTROL=…) meant for its clients.
  local line
  while IFS= read -r line; do
    if [[ $line =~ ^[A-Z_][A-Z0-9_]*= ]]; then export "$line"; fi
  done <"$out"

  local status=0
  "$@" || status=$?
  return $status
}

if [ "${1:-}" = "--inside-session" ]; then
  shift
  inside_session "$@"
  exit $?
fi

[ $# -gt 0 ] || fail "usage: scripts/with-keychain.sh CMD [ARG…]"
command -v dbus-run-session >/dev/null || fail "dbus-run-session is missing: install the Debian package dbus (scripts/setup.sh --test)."
command -v gnome-keyring-daemon >/dev/null || fail "gnome-keyring-daemon is missing: install the Debian package gnome-keyring (scripts/setup.sh --test)."

# Rust's tools live under the real HOME: keep finding them once HOME changes.
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
if [ -z "${RUSTUP_HOME:-}" ] && [ -d "$HOME/.rustup" ]; then
  export RUSTUP_HOME="$HOME/.rustup"
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/pitchbar-keychain.XXXXXX")
cleanup() {
  # A desktop portal started on the throwaway bus may have left its FUSE mount at
  # $XDG_RUNTIME_DIR/doc: detach it, or rm cannot remove the folder. Cleanup never fails the run.
  fusermount -u -z "$scratch/runtime/doc" 2>/dev/null || umount -l "$scratch/runtime/doc" 2>/dev/null || true
  rm -rf "$scratch" 2>/dev/null || true
}
trap cleanup EXIT
mkdir -p "$scratch/home" "$scratch/data" "$scratch/config" "$scratch/cache" "$scratch/runtime"
chmod 700 "$scratch/runtime"

# The session runs as a process group of its own (job control), so that an interrupt or a stop
# request reaches all of it at once (bus, keyring daemon, command) and nothing outlives us.
set -m
HOME="$scratch/home" \
  XDG_DATA_HOME="$scratch/data" \
  XDG_CONFIG_HOME="$scratch/config" \
  XDG_CACHE_HOME="$scratch/cache" \
  XDG_RUNTIME_DIR="$scratch/runtime" \
  dbus-run-session -- "$BASH" "$0" --inside-session "$@" &
session=$!
trap 'kill -TERM -- "-$session" 2>/dev/null || true' INT TERM HUP
status=0
# `wait` also returns when a trapped signal arrives: keep waiting until the session has ended.
while :; do
  wait "$session" && status=0 || status=$?
  kill -0 "$session" 2>/dev/null || break
done
exit $status
