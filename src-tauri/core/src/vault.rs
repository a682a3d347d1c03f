//! The OS keychain, where API keys and OAuth tokens live: one entry per workspace and name.
//! When no keychain can be used, every call says so; a secret is never kept anywhere else.

use std::fmt;
use std::sync::{Arc, OnceLock};

use keyring_core::{CredentialStore, Entry, Error as KeyringError};
use zeroize::Zeroize;

use crate::error::{Error, Result};
use crate::paths::APP_ID;
use crate::secret::Secret;

/// Every entry's service: the app's identifier, so keychain apps list them under it.
pub const SERVICE: &str = APP_ID;

/// Where one secret lives: the account `<workspace id>/<name>` under [`SERVICE`], e.g.
/// `01HX…/api-key`. The workspace comes first so two workspaces never see each other's entries.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VaultKey {
    account: String,
}

impl VaultKey {
    /// `name` may have `/`-separated parts (`connection/<id>/tokens`), none of them empty.
    pub fn new(workspace_id: &str, name: &str) -> Result<Self> {
        let part_ok = |p: &str| !p.is_empty() && !p.chars().any(char::is_control);
        if !part_ok(workspace_id) || workspace_id.contains('/') || !name.split('/').all(part_ok) {
            // Ids come from the code, never from a person: this is a bug, not bad input.
            tracing::error!(workspace_id, name, "invalid keychain entry name");
            return Err(Error::Internal(
                "A keychain entry could not be named. Nothing was read or saved; try again, and report it if it persists."
                    .into(),
            ));
        }
        Ok(Self {
            account: format!("{workspace_id}/{name}"),
        })
    }

    /// The workspace API key.
    pub fn api_key(workspace_id: &str) -> Result<Self> {
        Self::new(workspace_id, "api-key")
    }

    /// The OAuth tokens of one connection.
    pub fn connection_tokens(workspace_id: &str, connection_id: &str) -> Result<Self> {
        Self::new(workspace_id, &format!("connection/{connection_id}/tokens"))
    }

    /// One signing secret of a webhook endpoint. Each secret gets an id of its own (not the
    /// database row's, which SQLite may reuse after a delete), so a new secret never lands on
    /// an entry that still belongs to another row.
    pub fn endpoint_secret(workspace_id: &str, endpoint_id: &str, secret_id: &str) -> Result<Self> {
        Self::new(
            workspace_id,
            &format!("webhook/{endpoint_id}/secret/{secret_id}"),
        )
    }

    /// The key a stored reference names: the database keeps [`VaultKey::account`] as the
    /// reference, so it points at the entry by itself, checked as [`VaultKey::new`] checks.
    pub fn from_account(account: &str) -> Result<Self> {
        let (workspace_id, name) = account.split_once('/').unwrap_or((account, ""));
        Self::new(workspace_id, name)
    }

    /// A token kept after disconnecting only until the provider confirms its revocation.
    pub fn pending_revocation(
        workspace_id: &str,
        connection_id: &str,
        revocation_id: &str,
    ) -> Result<Self> {
        Self::new(
            workspace_id,
            &format!("connection/{connection_id}/revocation/{revocation_id}"),
        )
    }

    /// The account (keychain "user") the entry is stored under.
    pub fn account(&self) -> &str {
        &self.account
    }
}

/// The keychain. Cheap to build: the OS store is opened on first use, so a machine without
/// one can still open the app and do everything that needs no secret.
pub struct Vault {
    /// `None` once opening the OS store has failed.
    store: OnceLock<Option<Arc<CredentialStore>>>,
}

impl Vault {
    /// The OS keychain: the Secret Service on Linux, Keychain on macOS, the Credential Manager
    /// on Windows (keyring's platform choice).
    pub fn os() -> Self {
        Self {
            store: OnceLock::new(),
        }
    }

    /// Another keyring store: for tests, the mock store (to reach error paths nothing real
    /// produces on demand).
    pub fn with_store(store: Arc<CredentialStore>) -> Self {
        Self {
            store: OnceLock::from(Some(store)),
        }
    }

    /// The secret saved under `key`, or `None` if there is none.
    pub fn get(&self, key: &VaultKey) -> Result<Option<Secret>> {
        match self.entry(key, Op::Read)?.get_password() {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(KeyringError::NoEntry) => Ok(None),
            Err(KeyringError::BadEncoding(mut bytes)) => {
                // Not text, so not ours; still secret, so wiped rather than just dropped.
                bytes.zeroize();
                Err(damaged(key))
            }
            Err(err) => Err(keychain_error(err, Op::Read, key)),
        }
    }

    /// Saves `secret` under `key`, replacing what was there.
    pub fn set(&self, key: &VaultKey, secret: &Secret) -> Result<()> {
        if secret.is_empty() {
            // Some stores refuse empty values and an empty secret is always a bug upstream.
            return Err(Error::Internal(
                "An empty secret cannot be saved in the keychain. Nothing was saved.".into(),
            ));
        }
        self.entry(key, Op::Save)?
            .set_password(secret.expose())
            .map_err(|err| keychain_error(err, Op::Save, key))
    }

    /// Removes the entry under `key`. Removing one that is not there is not an error: the
    /// caller wanted it gone, and it is.
    pub fn delete(&self, key: &VaultKey) -> Result<()> {
        match self.entry(key, Op::Delete)?.delete_credential() {
            Ok(()) | Err(KeyringError::NoEntry) => Ok(()),
            Err(err) => Err(keychain_error(err, Op::Delete, key)),
        }
    }

    fn entry(&self, key: &VaultKey, op: Op) -> Result<Entry> {
        let store = self
            .store
            .get_or_init(open_os_store)
            .as_ref()
            .ok_or_else(|| unavailable(op))?;
        store
            .build(SERVICE, key.account(), None)
            .map_err(|err| keychain_error(err, op, key))
    }
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let store = match self.store.get() {
            None => "not opened yet".to_string(),
            Some(None) => "unavailable".to_string(),
            Some(Some(store)) => store.vendor(),
        };
        f.debug_struct("Vault").field("store", &store).finish()
    }
}

fn open_os_store() -> Option<Arc<CredentialStore>> {
    // keyring tries the platform store once per process and keeps the outcome.
    match keyring::Entry::store_status() {
        Ok(()) => keyring_core::get_default_store(),
        Err(err) => {
            tracing::warn!(error = %describe(err), "no OS keychain can be used");
            None
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Read,
    Save,
    Delete,
}

impl Op {
    fn failed(self) -> &'static str {
        match self {
            Op::Read => "Nothing could be read from the keychain",
            Op::Save => "Nothing was saved",
            Op::Delete => "Nothing was removed from the keychain",
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Op::Read => "read",
            Op::Save => "save",
            Op::Delete => "delete",
        }
    }
}

fn unavailable(op: Op) -> Error {
    Error::Keychain(format!(
        "No keychain is available on this computer, and Pitchbar Admin keeps keys and tokens nowhere else. \
         On Linux, install and start a Secret Service (GNOME Keyring or KWallet), then restart Pitchbar Admin. {}.",
        op.failed()
    ))
}

fn damaged(key: &VaultKey) -> Error {
    tracing::error!(account = key.account(), "keychain entry is not text");
    Error::Keychain(
        "The keychain entry for this is damaged and cannot be read. Replace it: regenerate the key or reconnect the integration."
            .into(),
    )
}

fn keychain_error(err: KeyringError, op: Op, key: &VaultKey) -> Error {
    tracing::warn!(error = %describe(&err), op = op.as_str(), account = key.account(), "keychain call failed");
    let what = match err {
        KeyringError::NoDefaultStore => return unavailable(op),
        KeyringError::NoStorageAccess(_) => {
            "The keychain is locked or refused access. Unlock it (on Linux, your login keyring) and try again"
        }
        KeyringError::PlatformFailure(_) => {
            "The keychain did not respond. Check that it is running and unlocked, then try again"
        }
        KeyringError::BadEncoding(_) | KeyringError::BadDataFormat(..) => return damaged(key),
        KeyringError::Ambiguous(_) => {
            "The keychain holds more than one entry for this. Remove the duplicates listed under com.pitchbar.admin in your keychain app, then try again"
        }
        _ => "The keychain refused the request. Try again, and report it if it persists",
    };
    Error::Keychain(format!("{what}. {}.", op.failed()))
}

/// The error for the log. Never `{:?}`: some variants carry the secret's bytes.
fn describe(err: &KeyringError) -> String {
    match err {
        KeyringError::BadEncoding(_) => "the stored value is not UTF-8".into(),
        KeyringError::BadDataFormat(_, inner) => format!("the stored value is malformed: {inner}"),
        KeyringError::Ambiguous(entries) => format!("{} matching entries", entries.len()),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use keyring_core::mock;

    use super::*;

    fn mock_vault() -> (Arc<CredentialStore>, Vault) {
        let store: Arc<CredentialStore> = mock::Store::new().unwrap();
        (store.clone(), Vault::with_store(store))
    }

    /// The mock credential behind `key`, to make its next call fail.
    fn fail_next(store: &Arc<CredentialStore>, key: &VaultKey, err: KeyringError) {
        let entry = store.build(SERVICE, key.account(), None).unwrap();
        let cred: &mock::Cred = entry.as_any().downcast_ref().unwrap();
        cred.set_error(err);
    }

    fn platform(msg: &str) -> KeyringError {
        KeyringError::PlatformFailure(msg.to_string().into())
    }

    #[test]
    fn keys_are_namespaced_by_workspace() {
        assert_eq!(VaultKey::api_key("01HX").unwrap().account(), "01HX/api-key");
        assert_eq!(
            VaultKey::connection_tokens("01HX", "01HY")
                .unwrap()
                .account(),
            "01HX/connection/01HY/tokens"
        );
        let secret = VaultKey::endpoint_secret("01HX", "01HE", "01HS").unwrap();
        assert_eq!(secret.account(), "01HX/webhook/01HE/secret/01HS");
        assert_eq!(VaultKey::from_account(secret.account()).unwrap(), secret);
    }

    #[test]
    fn malformed_keys_are_refused() {
        for (ws, name) in [
            ("", "api-key"),
            ("a/b", "api-key"),
            ("01HX", ""),
            ("01HX", "connection//tokens"),
            ("01HX", "/api-key"),
            ("01HX", "api-key\n"),
        ] {
            assert!(
                matches!(VaultKey::new(ws, name), Err(Error::Internal(_))),
                "{ws:?} {name:?}"
            );
        }
        for account in ["", "01HX", "01HX/", "/api-key", "01HX/a//b"] {
            assert!(VaultKey::from_account(account).is_err(), "{account:?}");
        }
    }

    #[test]
    fn a_vault_without_a_keychain_refuses_plainly() {
        let vault = Vault {
            store: OnceLock::from(None),
        };
        let key = VaultKey::api_key("01HX").unwrap();
        for err in [
            vault.get(&key).unwrap_err(),
            vault.set(&key, &Secret::new("sk_live_x")).unwrap_err(),
            vault.delete(&key).unwrap_err(),
        ] {
            let Error::Keychain(message) = &err else {
                panic!("{err:?}")
            };
            assert!(message.contains("No keychain is available"), "{message}");
            let json = serde_json::to_value(&err).unwrap();
            assert_eq!(json["code"], "keychain");
        }
        assert_eq!(format!("{vault:?}"), r#"Vault { store: "unavailable" }"#);
    }

    #[test]
    fn keychain_failures_become_keychain_errors_without_secrets() {
        let (store, vault) = mock_vault();
        let key = VaultKey::api_key("01HX").unwrap();
        vault.set(&key, &Secret::new("sk_live_topsecret")).unwrap();

        fail_next(
            &store,
            &key,
            KeyringError::NoStorageAccess("locked: sk_live_topsecret".to_string().into()),
        );
        let err = vault.get(&key).unwrap_err();
        assert!(
            matches!(&err, Error::Keychain(m) if m.contains("locked")),
            "{err:?}"
        );
        assert!(!err.to_string().contains("topsecret"));

        fail_next(&store, &key, platform("dbus gone"));
        let err = vault.set(&key, &Secret::new("sk_live_other")).unwrap_err();
        assert!(
            matches!(&err, Error::Keychain(m) if m.contains("Nothing was saved")),
            "{err:?}"
        );
        // A failed save leaves the old value.
        assert_eq!(
            vault.get(&key).unwrap().unwrap().expose(),
            "sk_live_topsecret"
        );

        fail_next(&store, &key, platform("dbus gone"));
        assert!(matches!(vault.delete(&key), Err(Error::Keychain(_))));
        assert!(vault.get(&key).unwrap().is_some());
    }

    #[test]
    fn an_entry_that_is_not_text_is_reported_damaged() {
        let (store, vault) = mock_vault();
        let key = VaultKey::api_key("01HX").unwrap();
        store
            .build(SERVICE, key.account(), None)
            .unwrap()
            .set_secret(&[0xff, 0xfe, 0x80])
            .unwrap();
        let err = vault.get(&key).unwrap_err();
        assert!(
            matches!(&err, Error::Keychain(m) if m.contains("damaged")),
            "{err:?}"
        );
    }

    #[test]
    fn empty_secrets_are_not_saved() {
        let (_, vault) = mock_vault();
        let key = VaultKey::api_key("01HX").unwrap();
        assert!(matches!(
            vault.set(&key, &Secret::new("")),
            Err(Error::Internal(_))
        ));
        assert!(vault.get(&key).unwrap().is_none());
    }
}
