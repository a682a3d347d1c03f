//! Where webhook signing secrets live: the keychain, one entry per secret, with the database
//! keeping only each entry's reference. Owns the in-memory copy everything reads through (so a
//! delivery never waits on the keychain), the write ordering that leaves nothing half-saved, and
//! moving secrets that older versions kept in the database into the keychain.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{params, Row, Transaction};

use crate::error::Result;
use crate::ids::new_id;
use crate::secret::Secret;
use crate::store::Store;
use crate::vault::{Vault, VaultKey};
use crate::workspace::workspace_id;

/// The columns [`SecretRow::from_row`] reads, in its order.
pub(crate) const SECRET_COLUMNS: &str =
    "s.endpoint_id, s.keychain_ref, s.plaintext_secret, s.expires_at";

/// The order secrets are listed in: the current one, then the newest to stop being valid.
pub(crate) const SECRET_ORDER: &str = "s.expires_at IS NOT NULL, s.expires_at DESC, s.id DESC";

/// One row of `webhook_endpoint_secret`.
pub(crate) struct SecretRow {
    pub(crate) endpoint_id: String,
    pub(crate) keychain_ref: Option<String>,
    /// Only in a row an older version wrote, until it is moved to the keychain.
    pub(crate) plaintext: Option<Secret>,
    /// `None` for the current secret; else when it stops (or stopped) being valid.
    pub(crate) expires_at: Option<i64>,
}

impl SecretRow {
    /// Reads the columns of [`SECRET_COLUMNS`], starting at `at`.
    pub(crate) fn from_row(r: &Row<'_>, at: usize) -> rusqlite::Result<Self> {
        Ok(Self {
            endpoint_id: r.get(at)?,
            keychain_ref: r.get(at + 1)?,
            plaintext: r.get::<_, Option<String>>(at + 2)?.map(Secret::new),
            expires_at: r.get(at + 3)?,
        })
    }
}

/// The endpoints' signing secrets: the keychain behind, a copy in memory in front. One per
/// `Core`, shared with the dispatcher.
pub struct SigningSecrets {
    vault: Arc<Vault>,
    /// keychain reference → secret. An entry's value never changes (a new secret gets a new
    /// entry), so what is here is never stale; it goes when its entry is deleted.
    cache: Mutex<HashMap<String, Secret>>,
    /// Set once a look found no secret left in the database: this version never writes one
    /// there, so there is no need to look again.
    legacy_moved: AtomicBool,
}

impl SigningSecrets {
    pub(crate) fn new(vault: Arc<Vault>) -> Self {
        Self {
            vault,
            cache: Mutex::new(HashMap::new()),
            legacy_moved: AtomicBool::new(false),
        }
    }

    /// Saves `secret`, a new secret of `endpoint_id`, in the keychain, then runs `write` with
    /// the entry's reference (for `keychain_ref`) in one database transaction. Keychain first:
    /// if it fails, nothing is written; if the database then fails, the entry is removed again.
    pub(crate) fn save_then<T>(
        &self,
        store: &Store,
        endpoint_id: &str,
        secret: &Secret,
        write: impl FnOnce(&Transaction<'_>, &str) -> Result<T>,
    ) -> Result<T> {
        let workspace_id = workspace_id(&store.conn())?;
        let key = VaultKey::endpoint_secret(&workspace_id, endpoint_id, &new_id())?;
        self.vault.set(&key, secret)?;
        let account = key.account().to_owned();
        match store.write(|tx| write(tx, &account)) {
            Ok(out) => {
                self.lock().insert(account, secret.clone());
                Ok(out)
            }
            Err(err) => {
                self.forget(&[account]);
                Err(err)
            }
        }
    }

    /// Removes the keychain entries of rows that are gone (deleted, or never written). Called
    /// after the database commit; a failure is logged, not returned: no row points at the entry
    /// any more, so it is litter in the keychain, not a secret anything could still use.
    pub(crate) fn forget(&self, keychain_refs: &[String]) {
        for account in keychain_refs {
            self.lock().remove(account);
            if let Err(err) =
                VaultKey::from_account(account).and_then(|key| self.vault.delete(&key))
            {
                tracing::warn!(error = %err, account, "a removed signing secret stays in the keychain");
            }
        }
    }

    /// The row's secret: from memory, else from the keychain (then kept in memory). `Ok(None)`
    /// when the keychain has no entry under the row's reference (removed by hand).
    pub(crate) fn read(&self, row: &SecretRow) -> Result<Option<Secret>> {
        let Some(account) = &row.keychain_ref else {
            // Written by an older version and not moved yet, because the keychain could not be
            // used: until it can, deliveries keep being signed from the database copy rather
            // than stopping.
            return Ok(row.plaintext.clone());
        };
        if let Some(secret) = self.lock().get(account) {
            return Ok(Some(secret.clone()));
        }
        // Not under the lock: a keychain call can take a while, and secrets already in memory
        // should not wait for it.
        let found = self.vault.get(&VaultKey::from_account(account)?)?;
        if let Some(secret) = &found {
            self.lock().insert(account.clone(), secret.clone());
        }
        Ok(found)
    }

    /// Moves every secret an older version kept in the database into the keychain: for each,
    /// keychain first, then `keychain_ref` set and the database copy cleared in one
    /// transaction. Done lazily, on the first read, so the app opens without a keychain.
    pub(crate) fn move_legacy(&self, store: &Store) -> Result<()> {
        if self.legacy_moved.load(Ordering::Acquire) {
            return Ok(());
        }
        let (rows, secure_delete) = {
            let conn = store.conn();
            let rows: Vec<(i64, String, Secret)> = conn
                .prepare(
                    "SELECT id, endpoint_id, plaintext_secret FROM webhook_endpoint_secret
                     WHERE plaintext_secret IS NOT NULL",
                )?
                .query_map([], |r| {
                    Ok((r.get(0)?, r.get(1)?, Secret::new(r.get::<_, String>(2)?)))
                })?
                .collect::<rusqlite::Result<_>>()?;
            if rows.is_empty() {
                self.legacy_moved.store(true, Ordering::Release);
                return Ok(());
            }
            // Zeroes what the updates below free inside a page, where the old value would
            // otherwise stay readable in the file ("fast": no extra I/O).
            let before: i64 = conn.pragma_query_value(None, "secure_delete", |r| r.get(0))?;
            conn.pragma_update(None, "secure_delete", "fast")?;
            (rows, before)
        };
        let moved = rows.iter().try_for_each(|(id, endpoint_id, secret)| {
            let mut account = String::new();
            let changed = self.save_then(store, endpoint_id, secret, |tx, keychain_ref| {
                account = keychain_ref.to_owned();
                Ok(tx.execute(
                    "UPDATE webhook_endpoint_secret SET keychain_ref = ?2, plaintext_secret = NULL
                     WHERE id = ?1 AND plaintext_secret IS NOT NULL",
                    params![id, keychain_ref],
                )?)
            })?;
            if changed == 0 {
                // Deleted (or moved by another caller) since it was read: this entry is spare.
                self.forget(&[account]);
            }
            tracing::info!(
                secret_row = id,
                "a signing secret moved from the database to the keychain"
            );
            Ok(())
        });
        let conn = store.conn();
        if moved.is_ok() {
            // The old value is still in the write-ahead log and in the file's previous page
            // version until a checkpoint; this one copies the new pages over and empties the log.
            // Busy (another reader) only delays that to the next automatic checkpoint.
            let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
            if busy != 0 {
                tracing::info!("checkpoint after moving signing secrets deferred: database busy");
            }
        }
        // Back as it was ("2" would not read back as "fast").
        let secure_delete = match secure_delete {
            0 => "off",
            2 => "fast",
            _ => "on",
        };
        conn.pragma_update(None, "secure_delete", secure_delete)?;
        moved
    }

    /// [`SigningSecrets::move_legacy`] for readers that work without the keychain: deliveries
    /// and views go on from the database copy, and the reason it stayed there is logged.
    pub(crate) fn move_legacy_or_log(&self, store: &Store) {
        if let Err(err) = self.move_legacy(store) {
            tracing::warn!(error = %err, "signing secrets stay in the database until the keychain can be used");
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Secret>> {
        // Nothing is ever left half-changed in a map insert or remove: a poisoned lock is fine.
        crate::sync::lock(&self.cache)
    }
}
