//! The revocation retrier: a background task that retries queued revocations (table
//! `oauth_revocation`) with exponential backoff and jitter until each provider confirms, across
//! restarts; then the connection becomes `inactive` and the kept token leaves the keychain.

use std::time::Duration;

use rusqlite::{params, OptionalExtension};
use tokio::sync::watch;

use super::events::OAuthEvent;
use super::hub::{blocking, OAuth};
use super::revoke::{delay_ms, Attempt, TokenKind};
use crate::error::Result;
use crate::vault::VaultKey;

/// The running retrier, owned by `Core`. Dropping it aborts the task (a queued revocation stays
/// queued for the next start); [`Retrier::stop`] lets an attempt in flight finish.
pub struct Retrier {
    shutdown: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl crate::service::Service for Retrier {
    const NAME: &'static str = "revocation retrier";

    async fn stop(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Retrier {
    /// Starts retrying (inside a tokio runtime); what is due, including from before a
    /// restart, is tried at once.
    pub fn start(oauth: OAuth) -> Self {
        let (shutdown, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            loop {
                let next = match oauth.run_due().await {
                    Ok(next) => next,
                    Err(err) => {
                        tracing::warn!(error = %err, "revocation retrier pass failed");
                        Some(oauth.hub.now_ms().saturating_add(60_000))
                    }
                };
                let wait = next.map_or(Duration::from_secs(24 * 3600), |at| {
                    Duration::from_millis(
                        u64::try_from(at.saturating_sub(oauth.hub.now_ms())).unwrap_or(0),
                    )
                });
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = oauth.hub.retrier_wake.notified() => {}
                    _ = stopped.changed() => return,
                }
            }
        });
        Self {
            shutdown,
            task: Some(task),
        }
    }
}

impl Drop for Retrier {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

struct Due {
    id: String,
    connection_id: String,
    provider: String,
    kind: TokenKind,
    attempts: u32,
}

impl OAuth {
    /// Attempts every due revocation once; returns when the next one is due.
    async fn run_due(&self) -> Result<Option<i64>> {
        let now = self.hub.now_ms();
        let due: Vec<Due> = {
            let conn = self.store.conn();
            let mut stmt = conn.prepare(
                "SELECT id, connection_id, provider, token_kind, attempts FROM oauth_revocation
                 WHERE next_attempt_at <= ?1 ORDER BY next_attempt_at",
            )?;
            let rows = stmt.query_map([now], |r| {
                Ok(Due {
                    id: r.get(0)?,
                    connection_id: r.get(1)?,
                    provider: r.get(2)?,
                    kind: TokenKind::parse(&r.get::<_, String>(3)?),
                    attempts: r.get(4)?,
                })
            })?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for item in due {
            self.retry_one(item).await?;
        }
        Ok(self
            .store
            .conn()
            .query_row(
                "SELECT min(next_attempt_at) FROM oauth_revocation",
                [],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    async fn retry_one(&self, item: Due) -> Result<()> {
        let key =
            VaultKey::pending_revocation(&self.workspace_id()?, &item.connection_id, &item.id)?;
        let read = key.clone();
        let attempt = match blocking(&self.vault, move |v| v.get(&read)).await {
            Ok(Some(token)) => self.revoke(&item.provider, item.kind, &token).await,
            // The token is gone (removed by hand): nothing is left to revoke with.
            Ok(None) => Attempt::Done,
            Err(err) => Attempt::Retry(err),
        };
        match attempt {
            Attempt::Done => {
                blocking(&self.vault, move |v| v.delete(&key)).await?;
                let last = self.store.write(|tx| {
                    tx.execute("DELETE FROM oauth_revocation WHERE id = ?1", [&item.id])?;
                    let left: i64 = tx.query_row(
                        "SELECT count(*) FROM oauth_revocation WHERE connection_id = ?1",
                        [&item.connection_id],
                        |r| r.get(0),
                    )?;
                    Ok(left == 0)
                })?;
                // A reconnect meanwhile made it active again: that status stands.
                if last {
                    self.store.conn().execute(
                        "UPDATE integration_connection SET status = 'inactive', status_detail = NULL
                         WHERE id = ?1 AND status = 'revocation_pending'",
                        [&item.connection_id],
                    )?;
                }
                tracing::info!(provider = %item.provider, connection = %item.connection_id, "queued revocation confirmed");
                self.hub.publish(OAuthEvent::ConnectionsChanged);
            }
            Attempt::Retry(why) => {
                let next = self
                    .hub
                    .now_ms()
                    .saturating_add(delay_ms(&self.hub.config, item.attempts));
                self.store.conn().execute(
                    "UPDATE oauth_revocation SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3 WHERE id = ?1",
                    params![item.id, next, why.to_string()],
                )?;
            }
        }
        Ok(())
    }
}
