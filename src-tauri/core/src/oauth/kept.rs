//! Sign-ins in progress kept across a restart: a callback link may start the app (it was closed
//! during the sign-in). The PKCE verifier and what goes with it live in the keychain under
//! `oauth-pending/<state hash>`, for the sign-in's lifetime; the database lists the state
//! hashes with their expiry, so a link can be told "expired" from "unknown" and leftovers are
//! cleaned up. Each is consumed once: read, then deleted before it is used.

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::hub::{blocking, OAuth};
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::vault::VaultKey;

/// What the keychain entry holds.
#[derive(Serialize, Deserialize)]
pub(super) struct Kept {
    pub(super) authorization_id: String,
    pub(super) provider_id: String,
    pub(super) verifier: String,
    pub(super) redirect_uri: String,
    pub(super) member_id: String,
    pub(super) expires_at_ms: i64,
}

/// How looking up a state hash went.
pub(super) enum Found {
    Kept(Kept),
    Expired,
    Unknown,
}

pub(super) fn hex(hash: &[u8; 32]) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

fn key(ws: &str, hash_hex: &str) -> Result<VaultKey> {
    VaultKey::new(ws, &format!("oauth-pending/{hash_hex}"))
}

impl OAuth {
    /// Keeps a sign-in just begun: keychain first, then its row.
    pub(super) async fn keep(&self, hash: &[u8; 32], kept: &Kept) -> Result<()> {
        let hash_hex = hex(hash);
        let key = key(&self.workspace_id()?, &hash_hex)?;
        let json = serde_json::to_string(kept)
            .map_err(|_| Error::Internal("The sign-in could not be prepared. Try again.".into()))?;
        let secret = Secret::new(json);
        let saved = key.clone();
        blocking(&self.vault, move |v| v.set(&saved, &secret)).await?;
        let written = self.store.write(|tx| {
            tx.execute(
                "INSERT INTO oauth_pending (state_hash, authorization_id, provider, expires_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    hash_hex,
                    kept.authorization_id,
                    kept.provider_id,
                    kept.expires_at_ms
                ],
            )?;
            Ok(())
        });
        if let Err(err) = written {
            let _ = blocking(&self.vault, move |v| v.delete(&key)).await;
            return Err(err);
        }
        Ok(())
    }

    /// Takes the kept sign-in of `hash`: it is deleted from the keychain and the database
    /// before it is returned, so a second link with the same state finds nothing.
    pub(super) async fn take_kept(&self, hash: &[u8; 32]) -> Result<Found> {
        let hash_hex = hex(hash);
        let expires: Option<i64> = self
            .store
            .conn()
            .query_row(
                "SELECT expires_at FROM oauth_pending WHERE state_hash = ?1",
                [&hash_hex],
                |r| r.get(0),
            )
            .optional()?;
        let Some(expires) = expires else {
            return Ok(Found::Unknown);
        };
        let key = key(&self.workspace_id()?, &hash_hex)?;
        let stored = blocking(&self.vault, move |v| {
            let stored = v.get(&key)?;
            v.delete(&key)?;
            Ok(stored)
        })
        .await?;
        self.delete_row(&hash_hex)?;
        if self.hub.now_ms() > expires {
            return Ok(Found::Expired);
        }
        let Some(stored) = stored else {
            return Ok(Found::Unknown);
        };
        serde_json::from_str(stored.expose())
            .map(Found::Kept)
            .map_err(|_| {
                Error::Internal(
                    "A kept sign-in could not be read. Start the connection again.".into(),
                )
            })
    }

    /// Forgets the kept copy of a sign-in that ended (used, cancelled or expired).
    /// The database's row of a kept sign-in (its keychain entry is handled by the caller).
    fn delete_row(&self, hash_hex: &str) -> Result<()> {
        self.store.write(|tx| {
            tx.execute(
                "DELETE FROM oauth_pending WHERE state_hash = ?1",
                [hash_hex],
            )?;
            Ok(())
        })
    }

    pub(super) fn forget_kept(&self, hash: &[u8; 32]) {
        let hash_hex = hex(hash);
        let Ok(ws) = self.workspace_id() else { return };
        if let Ok(key) = key(&ws, &hash_hex) {
            if let Err(err) = self.vault.delete(&key) {
                tracing::warn!(error = %err, "a finished sign-in could not be removed from the keychain");
                return;
            }
        }
        let _ = self.delete_row(&hash_hex);
    }

    /// Removes kept sign-ins that expired while the app was closed.
    pub async fn forget_expired_sign_ins(&self) -> Result<()> {
        let now = self.hub.now_ms();
        let expired: Vec<String> = {
            let conn = self.store.conn();
            let mut stmt =
                conn.prepare("SELECT state_hash FROM oauth_pending WHERE expires_at < ?1")?;
            let rows = stmt.query_map([now], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for hash_hex in expired {
            let key = key(&self.workspace_id()?, &hash_hex)?;
            blocking(&self.vault, move |v| v.delete(&key)).await?;
            self.delete_row(&hash_hex)?;
        }
        Ok(())
    }
}
