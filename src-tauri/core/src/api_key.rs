//! The workspace API key (`sk_live_…`) that the local API accepts: the key itself lives in the
//! keychain; the database keeps only its SHA-256 and when it was made.

use std::sync::{Mutex, MutexGuard};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use rusqlite::{params, OptionalExtension, Transaction};
use serde::Serialize;
use sha2::{Digest, Sha256};
use specta::Type;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::audit::{self, Area};
use crate::clock::now_rfc3339;
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::store::Store;
use crate::vault::{Vault, VaultKey};
use crate::workspace::{workspace_id, Actor};

/// The prefix of every key, as the spec shows it; it also tells a leaked key for what it is.
pub const KEY_PREFIX: &str = "sk_live_";

/// 32 random bytes (256 bits, above the design's floor of 24); URL-safe base64 without padding,
/// so the key can sit in a header, a URL or a shell line without quoting: 51 characters in all.
const KEY_BYTES: usize = 32;

const HASH_SETTING: &str = "api_key_hash";
const CREATED_AT_SETTING: &str = "api_key_created_at";

/// One change of the key at a time in this process, and no reading it mid-change: a change
/// writes the keychain, then the database, and anything interleaved would see them disagree.
static CHANGE: Mutex<()> = Mutex::new(());

/// What the API Access box shows to everyone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type)]
pub struct ApiKeyView {
    /// `sk_live_abc1…`
    pub redacted: String,
    pub created_at: String,
}

/// The API key service over the store and the keychain.
pub struct ApiKeys<'a> {
    pub(crate) store: &'a Store,
    pub(crate) vault: &'a Vault,
}

impl ApiKeys<'_> {
    /// The key in its redacted form. The first view makes the workspace's key.
    pub fn view(&self) -> Result<ApiKeyView> {
        let (key, created_at) = self.current()?;
        Ok(view_of(&key, created_at))
    }

    /// The key itself, for Show and Copy: only for those who may manage integrations.
    pub fn reveal(&self, actor: &Actor) -> Result<Secret> {
        actor.require_manage()?;
        let key = self.current()?.0;
        audit::record_now(
            self.store,
            actor,
            Area::ApiKey,
            "api_key.revealed",
            "API key",
            "Revealed or copied the local API key.",
        )?;
        Ok(key)
    }

    /// Replaces the key. The old one stops working the moment this returns.
    pub fn regenerate(&self, actor: &Actor) -> Result<ApiKeyView> {
        actor.require_manage()?;
        let _change = change_lock();
        let stored = self.stored()?;
        let (key, created_at) = self.replace(&stored.vault_key)?;
        audit::record_now(
            self.store,
            actor,
            Area::ApiKey,
            "api_key.regenerated",
            "API key",
            "Regenerated the local API key; the old key stopped working.",
        )?;
        Ok(view_of(&key, created_at))
    }

    /// Whether `presented` is the workspace's key. Reads only the hash in the database, never
    /// the keychain: the local API stays fast, and keeps working if the keychain locks later.
    pub fn authenticate(&self, presented: &str) -> Result<bool> {
        let stored: Option<String> = self
            .store
            .conn()
            .query_row(
                "SELECT value FROM setting WHERE key = ?1",
                [HASH_SETTING],
                |r| r.get(0),
            )
            .optional()?;
        let Some(stored) = stored else {
            return Ok(false);
        };
        let mut expected = [0u8; 32];
        hex::decode_to_slice(&stored, &mut expected).map_err(|_| damaged_hash())?;
        // Hashing first makes the comparison's length fixed; `ct_eq` makes its time independent
        // of where the bytes differ, so timing tells a caller nothing about the key.
        let presented = Sha256::digest(presented.as_bytes());
        Ok(presented.as_slice().ct_eq(&expected).into())
    }

    /// The key and when it was made, making the first one if there is none yet.
    fn current(&self) -> Result<(Secret, String)> {
        let _change = change_lock();
        let stored = self.stored()?;
        let Some(hash) = stored.hash else {
            return self.replace(&stored.vault_key);
        };
        // Only a missing hash makes a new key: anything else would cut off clients silently.
        let created_at = stored.created_at.unwrap_or_default();
        match self.vault.get(&stored.vault_key)? {
            Some(key) if hash_hex(&key).as_bytes().ct_eq(hash.as_bytes()).into() => {
                Ok((key, created_at))
            }
            // The database still accepts a key no one can show any more: only a new one helps.
            None => Err(Error::NotFound(
                "The API key is missing from the keychain, so it cannot be shown. Regenerate it, then give the new key to everything that uses the old one."
                    .into(),
            )),
            Some(_) => {
                tracing::error!("the API key in the keychain does not match the stored hash");
                Err(Error::Conflict(
                    "The API key in the keychain is not the one this workspace accepts (an interrupted change, or a restored backup). Regenerate it, then give the new key to everything that uses the old one."
                        .into(),
                ))
            }
        }
    }

    /// Makes a new key: keychain first, then the database, so the old key works until the new
    /// one does. If the database refuses, the keychain gets its old value back, so the two
    /// never disagree silently.
    fn replace(&self, vault_key: &VaultKey) -> Result<(Secret, String)> {
        let previous = self.vault.get(vault_key)?;
        let key = generate_key();
        let created_at = now_rfc3339();
        self.vault.set(vault_key, &key)?;
        let saved = self.store.write(|tx| {
            set_setting(tx, HASH_SETTING, &hash_hex(&key))?;
            set_setting(tx, CREATED_AT_SETTING, &created_at)
        });
        if let Err(err) = saved {
            let restored = match &previous {
                Some(old) => self.vault.set(vault_key, old),
                None => self.vault.delete(vault_key),
            };
            if let Err(restore_err) = restored {
                tracing::error!(error = %restore_err, "the keychain could not be restored after a failed API key change");
                return Err(Error::Internal(
                    "The new API key could not be saved, and the keychain could not be put back as it was. The old key still works; regenerate the key once the keychain is available again."
                        .into(),
                ));
            }
            return Err(err);
        }
        tracing::info!("a new workspace API key was made");
        Ok((key, created_at))
    }

    fn stored(&self) -> Result<Stored> {
        let conn = self.store.conn();
        let tx = conn.unchecked_transaction()?;
        Ok(Stored {
            vault_key: VaultKey::api_key(&workspace_id(&tx)?)?,
            hash: setting(&tx, HASH_SETTING)?,
            created_at: setting(&tx, CREATED_AT_SETTING)?,
        })
    }
}

/// What the database says about the key, read in one transaction.
struct Stored {
    vault_key: VaultKey,
    hash: Option<String>,
    created_at: Option<String>,
}

fn change_lock() -> MutexGuard<'static, ()> {
    // The guarded state is outside the process (keychain, database): a panic elsewhere while
    // holding the lock leaves nothing here half-done, so a poisoned lock is still safe to take.
    crate::sync::lock(&CHANGE)
}

fn view_of(key: &Secret, created_at: String) -> ApiKeyView {
    ApiKeyView {
        redacted: key.redacted(),
        created_at,
    }
}

fn generate_key() -> Secret {
    let mut bytes = Zeroizing::new([0u8; KEY_BYTES]);
    // The thread RNG is a CSPRNG seeded from the OS, fit for keys.
    rand::rng().fill_bytes(bytes.as_mut());
    let mut key = String::with_capacity(KEY_PREFIX.len() + (KEY_BYTES * 4).div_ceil(3));
    key.push_str(KEY_PREFIX);
    URL_SAFE_NO_PAD.encode_string(bytes.as_ref(), &mut key);
    Secret::new(key)
}

/// A plain SHA-256 is enough (no slow password hash): the key is 256 random bits, so there is
/// nothing to guess from the hash, and the local API checks it on every request.
fn hash_hex(key: &Secret) -> String {
    hex::encode(Sha256::digest(key.expose().as_bytes()))
}

fn damaged_hash() -> Error {
    tracing::error!("the stored API key hash is not 32 bytes of hex");
    Error::Storage(
        "The saved API key fingerprint is damaged, so no key is accepted. Regenerate the API key to replace it."
            .into(),
    )
}

fn setting(tx: &Transaction<'_>, key: &str) -> Result<Option<String>> {
    Ok(tx
        .query_row("SELECT value FROM setting WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()?)
}

fn set_setting(tx: &Transaction<'_>, key: &str, value: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO setting (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use keyring_core::api::{CredentialApi, CredentialStoreApi};
    use keyring_core::{mock, Credential, CredentialStore, Entry, Error as KeyringError};

    use super::*;
    use crate::workspace::{MemberInput, Role, Workspaces};

    /// A keychain (the mock store underneath) whose n-th call from now fails, to break a
    /// change at each of its steps: 1 reads the old key, 2 saves the new one, 3 puts the old
    /// one back after the database refused.
    #[derive(Debug, Default)]
    struct Flaky {
        calls_left: AtomicUsize,
    }

    impl Flaky {
        fn fail_call(&self, n: usize) {
            self.calls_left.store(n, Ordering::SeqCst);
        }

        fn check(&self) -> keyring_core::Result<()> {
            let failing = self
                .calls_left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok_and(|n| n == 1);
            if failing {
                Err(KeyringError::PlatformFailure(
                    "dbus gone".to_string().into(),
                ))
            } else {
                Ok(())
            }
        }
    }

    #[derive(Debug)]
    struct FlakyStore {
        inner: Arc<CredentialStore>,
        flaky: Arc<Flaky>,
    }

    #[derive(Debug)]
    struct FlakyCred {
        inner: Entry,
        flaky: Arc<Flaky>,
    }

    impl CredentialStoreApi for FlakyStore {
        fn vendor(&self) -> String {
            "flaky mock".into()
        }
        fn id(&self) -> String {
            "flaky".into()
        }
        fn build(
            &self,
            service: &str,
            user: &str,
            mods: Option<&HashMap<&str, &str>>,
        ) -> keyring_core::Result<Entry> {
            let cred: Arc<Credential> = Arc::new(FlakyCred {
                inner: self.inner.build(service, user, mods)?,
                flaky: self.flaky.clone(),
            });
            Ok(Entry::new_with_credential(cred))
        }
        fn as_any(&self) -> &dyn std::any::Any {
            self
        }
    }

    impl CredentialApi for FlakyCred {
        fn set_secret(&self, secret: &[u8]) -> keyring_core::Result<()> {
            self.flaky.check()?;
            self.inner.set_secret(secret)
        }
        fn get_secret(&self) -> keyring_core::Result<Vec<u8>> {
            self.flaky.check()?;
            self.inner.get_secret()
        }
        fn delete_credential(&self) -> keyring_core::Result<()> {
            self.flaky.check()?;
            self.inner.delete_credential()
        }
        fn get_credential(&self) -> keyring_core::Result<Option<Arc<Credential>>> {
            Ok(None)
        }
        fn get_specifiers(&self) -> Option<(String, String)> {
            self.inner.get_specifiers()
        }
        fn as_any(&self) -> &dyn std::any::Any {
            self
        }
    }

    struct Fixture {
        _dir: tempfile::TempDir,
        store: Store,
        flaky: Arc<Flaky>,
        vault: Vault,
    }

    impl Fixture {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(dir.path()).unwrap();
            Workspaces { store: &store }
                .set_up(
                    "Acme",
                    MemberInput {
                        name: "Olive Owner".into(),
                        email: "olive@acme.test".into(),
                        role: Role::Owner,
                    },
                )
                .unwrap();
            let flaky = Arc::new(Flaky::default());
            let vault = Vault::with_store(Arc::new(FlakyStore {
                inner: mock::Store::new().unwrap(),
                flaky: flaky.clone(),
            }));
            Self {
                _dir: dir,
                store,
                flaky,
                vault,
            }
        }

        fn keys(&self) -> ApiKeys<'_> {
            ApiKeys {
                store: &self.store,
                vault: &self.vault,
            }
        }

        fn actor(&self) -> Actor {
            Workspaces { store: &self.store }.actor().unwrap()
        }

        fn in_vault(&self) -> Option<String> {
            let key = self.keys().stored().unwrap().vault_key;
            self.vault
                .get(&key)
                .unwrap()
                .map(|s| s.expose().to_string())
        }

        fn settings(&self) -> (Option<String>, Option<String>) {
            let stored = self.keys().stored().unwrap();
            (stored.hash, stored.created_at)
        }

        /// A real refusal from SQLite when the hash is written.
        fn refuse_hash_writes(&self) {
            self.store
                .conn()
                .execute_batch(
                    "CREATE TRIGGER refuse_insert BEFORE INSERT ON setting WHEN NEW.key = 'api_key_hash'
                     BEGIN SELECT RAISE(ABORT, 'refused'); END;
                     CREATE TRIGGER refuse_update BEFORE UPDATE ON setting WHEN NEW.key = 'api_key_hash'
                     BEGIN SELECT RAISE(ABORT, 'refused'); END;",
                )
                .unwrap();
        }
    }

    #[test]
    fn keys_have_the_prefix_and_256_random_bits() {
        let a = generate_key();
        let b = generate_key();
        assert_ne!(a.expose(), b.expose());
        let rest = a.expose().strip_prefix(KEY_PREFIX).unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(rest).unwrap().len(), KEY_BYTES);
        assert_eq!(a.expose().len(), 51);
    }

    #[test]
    fn a_keychain_failure_before_the_database_changes_nothing() {
        for step in [1, 2] {
            let f = Fixture::new();
            let old = f.keys().reveal(&f.actor()).unwrap();
            let before = f.settings();

            f.flaky.fail_call(step);
            let err = f.keys().regenerate(&f.actor()).unwrap_err();
            assert!(matches!(err, Error::Keychain(_)), "step {step}: {err:?}");
            assert_eq!(f.settings(), before, "step {step}");
            assert_eq!(f.in_vault().as_deref(), Some(old.expose()), "step {step}");
            assert!(f.keys().authenticate(old.expose()).unwrap());
            assert_eq!(f.keys().view().unwrap().redacted, old.redacted());
        }
    }

    #[test]
    fn a_database_failure_puts_the_old_key_back_in_the_keychain() {
        let f = Fixture::new();
        let old = f.keys().reveal(&f.actor()).unwrap();
        let before = f.settings();
        f.refuse_hash_writes();

        let err = f.keys().regenerate(&f.actor()).unwrap_err();
        assert!(!matches!(err, Error::Keychain(_)), "{err:?}");
        assert_eq!(f.settings(), before);
        assert_eq!(f.in_vault().as_deref(), Some(old.expose()));
        assert!(f.keys().authenticate(old.expose()).unwrap());
        // The two still agree: the view works.
        assert_eq!(f.keys().view().unwrap().redacted, old.redacted());
    }

    #[test]
    fn when_the_keychain_cannot_be_put_back_the_old_key_works_and_the_mismatch_is_reported() {
        let f = Fixture::new();
        let old = f.keys().reveal(&f.actor()).unwrap();
        f.refuse_hash_writes();

        f.flaky.fail_call(3);
        let err = f.keys().regenerate(&f.actor()).unwrap_err();
        assert!(
            matches!(&err, Error::Internal(m) if m.contains("could not be put back")),
            "{err:?}"
        );
        // Never neither key: the database still accepts the old one …
        assert!(f.keys().authenticate(old.expose()).unwrap());
        // … and the disagreement is loud, not silent.
        assert!(matches!(f.keys().view(), Err(Error::Conflict(_))));
    }

    #[test]
    fn a_failed_first_key_leaves_no_key_behind() {
        let f = Fixture::new();
        f.refuse_hash_writes();
        assert!(f.keys().view().is_err());
        assert_eq!(f.settings(), (None, None));
        assert_eq!(f.in_vault(), None);
    }

    #[test]
    fn a_key_missing_from_the_keychain_is_reported_not_replaced() {
        let f = Fixture::new();
        let old = f.keys().reveal(&f.actor()).unwrap();
        let vault_key = f.keys().stored().unwrap().vault_key;
        f.vault.delete(&vault_key).unwrap();
        assert!(matches!(f.keys().view(), Err(Error::NotFound(_))));
        // Clients holding the key keep working until someone regenerates on purpose.
        assert!(f.keys().authenticate(old.expose()).unwrap());
        let new = f.keys().regenerate(&f.actor()).unwrap();
        assert_eq!(f.keys().view().unwrap(), new);
        assert!(!f.keys().authenticate(old.expose()).unwrap());
    }

    #[test]
    fn a_keychain_key_that_does_not_match_the_hash_is_a_conflict() {
        let f = Fixture::new();
        f.keys().view().unwrap();
        let vault_key = f.keys().stored().unwrap().vault_key;
        f.vault
            .set(
                &vault_key,
                &Secret::new("sk_live_restoredfromsomewhereelse"),
            )
            .unwrap();
        let err = f.keys().view().unwrap_err();
        assert!(matches!(err, Error::Conflict(_)), "{err:?}");
        assert!(matches!(
            f.keys().reveal(&f.actor()),
            Err(Error::Conflict(_))
        ));
    }

    #[test]
    fn a_damaged_hash_accepts_nothing_and_says_so() {
        let f = Fixture::new();
        let key = f.keys().reveal(&f.actor()).unwrap();
        f.store
            .conn()
            .execute(
                "UPDATE setting SET value = 'not hex' WHERE key = 'api_key_hash'",
                [],
            )
            .unwrap();
        assert!(matches!(
            f.keys().authenticate(key.expose()),
            Err(Error::Storage(_))
        ));
    }

    #[test]
    fn without_a_workspace_there_is_no_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let vault = Vault::with_store(mock::Store::new().unwrap());
        let keys = ApiKeys {
            store: &store,
            vault: &vault,
        };
        assert!(matches!(keys.view(), Err(Error::Conflict(_))));
        assert!(!keys.authenticate("sk_live_anything").unwrap());
    }
}
