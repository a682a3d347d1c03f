//! Connecting when the keychain refuses: said plainly, before any browser opens, and nothing is
//! stored. The one error path nothing real produces on demand, so keyring's mock store.

mod support;

use std::sync::Arc;

use keyring_core::{mock, CredentialStore, Error as KeyringError};
use pitchbar_core::vault::{Vault, VaultKey, SERVICE};
use pitchbar_core::{Core, Error};

use support::workspace::set_up_owner;

#[tokio::test]
async fn a_locked_keychain_refuses_to_connect_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // Notion needs a client to get as far as the keychain check.
    std::fs::write(
        dir.path().join("providers.json"),
        r#"{"providers": {"notion": {"client_id": "pitchbar-test", "client_secret": "s"}}}"#,
    )
    .unwrap();
    let store: Arc<CredentialStore> = mock::Store::new().unwrap();
    let core = Core::open_with_vault(dir.path(), Vault::with_store(store.clone())).unwrap();
    set_up_owner(&core);
    let session = core.workspaces().session().unwrap().unwrap();
    let probe = VaultKey::connection_tokens(&session.workspace.id, "probe").unwrap();
    let entry = store.build(SERVICE, probe.account(), None).unwrap();
    let cred: &mock::Cred = entry.as_any().downcast_ref().unwrap();
    cred.set_error(KeyringError::NoStorageAccess("locked".to_string().into()));

    let owner = core.workspaces().actor().unwrap();
    let err = core.oauth().begin(&owner, "notion").await.unwrap_err();
    let Error::Keychain(message) = &err else {
        panic!("{err:?}")
    };
    assert!(message.contains("locked"), "{message}");
    assert!(
        pitchbar_core::connections::list(core.store())
            .unwrap()
            .is_empty(),
        "no connection row"
    );
}
