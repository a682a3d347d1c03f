//! Webhook endpoints: their settings, URL and event checks, and their signing secrets
//! (generate, rotate with an overlap, reveal, list for verifying). Secrets live in the keychain
//! (see `secrets`); views carry only the redacted secret.

use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

use super::secrets::{SecretRow, SigningSecrets, SECRET_COLUMNS, SECRET_ORDER};
use super::signing::{generate_secret, SECRET_PREFIX};
use crate::audit::{self, Area};
use crate::clock::{now_rfc3339, rfc3339_ms, unix_ms};
use crate::error::{Error, Result};
use crate::ids::new_id;
use crate::outbox::{load_job, Hub, Job};
use crate::secret::Secret;
use crate::store::Store;
use crate::workspace::Actor;

mod checks;
mod failing;
mod model;
use checks::checked;
pub use checks::{check_events, check_url};
pub use failing::{
    check_disable_after_hours, span_hours, DisableAfter, DisabledFor, DEFAULT_DISABLE_AFTER_HOURS,
    MAX_DISABLE_AFTER_HOURS, MIN_DISABLE_AFTER_HOURS,
};
pub(crate) use failing::{disable_after, failing_reason};
pub use model::{
    DeleteImpact, EndpointInput, EndpointView, KnownSecret, Policy, SecretState,
    DEFAULT_AT_LEAST_ONCE_ATTEMPTS, DEFAULT_TIMEOUT_MS, MAX_ATTEMPTS, MAX_OVERLAP, MAX_RETIRED,
    MAX_TIMEOUT_MS, MAX_URL_CHARS, MIN_TIMEOUT_MS,
};

/// The endpoint service over the store and the signing secrets.
pub struct Endpoints<'a> {
    pub(crate) store: &'a Store,
    pub(crate) hub: &'a Hub,
    pub(crate) secrets: &'a SigningSecrets,
}

impl Endpoints<'_> {
    pub fn list(&self) -> Result<Vec<EndpointView>> {
        self.secrets.move_legacy_or_log(self.store);
        let loaded: Vec<Loaded> = {
            let conn = self.store.conn();
            let tx = conn.unchecked_transaction()?;
            let mut stmt = tx.prepare("SELECT id FROM webhook_endpoint ORDER BY created_at, id")?;
            let ids = stmt
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            ids.iter().map(|id| load(&tx, id)).collect::<Result<_>>()?
        };
        Ok(loaded.into_iter().map(|l| self.finish(l)).collect())
    }

    pub fn get(&self, id: &str) -> Result<EndpointView> {
        self.secrets.move_legacy_or_log(self.store);
        let loaded = {
            let conn = self.store.conn();
            let tx = conn.unchecked_transaction()?;
            load(&tx, id)?
        };
        Ok(self.finish(loaded))
    }

    /// Every endpoint's current, previous (in overlap) and retired secrets, for verifying
    /// received requests. Reads through the cache.
    pub fn known_secrets(&self) -> Result<Vec<KnownSecret>> {
        self.secrets.move_legacy_or_log(self.store);
        let rows: Vec<(String, SecretRow)> = {
            let conn = self.store.conn();
            let mut stmt = conn.prepare(&format!(
                "SELECT e.url, {SECRET_COLUMNS} FROM webhook_endpoint e
                 JOIN webhook_endpoint_secret s ON s.endpoint_id = e.id
                 ORDER BY e.created_at, e.id, {SECRET_ORDER}"
            ))?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, SecretRow::from_row(r, 1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let now = unix_ms();
        let mut known = Vec::with_capacity(rows.len());
        for (endpoint_url, row) in rows {
            let Some(secret) = self.secrets.read(&row)? else {
                // Removed from the keychain by hand: nothing can be verified with it.
                tracing::warn!(
                    endpoint_id = row.endpoint_id,
                    "a signing secret is missing from the keychain"
                );
                continue;
            };
            known.push(KnownSecret {
                state: SecretState::of(row.expires_at, now),
                endpoint_id: row.endpoint_id,
                endpoint_url,
                secret,
            });
        }
        Ok(known)
    }

    pub fn create(&self, actor: &Actor, input: EndpointInput) -> Result<EndpointView> {
        actor.require_manage()?;
        let checked = checked(input)?;
        let id = new_id();
        let secret = generate_secret();
        let loaded = self.secrets.save_then(self.store, &id, &secret, |tx, keychain_ref| {
            let now = now_rfc3339();
            tx.execute(
                "INSERT INTO webhook_endpoint (id, url, description, events, active, policy, max_attempts,
                     timeout_ms, standard_webhooks, disabled_reason, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, ?10, ?10)",
                params![
                    id,
                    checked.url,
                    checked.description,
                    checked.events_json,
                    checked.active,
                    checked.policy.as_str(),
                    checked.max_attempts,
                    checked.timeout_ms,
                    checked.standard_webhooks,
                    now
                ],
            )?;
            insert_secret(tx, &id, keychain_ref, unix_ms())?;
            audit::record(
                tx,
                actor,
                Area::Endpoints,
                "endpoint.created",
                &audit::url_label(&checked.url),
                format!(
                    "Added the endpoint {} for {}{}.",
                    audit::url_label(&checked.url),
                    checked.events_words(),
                    if checked.active { "" } else { " (paused)" }
                ),
            )?;
            load(tx, &id)
        })?;
        self.hub.endpoints_changed();
        Ok(self.finish(loaded))
    }

    /// Replaces the endpoint's settings. Turning it back on clears why the app turned it off,
    /// as [`Endpoints::enable`] does.
    pub fn update(&self, actor: &Actor, id: &str, input: EndpointInput) -> Result<EndpointView> {
        actor.require_manage()?;
        let checked = checked(input)?;
        let mut conn = self.store.conn();
        let tx = conn.transaction()?;
        let held = if checked.active && !is_active(&tx, id)? {
            turn_on(&tx, id)?
        } else {
            Vec::new()
        };
        tx.execute(
            "UPDATE webhook_endpoint SET url = ?2, description = ?3, events = ?4,
                 active = ?5, policy = ?6, max_attempts = ?7, timeout_ms = ?8,
                 standard_webhooks = ?9, updated_at = ?10
             WHERE id = ?1",
            params![
                id,
                checked.url,
                checked.description,
                checked.events_json,
                checked.active,
                checked.policy.as_str(),
                checked.max_attempts,
                checked.timeout_ms,
                checked.standard_webhooks,
                now_rfc3339()
            ],
        )?;
        audit::record(
            &tx,
            actor,
            Area::Endpoints,
            "endpoint.updated",
            &audit::url_label(&checked.url),
            format!(
                "Changed the endpoint {}: events {}, {}, {} attempts, {} ms timeout{}.",
                audit::url_label(&checked.url),
                checked.events_words(),
                if checked.active { "on" } else { "paused" },
                checked.max_attempts,
                checked.timeout_ms,
                if checked.standard_webhooks {
                    ", Standard Webhooks headers"
                } else {
                    ""
                }
            ),
        )?;
        let loaded = load(&tx, id)?;
        tx.commit()?;
        self.resume(conn, id, held);
        Ok(self.finish(loaded))
    }

    /// Turns the endpoint back on: the card's one click after the app turned it off (it kept
    /// failing, or answered 410 Gone) or a person paused it. Its run of failures starts again
    /// from nothing, and the deliveries held while it was off for failing are sent now, each
    /// with a fresh run of attempts.
    pub fn enable(&self, actor: &Actor, id: &str) -> Result<EndpointView> {
        actor.require_manage()?;
        let mut conn = self.store.conn();
        let tx = conn.transaction()?;
        let held = if is_active(&tx, id)? {
            Vec::new()
        } else {
            turn_on(&tx, id)?
        };
        tx.execute(
            "UPDATE webhook_endpoint SET active = 1, updated_at = ?2 WHERE id = ?1",
            params![id, now_rfc3339()],
        )?;
        let label = url_label_of(&tx, id)?;
        audit::record(
            &tx,
            actor,
            Area::Endpoints,
            "endpoint.enabled",
            &label,
            format!(
                "Turned the endpoint {label} back on ({} held deliveries sent).",
                held.len()
            ),
        )?;
        let loaded = load(&tx, id)?;
        tx.commit()?;
        self.resume(conn, id, held);
        Ok(self.finish(loaded))
    }

    /// After an endpoint's change is committed: the dispatcher rereads the endpoints, then (under
    /// the same lock, so a starting dispatcher neither misses nor doubles them) takes the held
    /// deliveries released by turning it back on.
    fn resume(&self, conn: std::sync::MutexGuard<'_, Connection>, id: &str, held: Vec<Job>) {
        self.hub.endpoints_changed();
        let released = !held.is_empty();
        self.hub.enqueue(held);
        drop(conn);
        if released {
            self.hub.notify_log(vec![id.to_owned()]);
        }
    }

    /// How long every attempt to an endpoint may fail before the dispatcher turns it off.
    pub fn disable_after(&self) -> Result<DisableAfter> {
        disable_after(&self.store.conn())
    }

    /// Changes that period (Owners and Admins). Endpoints already failing are measured against
    /// the new period from their first failure.
    pub fn set_disable_after(&self, actor: &Actor, hours: u32) -> Result<DisableAfter> {
        actor.require_manage()?;
        let set = failing::set_disable_after(&self.store.conn(), hours)?;
        audit::record_now(
            self.store,
            actor,
            Area::Settings,
            "endpoints.disable_after_changed",
            "Failing endpoints",
            format!("Endpoints that fail for {hours} hours in a row are now turned off."),
        )?;
        self.hub.endpoints_changed();
        Ok(set)
    }

    /// Marks `id` as receiving test events only (the local receiver's endpoint).
    pub(crate) fn set_test_only(&self, id: &str) -> Result<()> {
        self.store.write(|tx| {
            tx.execute(
                "UPDATE webhook_endpoint SET test_only = 1 WHERE id = ?1",
                [id],
            )?;
            Ok(())
        })?;
        self.hub.endpoints_changed();
        Ok(())
    }

    /// Turns off every test-only endpoint (the receiver stopped, or is not running at start);
    /// returns how many were on.
    pub(crate) fn deactivate_test_only(&self) -> Result<usize> {
        let n = self.store.write(|tx| {
            Ok(tx.execute(
                "UPDATE webhook_endpoint SET active = 0, updated_at = ?1,
                     disabled_reason = 'The local receiver stopped. Start it and press Send test events here to use this endpoint again.'
                 WHERE test_only = 1 AND active = 1",
                [now_rfc3339()],
            )?)
        })?;
        if n > 0 {
            self.hub.endpoints_changed();
        }
        Ok(n)
    }

    /// What [`Endpoints::delete`] would remove, for the confirmation modal.
    pub fn delete_impact(&self, id: &str) -> Result<DeleteImpact> {
        let conn = self.store.conn();
        let tx = conn.unchecked_transaction()?;
        exists(&tx, id)?;
        impact(&tx, id)
    }

    /// Deletes the endpoint, its secrets (rows, then keychain entries), its pending deliveries
    /// and its log.
    pub fn delete(&self, actor: &Actor, id: &str) -> Result<DeleteImpact> {
        actor.require_manage()?;
        let (out, keychain_refs) = self.store.write(|tx| {
            exists(tx, id)?;
            let impact = impact(tx, id)?;
            let label = url_label_of(tx, id)?;
            audit::record(
                tx,
                actor,
                Area::Endpoints,
                "endpoint.deleted",
                &label,
                format!("Deleted the endpoint {label}, its signing secrets and its log."),
            )?;
            let refs = tx
                .prepare(
                    "SELECT keychain_ref FROM webhook_endpoint_secret
                     WHERE endpoint_id = ?1 AND keychain_ref IS NOT NULL",
                )?
                .query_map([id], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            tx.execute("DELETE FROM webhook_attempt WHERE endpoint_id = ?1", [id])?;
            tx.execute("DELETE FROM webhook_delivery WHERE endpoint_id = ?1", [id])?;
            // Its secret rows go with it (ON DELETE CASCADE).
            tx.execute("DELETE FROM webhook_endpoint WHERE id = ?1", [id])?;
            Ok((impact, refs))
        })?;
        self.secrets.forget(&keychain_refs);
        self.hub.endpoints_changed();
        self.hub.notify_log(vec![id.to_owned()]);
        Ok(out)
    }

    /// A new current secret; the old one stays valid (and is signed with too) for `overlap`.
    /// A zero overlap retires the old secret at once, as does this rotation a previous secret
    /// still in its overlap. Retired secrets are kept (never signed with) up to [`MAX_RETIRED`];
    /// older ones are deleted, rows then keychain entries.
    pub fn rotate_secret(
        &self,
        actor: &Actor,
        id: &str,
        overlap: Duration,
    ) -> Result<EndpointView> {
        actor.require_manage()?;
        if overlap > MAX_OVERLAP {
            return Err(Error::invalid(
                "Keep the overlap to 7 days or less: the old secret should stop working soon after receivers switch.",
            ));
        }
        // Before the keychain is touched: a gone endpoint is a plain "not found".
        exists(&self.store.conn(), id)?;
        // The secrets this rotation retires or deletes should not stay in the database either.
        self.secrets.move_legacy(self.store)?;
        let secret = generate_secret();
        let (loaded, pruned) = self.secrets.save_then(self.store, id, &secret, |tx, keychain_ref| {
            exists(tx, id)?;
            let now = unix_ms();
            let until = now.saturating_add(i64::try_from(overlap.as_millis()).unwrap_or(i64::MAX));
            tx.execute(
                "UPDATE webhook_endpoint_secret SET expires_at = ?2 WHERE endpoint_id = ?1 AND expires_at > ?2",
                params![id, now],
            )?;
            tx.execute(
                "UPDATE webhook_endpoint_secret SET expires_at = ?2 WHERE endpoint_id = ?1 AND expires_at IS NULL",
                params![id, until],
            )?;
            insert_secret(tx, id, keychain_ref, now)?;
            let pruned = prune_retired(tx, id)?;
            let label = url_label_of(tx, id)?;
            audit::record(
                tx,
                actor,
                Area::Endpoints,
                "endpoint.secret_rotated",
                &label,
                format!(
                    "Rotated the signing secret of {label}; the old one stays valid for {} hours.",
                    overlap.as_secs() / 3600
                ),
            )?;
            tx.execute(
                "UPDATE webhook_endpoint SET updated_at = ?2 WHERE id = ?1",
                params![id, now_rfc3339()],
            )?;
            Ok((load(tx, id)?, pruned))
        })?;
        self.secrets.forget(&pruned);
        self.hub.endpoints_changed();
        Ok(self.finish(loaded))
    }

    /// The current secret itself, for Reveal/Copy: the one path by which it leaves the core.
    /// Needs the keychain, even for a secret an older version left in the database: this is
    /// where the person learns that the keychain needs fixing.
    pub fn reveal_secret(&self, actor: &Actor, id: &str) -> Result<Secret> {
        actor.require_manage()?;
        self.secrets.move_legacy(self.store)?;
        let rows = {
            let conn = self.store.conn();
            exists(&conn, id)?;
            secret_rows(&conn, id)?
        };
        let current = rows
            .iter()
            .find(|row| row.expires_at.is_none())
            .ok_or_else(no_secret)?;
        let secret = self.secrets.read(current)?.ok_or_else(no_secret)?;
        self.store.write(|tx| {
            let label = url_label_of(tx, id)?;
            audit::record(
                tx,
                actor,
                Area::Endpoints,
                "endpoint.secret_revealed",
                &label,
                format!("Revealed or copied the signing secret of {label}."),
            )
        })?;
        Ok(secret)
    }

    /// The view of a loaded endpoint, its secret redacted. A secret that cannot be read shows
    /// as the bare prefix: the list must still open without a keychain; Reveal says why.
    fn finish(&self, loaded: Loaded) -> EndpointView {
        let Loaded { mut view, secrets } = loaded;
        let current = secrets.iter().find(|row| row.expires_at.is_none());
        view.secret_redacted = match current.map(|row| self.secrets.read(row)) {
            Some(Ok(Some(secret))) => secret.redacted(),
            Some(Err(err)) => {
                tracing::warn!(error = %err, endpoint_id = view.id, "the signing secret cannot be shown");
                format!("{SECRET_PREFIX}…")
            }
            Some(Ok(None)) | None => {
                tracing::warn!(
                    endpoint_id = view.id,
                    "the endpoint has no readable signing secret"
                );
                format!("{SECRET_PREFIX}…")
            }
        };
        let now = unix_ms();
        view.previous_secret_expires_at = secrets
            .iter()
            .filter_map(|row| row.expires_at)
            .find(|&at| at > now)
            .map(rfc3339_ms);
        view
    }
}

/// The endpoint's address as the audit trail names it.
fn url_label_of(conn: &Connection, id: &str) -> Result<String> {
    let url: String = conn.query_row(
        "SELECT url FROM webhook_endpoint WHERE id = ?1",
        [id],
        |r| r.get(0),
    )?;
    Ok(audit::url_label(&url))
}

/// An endpoint's row and its secrets' rows, read in one transaction; the secrets themselves
/// are read after it, outside the database lock (a keychain call can take a while).
struct Loaded {
    view: EndpointView,
    secrets: Vec<SecretRow>,
}

/// Clears why the app turned the endpoint off and its run of failures; when it was off for
/// failing, its held deliveries become due now with a fresh run of attempts, and their jobs are
/// returned to hand to the dispatcher once committed.
fn turn_on(tx: &Transaction<'_>, id: &str) -> Result<Vec<Job>> {
    let was: Option<String> = tx.query_row(
        "SELECT disabled_for FROM webhook_endpoint WHERE id = ?1",
        [id],
        |r| r.get(0),
    )?;
    tx.execute(
        "UPDATE webhook_endpoint SET disabled_reason = NULL, disabled_for = NULL,
             disabled_at = NULL, failing_since = NULL
         WHERE id = ?1",
        [id],
    )?;
    if was.as_deref().and_then(DisabledFor::parse) != Some(DisabledFor::Failing) {
        return Ok(Vec::new());
    }
    let now = unix_ms();
    let ids: Vec<String> = tx
        .prepare(&format!(
            "SELECT id FROM webhook_delivery WHERE {HELD} ORDER BY created_at, id"
        ))?
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    tx.execute(
        &format!(
            "UPDATE webhook_delivery SET run_attempts = 0, next_attempt_at = ?2, updated_at = ?2
             WHERE {HELD}"
        ),
        params![id, now],
    )?;
    let mut jobs = Vec::with_capacity(ids.len());
    for delivery in &ids {
        if let Some(job) = load_job(tx, delivery)? {
            jobs.push(job);
        }
    }
    Ok(jobs)
}

/// The deliveries an endpoint turned off for failing holds: the automatic ones still pending.
/// (A test or redelivery a person asked for goes even to an endpoint that is off.)
const HELD: &str = "endpoint_id = ?1 AND status = 'pending' AND trigger IN ('event', 'replay')";

/// The row of a new current secret: only its keychain reference, never the secret.
fn insert_secret(
    tx: &Transaction<'_>,
    endpoint_id: &str,
    keychain_ref: &str,
    now_ms: i64,
) -> Result<()> {
    tx.execute(
        "INSERT INTO webhook_endpoint_secret (endpoint_id, keychain_ref, expires_at, created_at)
         VALUES (?1, ?2, NULL, ?3)",
        params![endpoint_id, keychain_ref, now_ms],
    )?;
    Ok(())
}

/// Deletes the endpoint's secrets beyond the newest [`MAX_RETIRED`] that are no longer
/// current; returns their keychain references, to remove once the deletion is committed.
fn prune_retired(tx: &Transaction<'_>, endpoint_id: &str) -> Result<Vec<String>> {
    let doomed: Vec<(i64, Option<String>)> = tx
        .prepare(&format!(
            "SELECT s.id, s.keychain_ref FROM webhook_endpoint_secret s
             WHERE s.endpoint_id = ?1 AND s.expires_at IS NOT NULL
             ORDER BY {SECRET_ORDER} LIMIT -1 OFFSET {MAX_RETIRED}"
        ))?
        .query_map([endpoint_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (row_id, _) in &doomed {
        tx.execute(
            "DELETE FROM webhook_endpoint_secret WHERE id = ?1",
            [row_id],
        )?;
    }
    Ok(doomed.into_iter().filter_map(|(_, r)| r).collect())
}

/// Whether the endpoint is on; "not found" when it is gone.
fn is_active(tx: &Connection, id: &str) -> Result<bool> {
    tx.query_row(
        "SELECT active FROM webhook_endpoint WHERE id = ?1",
        [id],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(not_found)
}

fn exists(tx: &Connection, id: &str) -> Result<()> {
    let found: Option<i64> = tx
        .query_row("SELECT 1 FROM webhook_endpoint WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?;
    found.map(|_| ()).ok_or_else(not_found)
}

fn not_found() -> Error {
    Error::NotFound("That webhook endpoint no longer exists. Reload the list.".into())
}

fn impact(tx: &Connection, id: &str) -> Result<DeleteImpact> {
    let logged: i64 = tx.query_row(
        "SELECT count(*) FROM webhook_attempt WHERE endpoint_id = ?1",
        [id],
        |r| r.get(0),
    )?;
    let pending: i64 = tx.query_row(
        "SELECT count(*) FROM webhook_delivery WHERE endpoint_id = ?1 AND status = 'pending'",
        [id],
        |r| r.get(0),
    )?;
    Ok(DeleteImpact {
        logged_attempts: logged.max(0) as u64,
        pending_deliveries: pending.max(0) as u64,
    })
}

fn no_secret() -> Error {
    Error::NotFound(
        "This endpoint's signing secret is missing (it was removed from the keychain). Rotate its secret to make a new one, then give it to the receiver."
            .into(),
    )
}

/// The endpoint's secret rows, current first, then the newest to stop being valid.
fn secret_rows(conn: &Connection, endpoint_id: &str) -> Result<Vec<SecretRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {SECRET_COLUMNS} FROM webhook_endpoint_secret s
         WHERE s.endpoint_id = ?1 ORDER BY {SECRET_ORDER}"
    ))?;
    let rows = stmt.query_map([endpoint_id], |r| SecretRow::from_row(r, 0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The secrets deliveries are signed with now: the current one first, then any previous one
/// still inside its overlap; never a retired one. Read through the memory copy. Fails when the
/// current one cannot be read, so that nothing goes out unsigned.
pub(crate) fn valid_secrets(
    store: &Store,
    secrets: &SigningSecrets,
    id: &str,
) -> Result<Vec<(Secret, Option<i64>)>> {
    let now = unix_ms();
    let rows = secret_rows(&store.conn(), id)?;
    let mut valid = Vec::with_capacity(2);
    for row in rows
        .iter()
        .filter(|r| r.expires_at.is_none_or(|at| at > now))
    {
        match secrets.read(row)? {
            Some(secret) => valid.push((secret, row.expires_at)),
            None if row.expires_at.is_none() => return Err(no_secret()),
            // Removed from the keychain by hand: the current one still signs.
            None => tracing::warn!(
                endpoint_id = id,
                "a previous signing secret is missing from the keychain"
            ),
        }
    }
    match valid.first() {
        Some((_, None)) => Ok(valid),
        _ => Err(no_secret()),
    }
}

/// The endpoint's row and its secrets' rows; [`Endpoints::finish`] makes the view.
fn load(tx: &Connection, id: &str) -> Result<Loaded> {
    let (mut view, failing_since) = tx
        .query_row(
            "SELECT id, url, description, events, active, policy, max_attempts, timeout_ms,
                    standard_webhooks, disabled_reason, created_at, updated_at,
                    disabled_for, disabled_at, failing_since, test_only
             FROM webhook_endpoint WHERE id = ?1",
            [id],
            view_from_row,
        )
        .optional()?
        .ok_or_else(not_found)?;
    view.warning = check_url(&view.url).ok().and_then(|(_, w)| w);
    if let Some(since) = failing_since.filter(|_| view.active) {
        view.disables_at = Some(rfc3339_ms(since + disable_after(tx)?.period_ms()));
    }
    if view.disabled_for == Some(DisabledFor::Failing) {
        let held: i64 = tx.query_row(
            &format!("SELECT count(*) FROM webhook_delivery WHERE {HELD}"),
            [id],
            |r| r.get(0),
        )?;
        view.held_deliveries = u32::try_from(held).unwrap_or(u32::MAX);
    }
    Ok(Loaded {
        view,
        secrets: secret_rows(tx, id)?,
    })
}

/// The view as the row has it, and the failing run's start (unix ms).
fn view_from_row(r: &Row<'_>) -> rusqlite::Result<(EndpointView, Option<i64>)> {
    let events: String = r.get(3)?;
    let failing_since: Option<i64> = r.get(14)?;
    let view = EndpointView {
        id: r.get(0)?,
        url: r.get(1)?,
        description: r.get(2)?,
        events: serde_json::from_str(&events).unwrap_or_default(),
        active: r.get(4)?,
        policy: Policy::parse(&r.get::<_, String>(5)?),
        max_attempts: r.get(6)?,
        timeout_ms: r.get(7)?,
        standard_webhooks: r.get(8)?,
        test_only: r.get(15)?,
        disabled_reason: r.get(9)?,
        disabled_for: r
            .get::<_, Option<String>>(12)?
            .as_deref()
            .and_then(DisabledFor::parse),
        disabled_at: r.get::<_, Option<i64>>(13)?.map(rfc3339_ms),
        failing_since: failing_since.map(rfc3339_ms),
        disables_at: None,
        held_deliveries: 0,
        secret_redacted: String::new(),
        previous_secret_expires_at: None,
        warning: None,
        created_at: r.get(10)?,
        updated_at: r.get(11)?,
    };
    Ok((view, failing_since))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use keyring_core::mock;

    use super::*;
    use crate::vault::Vault;
    use crate::workspace::{MemberInput, Role, Workspaces};

    #[test]
    fn only_current_and_previous_secrets_sign() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let workspaces = Workspaces { store: &store };
        workspaces
            .set_up(
                "Acme",
                MemberInput {
                    name: "Olivia Owner".into(),
                    email: "olivia@acme.test".into(),
                    role: Role::Owner,
                },
            )
            .unwrap();
        let owner = workspaces.actor().unwrap();
        let hub = Hub::default();
        let secrets = SigningSecrets::new(Arc::new(Vault::with_store(mock::Store::new().unwrap())));
        let eps = Endpoints {
            store: &store,
            hub: &hub,
            secrets: &secrets,
        };
        let ep = eps
            .create(
                &owner,
                EndpointInput {
                    url: "https://example.com/h".into(),
                    events: vec!["lead.captured".into()],
                    ..EndpointInput::default()
                },
            )
            .unwrap();
        let signing = || -> Vec<(String, bool)> {
            valid_secrets(&store, &secrets, &ep.id)
                .unwrap()
                .into_iter()
                .map(|(s, exp)| (s.expose().to_owned(), exp.is_none()))
                .collect()
        };
        let reveal = || {
            eps.reveal_secret(&owner, &ep.id)
                .unwrap()
                .expose()
                .to_owned()
        };
        let first = reveal();
        assert_eq!(signing(), vec![(first.clone(), true)]);

        eps.rotate_secret(&owner, &ep.id, Duration::from_secs(3600))
            .unwrap();
        let second = reveal();
        assert_eq!(signing(), vec![(second.clone(), true), (first, false)]);

        // Zero overlap: the current one and the previous one both retire; neither signs.
        eps.rotate_secret(&owner, &ep.id, Duration::ZERO).unwrap();
        assert_eq!(signing(), vec![(reveal(), true)]);
        assert_eq!(eps.known_secrets().unwrap().len(), 3);
    }
}
