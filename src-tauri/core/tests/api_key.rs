//! The workspace API key on a real SQLite file and a real Secret Service (run through
//! `scripts/with-keychain.sh`). Without one these tests fail.

mod support;

use std::path::Path;

use pitchbar_core::vault::VaultKey;
use pitchbar_core::workspace::{Actor, Role};
use pitchbar_core::{Core, Error};
use sha2::{Digest, Sha256};
use support::child;
use support::files::{contains, data_dir_bytes};
use support::workspace::{add_member, owner_core, switch_to_role};

/// A workspace with an Owner (active) and a Member.
fn set_up() -> (tempfile::TempDir, Core) {
    let (dir, core, owner) = owner_core();
    add_member(&core, &owner);
    (dir, core)
}

fn owner(core: &Core) -> Actor {
    switch_to_role(core, Role::Owner)
}

fn member(core: &Core) -> Actor {
    switch_to_role(core, Role::Member)
}

fn vault_key(core: &Core) -> VaultKey {
    let session = core.workspaces().session().unwrap().unwrap();
    VaultKey::api_key(&session.workspace.id).unwrap()
}

fn in_keychain(core: &Core) -> Option<String> {
    core.vault()
        .get(&vault_key(core))
        .unwrap()
        .map(|s| s.expose().to_string())
}

fn setting(core: &Core, key: &str) -> Option<String> {
    core.store()
        .conn()
        .query_row("SELECT value FROM setting WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .ok()
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

#[test]
fn the_first_view_makes_the_key_and_later_views_keep_it() {
    support::require::keychain();
    let (_dir, core) = set_up();
    assert_eq!(setting(&core, "api_key_hash"), None);
    assert_eq!(in_keychain(&core), None);

    let view = core.api_keys().view().unwrap();
    assert!(view.redacted.starts_with("sk_live_"), "{view:?}");
    assert!(view.redacted.ends_with('…'), "{view:?}");
    assert_eq!(view.redacted.chars().count(), "sk_live_".len() + 4 + 1);
    assert!(
        time::OffsetDateTime::parse(
            &view.created_at,
            &time::format_description::well_known::Rfc3339
        )
        .is_ok(),
        "{view:?}"
    );

    let key = core.api_keys().reveal(&owner(&core)).unwrap();
    let key = key.expose();
    assert!(
        key.starts_with("sk_live_") && key.len() >= "sk_live_".len() + 32,
        "{}",
        key.len()
    );
    assert!(key["sk_live_".len()..]
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    assert!(view.redacted.starts_with(&key[..12]));

    // The key is in the keychain; the database has its SHA-256 and when it was made.
    assert_eq!(in_keychain(&core).as_deref(), Some(key));
    let hash = setting(&core, "api_key_hash").unwrap();
    assert_ne!(hash, key);
    assert_eq!(hash, sha256_hex(key));
    assert_eq!(
        setting(&core, "api_key_created_at"),
        Some(view.created_at.clone())
    );

    assert_eq!(core.api_keys().view().unwrap(), view);
    assert!(core.api_keys().authenticate(key).unwrap());
}

#[test]
fn a_member_sees_only_the_redacted_key_and_changes_nothing() {
    support::require::keychain();
    let (_dir, core) = set_up();
    let view = core.api_keys().view().unwrap();
    let before = (
        setting(&core, "api_key_hash"),
        setting(&core, "api_key_created_at"),
        in_keychain(&core),
    );
    let mo = member(&core);

    let err = core.api_keys().reveal(&mo).unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
    let err = core.api_keys().regenerate(&mo).unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
    assert_eq!(serde_json::to_value(&err).unwrap()["code"], "forbidden");

    assert_eq!(
        (
            setting(&core, "api_key_hash"),
            setting(&core, "api_key_created_at"),
            in_keychain(&core),
        ),
        before
    );
    // Viewing is for everyone.
    assert_eq!(core.api_keys().view().unwrap(), view);
}

#[test]
fn regenerate_retires_the_old_key_at_once() {
    support::require::keychain();
    let (_dir, core) = set_up();
    let olive = owner(&core);
    let old = core.api_keys().reveal(&olive).unwrap();
    assert!(core.api_keys().authenticate(old.expose()).unwrap());

    let view = core.api_keys().regenerate(&olive).unwrap();
    assert!(!core.api_keys().authenticate(old.expose()).unwrap());

    let new = core.api_keys().reveal(&olive).unwrap();
    assert_ne!(new.expose(), old.expose());
    assert!(core.api_keys().authenticate(new.expose()).unwrap());
    assert_eq!(view.redacted, new.redacted());
    assert_eq!(core.api_keys().view().unwrap(), view);
    assert_eq!(in_keychain(&core).as_deref(), Some(new.expose()));
    let hash = setting(&core, "api_key_hash").unwrap();
    assert_ne!(hash, new.expose());
    assert_eq!(hash, sha256_hex(new.expose()));
    assert_eq!(setting(&core, "api_key_created_at"), Some(view.created_at));
}

#[test]
fn no_key_is_ever_written_to_the_data_dir() {
    support::require::keychain();
    let (dir, core) = set_up();
    let olive = owner(&core);
    let first = core.api_keys().reveal(&olive).unwrap();
    core.api_keys().regenerate(&olive).unwrap();
    let second = core.api_keys().reveal(&olive).unwrap();

    let check = |when: &str| {
        let bytes = data_dir_bytes(dir.path());
        assert!(!bytes.is_empty());
        for key in [&first, &second] {
            let random = &key.expose()["sk_live_".len()..];
            assert!(
                !contains(&bytes, key.expose()),
                "{when}: a key is in the data dir"
            );
            assert!(
                !contains(&bytes, random),
                "{when}: a key's random part is in the data dir"
            );
        }
        // The check itself can find what is there.
        assert!(contains(&bytes, &sha256_hex(second.expose())), "{when}");
    };
    check("while open (WAL)");
    drop(core);
    check("after closing (checkpointed)");
}

#[test]
fn authenticate_rejects_anything_but_the_key() {
    support::require::keychain();
    let (_dir, core) = set_up();
    let keys = core.api_keys();
    // Before any key exists, nothing is accepted.
    assert!(!keys.authenticate("").unwrap());
    assert!(!keys.authenticate("sk_live_").unwrap());

    let key = keys.reveal(&owner(&core)).unwrap();
    let key = key.expose();
    let hash = sha256_hex(key);
    let mut flipped = key.to_string().into_bytes();
    let last = flipped.len() - 1;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    for wrong in [
        "",
        "sk_live_",
        "sk_live",
        &key[..key.len() - 1],
        &format!("{key}x"),
        &format!(" {key}"),
        &format!("{key}\n"),
        &format!("Bearer {key}"),
        &key.to_uppercase(),
        &key["sk_live_".len()..],
        &key.replace("sk_live_", "sk_test_"),
        &flipped,
        &hash,
        &"x".repeat(100_000),
    ] {
        assert!(!keys.authenticate(wrong).unwrap(), "accepted {wrong:?}");
    }
    assert!(keys.authenticate(key).unwrap());
}

#[test]
fn each_workspace_has_its_own_key() {
    support::require::keychain();
    let (_a_dir, a) = set_up();
    let (_b_dir, b) = set_up();
    let a_key = a.api_keys().reveal(&owner(&a)).unwrap();
    let b_key = b.api_keys().reveal(&owner(&b)).unwrap();
    assert_ne!(a_key.expose(), b_key.expose());
    assert!(!a.api_keys().authenticate(b_key.expose()).unwrap());
    assert!(!b.api_keys().authenticate(a_key.expose()).unwrap());
    // Regenerating one leaves the other alone.
    b.api_keys().regenerate(&owner(&b)).unwrap();
    assert!(a.api_keys().authenticate(a_key.expose()).unwrap());
    assert_eq!(in_keychain(&a).as_deref(), Some(a_key.expose()));
}

#[test]
fn the_key_survives_a_restart() {
    support::require::keychain();
    let (dir, core) = set_up();
    let view = core.api_keys().view().unwrap();
    let key = core.api_keys().reveal(&owner(&core)).unwrap();
    drop(core);
    let core = Core::open(dir.path()).unwrap();
    assert_eq!(core.api_keys().view().unwrap(), view);
    assert!(core.api_keys().authenticate(key.expose()).unwrap());
}

#[test]
fn secrets_never_show_in_debug_or_json() {
    support::require::keychain();
    let (_dir, core) = set_up();
    let olive = owner(&core);
    let view = core.api_keys().view();
    let revealed = core.api_keys().reveal(&olive);
    let regenerated = core.api_keys().regenerate(&olive);
    let key = core.api_keys().reveal(&olive).unwrap();
    let old = revealed.as_ref().unwrap();

    let printed =
        format!("{view:?} {view:#?} {revealed:?} {regenerated:?} {regenerated:#?} {key:?} {key}");
    for secret in [old.expose(), key.expose()] {
        assert!(!printed.contains(&secret["sk_live_".len()..]), "{printed}");
    }
    assert_eq!(format!("{revealed:?}"), "Ok(<redacted>)");
    let json = serde_json::to_string(&regenerated.unwrap()).unwrap();
    assert!(!json.contains(&key.expose()["sk_live_".len()..]), "{json}");
}

/// The local API authenticates from the database alone: with no keychain at all, the key
/// still works, while showing it says plainly that the keychain is missing. keyring opens the
/// OS store once per process, so the keychain-less half runs in a child process pointed at a
/// bus that is not there.
#[cfg(all(unix, not(any(target_os = "macos", target_os = "ios"))))]
#[test]
fn authenticate_works_without_the_keychain() {
    const CHILD_DIR: &str = "PITCHBAR_API_KEY_TEST_DATA_DIR";
    const CHILD_KEY: &str = "PITCHBAR_API_KEY_TEST_KEY";
    const NAME: &str = "authenticate_works_without_the_keychain";
    if let Some(dir) = std::env::var_os(CHILD_DIR) {
        let key = std::env::var(CHILD_KEY).unwrap();
        let core = Core::open(Path::new(&dir)).unwrap();
        assert!(core.api_keys().authenticate(&key).unwrap());
        assert!(!core.api_keys().authenticate("sk_live_wrong").unwrap());
        let err = core.api_keys().view().unwrap_err();
        assert!(
            matches!(&err, Error::Keychain(m) if m.contains("No keychain is available")),
            "{err:?}"
        );
        let err = core.api_keys().regenerate(&owner(&core)).unwrap_err();
        assert!(matches!(err, Error::Keychain(_)), "{err:?}");
        // Refused, not half-done: the key in the database still works.
        assert!(core.api_keys().authenticate(&key).unwrap());
        return;
    }
    support::require::keychain();
    let (dir, core) = set_up();
    let key = core.api_keys().reveal(&owner(&core)).unwrap();
    drop(core);
    let out = child::without_bus(&mut child::this_test(NAME), dir.path())
        .env(CHILD_DIR, dir.path())
        .env(CHILD_KEY, key.expose())
        .output()
        .unwrap();
    child::assert_passed(&out);
}
