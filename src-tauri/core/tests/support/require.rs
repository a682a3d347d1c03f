//! What the tests run besides Rust: each program (and the OS keychain) must be there, or the
//! test that needs it fails and says what to install. A test that passes without running is a
//! defect, so nothing here skips.

use std::process::Command;

use pitchbar_core::secret::Secret;
use pitchbar_core::vault::{Vault, VaultKey};

/// Panics unless `tool version_flag` runs and succeeds; a missing `tool` names the Debian
/// package that provides it.
pub fn tool(tool: &str, version_flag: &str, debian_package: &str) {
    match Command::new(tool).arg(version_flag).output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!("`{tool} {version_flag}` failed: {out:?}"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "`{tool}` is not on PATH: install Debian's {debian_package} \
             (scripts/setup.sh --test does)"
        ),
        Err(e) => panic!("starting {tool}: {e}"),
    }
}

/// Node.js, for the fake servers of tests/fixtures and the spec's snippets.
pub fn node() {
    tool("node", "--version", "nodejs");
}

/// A Secret Service that stores: a write, not just a read, since a locked keyring answers
/// searches but refuses to store. Panics with what to do when there is none.
pub fn keychain() {
    let vault = Vault::os();
    let probe = VaultKey::new(&ulid::Ulid::new().to_string(), "probe").unwrap();
    if let Err(err) = vault
        .set(&probe, &Secret::new("probe"))
        .and_then(|()| vault.delete(&probe))
    {
        panic!(
            "No usable Secret Service: {err}\nRun the tests through scripts/with-keychain.sh \
             (it needs Debian's dbus and gnome-keyring: scripts/setup.sh --test installs them)."
        );
    }
}
