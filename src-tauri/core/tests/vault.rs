//! The keychain against a real Secret Service: run through `scripts/with-keychain.sh`, which
//! starts a throwaway gnome-keyring. Without one these tests fail.

mod support;

use std::path::Path;

use pitchbar_core::secret::Secret;
use pitchbar_core::vault::{Vault, VaultKey, SERVICE};
use pitchbar_core::Error;
use support::child;

/// The OS keychain; fails the test when no Secret Service answers: a missing keychain must not
/// pass for a working one.
fn keychain() -> Vault {
    support::require::keychain();
    Vault::os()
}

/// A fresh workspace id per test: tests share one keyring and run in parallel.
fn workspace() -> String {
    ulid::Ulid::new().to_string()
}

fn key(workspace: &str, name: &str) -> VaultKey {
    VaultKey::new(workspace, name).unwrap()
}

fn get(vault: &Vault, key: &VaultKey) -> Option<String> {
    vault
        .get(key)
        .unwrap()
        .map(|secret| secret.expose().to_string())
}

#[test]
fn set_get_overwrite_delete() {
    let vault = keychain();
    let k = VaultKey::api_key(&workspace()).unwrap();

    vault.set(&k, &Secret::new("sk_live_first")).unwrap();
    assert_eq!(get(&vault, &k).as_deref(), Some("sk_live_first"));

    vault.set(&k, &Secret::new("sk_live_second")).unwrap();
    assert_eq!(get(&vault, &k).as_deref(), Some("sk_live_second"));

    vault.delete(&k).unwrap();
    assert_eq!(get(&vault, &k), None);
    // Deleting what is not there is what the caller wanted: done.
    vault.delete(&k).unwrap();
}

#[test]
fn a_missing_entry_is_none() {
    let vault = keychain();
    assert_eq!(get(&vault, &key(&workspace(), "never-set")), None);
}

#[test]
fn workspaces_and_names_do_not_see_each_other() {
    let vault = keychain();
    let (a, b) = (workspace(), workspace());
    let a_key = VaultKey::api_key(&a).unwrap();
    let b_key = VaultKey::api_key(&b).unwrap();
    let a_tokens = VaultKey::connection_tokens(&a, "01HXCONNECTION").unwrap();

    vault.set(&a_key, &Secret::new("sk_live_of_a")).unwrap();
    assert_eq!(get(&vault, &b_key), None);
    assert_eq!(get(&vault, &a_tokens), None);

    vault.set(&b_key, &Secret::new("sk_live_of_b")).unwrap();
    vault.set(&a_tokens, &Secret::new("tokens_of_a")).unwrap();
    assert_eq!(get(&vault, &a_key).as_deref(), Some("sk_live_of_a"));
    assert_eq!(get(&vault, &b_key).as_deref(), Some("sk_live_of_b"));
    assert_eq!(get(&vault, &a_tokens).as_deref(), Some("tokens_of_a"));

    vault.delete(&a_key).unwrap();
    assert_eq!(get(&vault, &a_key), None);
    assert_eq!(get(&vault, &b_key).as_deref(), Some("sk_live_of_b"));
    assert_eq!(get(&vault, &a_tokens).as_deref(), Some("tokens_of_a"));

    vault.delete(&b_key).unwrap();
    vault.delete(&a_tokens).unwrap();
}

#[test]
fn entries_are_filed_under_the_app_and_the_workspace() {
    let vault = keychain();
    let ws = workspace();
    let k = VaultKey::connection_tokens(&ws, "01HXCONN").unwrap();
    assert_eq!(k.account(), format!("{ws}/connection/01HXCONN/tokens"));
    vault.set(&k, &Secret::new("tokens")).unwrap();

    // Read back with keyring itself, by the names a keychain app shows.
    let entry = keyring::Entry::new(SERVICE, &format!("{ws}/connection/01HXCONN/tokens")).unwrap();
    assert_eq!(SERVICE, "com.pitchbar.admin");
    assert_eq!(entry.get_password().unwrap(), "tokens");
    vault.delete(&k).unwrap();
    assert!(matches!(entry.get_password(), Err(keyring::Error::NoEntry)));
}

#[test]
fn entries_outlive_the_vault_value() {
    let vault = keychain();
    let k = VaultKey::api_key(&workspace()).unwrap();
    vault.set(&k, &Secret::new("sk_live_persisted")).unwrap();
    drop(vault);
    // A later start of the app builds a new vault and finds the entry.
    let again = Vault::os();
    assert_eq!(get(&again, &k).as_deref(), Some("sk_live_persisted"));
    again.delete(&k).unwrap();
}

#[test]
fn any_text_round_trips_exactly() {
    let vault = keychain();
    let k = VaultKey::connection_tokens(&workspace(), "01HXCONN").unwrap();
    // Tokens are kept as JSON: quotes, newlines, non-ASCII, and longer than a password.
    let value = format!(
        "{{\"access_token\":\"ya29.{}\",\n\"scope\":\"docs drive\",\"label\":\"Zoë — 東京\"}}",
        "x".repeat(4000)
    );
    vault.set(&k, &Secret::new(value.clone())).unwrap();
    assert_eq!(get(&vault, &k), Some(value));
    vault.delete(&k).unwrap();
}

#[test]
fn secrets_never_show_in_debug_output() {
    let vault = keychain();
    let k = VaultKey::api_key(&workspace()).unwrap();
    vault
        .set(&k, &Secret::new("sk_live_do_not_print_me"))
        .unwrap();
    let got = vault.get(&k);
    let printed = format!("{got:?} {got:#?} {vault:?} {k:?}");
    assert!(!printed.contains("do_not_print_me"), "{printed}");
    assert_eq!(format!("{got:?}"), "Ok(Some(<redacted>))");
    vault.delete(&k).unwrap();
}

/// With no Secret Service on the bus, every call is a plain `keychain` error, never a fallback.
/// keyring opens the OS store once per process, so this runs in a child process of its own
/// pointed at a bus that is not there.
#[cfg(all(unix, not(any(target_os = "macos", target_os = "ios"))))]
#[test]
fn without_a_secret_service_every_call_refuses_plainly() {
    const CHILD: &str = "PITCHBAR_VAULT_TEST_CHILD";
    const NAME: &str = "without_a_secret_service_every_call_refuses_plainly";
    if std::env::var_os(CHILD).is_some() {
        let vault = Vault::os();
        let k = VaultKey::api_key(&workspace()).unwrap();
        let errors = [
            vault.get(&k).unwrap_err(),
            vault.set(&k, &Secret::new("sk_live_nowhere")).unwrap_err(),
            vault.delete(&k).unwrap_err(),
        ];
        for err in errors {
            let Error::Keychain(message) = &err else {
                panic!("expected a keychain error, got {err:?}")
            };
            assert!(message.contains("No keychain is available"), "{message}");
            assert!(!message.contains("sk_live_nowhere"));
            let json = serde_json::to_value(&err).unwrap();
            assert_eq!(json["code"], "keychain", "{json}");
        }
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = child::without_bus(&mut child::this_test(NAME), dir.path())
        .env(CHILD, "1")
        .output()
        .unwrap();
    child::assert_passed(&out);
}

/// A Secret Service with no unlocked keyring (here: a fresh one that would have to ask for a
/// password, with no screen to ask on) refuses plainly and stores nothing. It runs in a child
/// process on a D-Bus session of its own, so the shared test keyring stays unlocked.
#[cfg(all(unix, not(any(target_os = "macos", target_os = "ios"))))]
#[test]
fn a_locked_keychain_refuses_plainly() {
    const CHILD: &str = "PITCHBAR_VAULT_TEST_LOCKED";
    const NAME: &str = "a_locked_keychain_refuses_plainly";
    if let Some(home) = std::env::var_os(CHILD) {
        let vault = Vault::os();
        let k = VaultKey::api_key(&workspace()).unwrap();
        let err = vault
            .set(&k, &Secret::new("sk_live_must_not_be_kept"))
            .unwrap_err();
        let Error::Keychain(message) = &err else {
            panic!("expected a keychain error, got {err:?}")
        };
        assert!(message.contains("locked"), "{message}");
        assert!(message.contains("Nothing was saved"), "{message}");
        // Nothing was kept anywhere in the fresh HOME either.
        let needle = b"must_not_be_kept";
        for file in walk(Path::new(&home)) {
            let bytes = std::fs::read(&file).unwrap_or_default();
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{file:?}"
            );
        }
        return;
    }
    support::require::keychain();
    let home = tempfile::tempdir().unwrap();
    let dir = |name: &str| {
        let path = home.path().join(name);
        std::fs::create_dir_all(&path).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .unwrap();
        path
    };
    let out = std::process::Command::new("dbus-run-session")
        .arg("--")
        .arg(std::env::current_exe().unwrap())
        .args(child::only(NAME))
        .env(CHILD, home.path())
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", dir("data"))
        .env("XDG_CONFIG_HOME", dir("config"))
        .env("XDG_CACHE_HOME", dir("cache"))
        // Its own runtime dir: the keyring D-Bus starts must not find the unlocked one's socket.
        .env("XDG_RUNTIME_DIR", dir("runtime"))
        // No screen: a password prompt must fail at once, not wait for someone to answer it.
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .output()
        .expect("dbus-run-session runs (Debian package dbus)");
    child::assert_passed(&out);
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
