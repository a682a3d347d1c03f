//! Webhook endpoints when the keychain fails, from a store that refuses everything (as a locked
//! one does) and from keyring's mock store: nothing created or rotated, secrets an older version
//! left in the database still sign, and a database failure after the keychain write removes the
//! entry it made.

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use keyring_core::api::CredentialStoreApi;
use keyring_core::{mock, CredentialStore, Entry, Error as KeyringError};
use pitchbar_core::secret::Secret;
use pitchbar_core::vault::Vault;
use pitchbar_core::webhooks::endpoints::SecretState;
use pitchbar_core::{Core, Error};
use support::endpoints::{input, known, make_legacy, reveal, set_up_with, snapshot, LEGACY};

/// A keychain that refuses everything, as a locked one does.
#[derive(Debug)]
struct Refusing;

impl CredentialStoreApi for Refusing {
    fn vendor(&self) -> String {
        "refusing".into()
    }
    fn id(&self) -> String {
        "refusing".into()
    }
    fn build(
        &self,
        _: &str,
        _: &str,
        _: Option<&HashMap<&str, &str>>,
    ) -> keyring_core::Result<Entry> {
        Err(KeyringError::NoStorageAccess("locked".to_string().into()))
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

fn refusing() -> Vault {
    let store: Arc<CredentialStore> = Arc::new(Refusing);
    Vault::with_store(store)
}

fn assert_keychain_error(err: Error) {
    assert!(
        matches!(&err, Error::Keychain(m) if m.contains("locked")),
        "{err:?}"
    );
}

#[test]
fn without_a_keychain_nothing_is_created_or_rotated_and_legacy_secrets_still_sign() {
    let (dir, core, owner, _) = set_up_with(refusing());
    let before = snapshot(&core);
    assert_keychain_error(
        core.webhook_endpoints()
            .create(&owner, input("https://example.com/h"))
            .unwrap_err(),
    );
    assert_eq!(snapshot(&core), before, "no endpoint row");

    // A database an older version wrote: the endpoint's secret still in it.
    core.store()
        .conn()
        .execute(
            "INSERT INTO webhook_endpoint (id, url, description, events, active, policy, max_attempts,
                 timeout_ms, standard_webhooks, created_at, updated_at)
             VALUES ('01LEGACY', 'https://example.com/h', '', '[\"lead.captured\"]', 1, 'single', 1,
                 5000, 0, '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')",
            [],
        )
        .unwrap();
    drop(core);
    make_legacy(dir.path(), "01LEGACY", LEGACY, None);
    let core = Core::open_with_vault(dir.path(), refusing()).unwrap();
    let eps = core.webhook_endpoints();

    // The list opens and verifying still works, from the database copy, until the keychain does.
    assert_eq!(
        eps.get("01LEGACY").unwrap().secret_redacted,
        Secret::new(LEGACY).redacted()
    );
    assert_eq!(
        known(&core, "01LEGACY"),
        vec![(LEGACY.to_owned(), SecretState::Current)]
    );
    let before = snapshot(&core);
    assert_keychain_error(eps.reveal_secret(&owner, "01LEGACY").unwrap_err());
    assert_keychain_error(
        eps.rotate_secret(&owner, "01LEGACY", Duration::ZERO)
            .unwrap_err(),
    );
    assert_eq!(snapshot(&core), before, "nothing moved, nothing lost");
}

/// Every secret the mock keychain holds.
fn mock_entries(store: &mock::Store) -> Vec<String> {
    let creds = store.inner.lock().unwrap();
    let creds = creds.borrow();
    creds
        .iter()
        .filter_map(|c| c.inner.lock().unwrap().borrow().secret.clone())
        .map(|s| String::from_utf8(s).unwrap())
        .collect()
}

#[test]
fn a_database_failure_after_the_keychain_write_removes_the_entry() {
    let store = mock::Store::new().unwrap();
    let (_dir, core, owner, _) = set_up_with(Vault::with_store(store.clone()));
    let ep = core
        .webhook_endpoints()
        .create(&owner, input("https://example.com/h"))
        .unwrap();
    let secret = reveal(&core, &owner, &ep);
    assert_eq!(mock_entries(&store), vec![secret.expose().to_owned()]);

    core.store()
        .conn()
        .execute_batch(
            "CREATE TRIGGER refuse BEFORE INSERT ON webhook_endpoint_secret
             BEGIN SELECT RAISE(ABORT, 'refused'); END;",
        )
        .unwrap();
    let before = snapshot(&core);
    let err = core
        .webhook_endpoints()
        .create(&owner, input("https://example.com/x"))
        .unwrap_err();
    assert!(!matches!(err, Error::Keychain(_)), "{err:?}");
    let err = core
        .webhook_endpoints()
        .rotate_secret(&owner, &ep.id, Duration::from_secs(60))
        .unwrap_err();
    assert!(!matches!(err, Error::Keychain(_)), "{err:?}");
    assert_eq!(snapshot(&core), before);
    assert_eq!(
        mock_entries(&store),
        vec![secret.expose().to_owned()],
        "only the endpoint's own secret is left in the keychain"
    );
    assert_eq!(reveal(&core, &owner, &ep).expose(), secret.expose());
}
