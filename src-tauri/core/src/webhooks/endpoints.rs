//! Webhook endpoints: their settings, URL and event checks, and their signing secrets
//! (generate, rotate with an overlap, reveal). Views carry only the redacted secret.

use std::net::IpAddr;
use std::time::Duration;

use rusqlite::{params, OptionalExtension, Row, Transaction};
use serde::{Deserialize, Serialize};
use specta::Type;

use super::dispatcher::Hub;
use super::events::EventType;
use super::signing::generate_secret;
use crate::clock::{now_rfc3339, rfc3339_ms, unix_ms};
use crate::error::{Error, Result};
use crate::new_id;
use crate::secret::Secret;
use crate::store::Store;
use crate::workspace::Actor;

pub const MAX_URL_CHARS: usize = 2048;
pub const DEFAULT_TIMEOUT_MS: u32 = 5_000;
pub const MIN_TIMEOUT_MS: u32 = 1_000;
pub const MAX_TIMEOUT_MS: u32 = 60_000;
pub const MAX_ATTEMPTS: u32 = 10;
/// At-least-once without a number given: five tries spread over minutes.
pub const DEFAULT_AT_LEAST_ONCE_ATTEMPTS: u32 = 5;
/// A rotation's overlap cannot exceed a week: the old secret should not linger.
pub const MAX_OVERLAP: Duration = Duration::from_secs(7 * 24 * 3600);

/// How an endpoint's deliveries are attempted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// One POST, no retry: v1's behaviour.
    #[default]
    Single,
    /// Retries with exponential backoff and jitter until a 2xx or the last attempt.
    AtLeastOnce,
}

impl Policy {
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Single => "single",
            Policy::AtLeastOnce => "at_least_once",
        }
    }

    pub(crate) fn parse(s: &str) -> Self {
        if s == "at_least_once" {
            Policy::AtLeastOnce
        } else {
            Policy::Single
        }
    }
}

/// What the Add/Edit Webhook modal submits. Events are names so that an unknown one gets a
/// message listing the valid ones.
#[derive(Debug, Clone, Default, Deserialize, Type)]
pub struct EndpointInput {
    pub url: String,
    #[serde(default)]
    pub description: String,
    pub events: Vec<String>,
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default)]
    pub policy: Policy,
    /// Total attempts for at-least-once (1–10, default 5); single attempt is always 1.
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// 1,000–60,000 ms; default 5,000.
    #[serde(default)]
    pub timeout_ms: Option<u32>,
    #[serde(default)]
    pub standard_webhooks: bool,
}

fn yes() -> bool {
    true
}

/// An endpoint as the UI shows it. The secret appears only redacted.
#[derive(Debug, Clone, PartialEq, Serialize, Type)]
pub struct EndpointView {
    pub id: String,
    pub url: String,
    pub description: String,
    pub events: Vec<EventType>,
    pub active: bool,
    pub policy: Policy,
    pub max_attempts: u32,
    pub timeout_ms: u32,
    pub standard_webhooks: bool,
    /// Why the app turned the endpoint off (it answered 410 Gone).
    pub disabled_reason: Option<String>,
    pub secret_redacted: String,
    /// During a rotation's overlap: when the previous secret stops being sent (RFC 3339).
    pub previous_secret_expires_at: Option<String>,
    /// A caution to show beside the URL (plain http to a non-loopback host).
    pub warning: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// What deleting an endpoint removes, for the confirmation modal and its outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Type)]
pub struct DeleteImpact {
    pub logged_attempts: u64,
    pub pending_deliveries: u64,
}

/// The endpoint service over the store.
pub struct Endpoints<'a> {
    pub(crate) store: &'a Store,
    pub(crate) hub: &'a Hub,
}

impl Endpoints<'_> {
    pub fn list(&self) -> Result<Vec<EndpointView>> {
        let conn = self.store.conn();
        let tx = conn.unchecked_transaction()?;
        let ids: Vec<String> = {
            let mut stmt = tx.prepare("SELECT id FROM webhook_endpoint ORDER BY created_at, id")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        ids.iter().map(|id| view(&tx, id)).collect()
    }

    pub fn get(&self, id: &str) -> Result<EndpointView> {
        let conn = self.store.conn();
        let tx = conn.unchecked_transaction()?;
        view(&tx, id)
    }

    pub fn create(&self, actor: &Actor, input: EndpointInput) -> Result<EndpointView> {
        actor.require_manage()?;
        let checked = checked(input)?;
        let id = new_id();
        let secret = generate_secret();
        let out = self.store.write(|tx| {
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
            insert_secret(tx, &id, &secret)?;
            view(tx, &id)
        })?;
        self.hub.endpoints_changed();
        Ok(out)
    }

    /// Replaces the endpoint's settings. Turning it back on clears why the app turned it off.
    pub fn update(&self, actor: &Actor, id: &str, input: EndpointInput) -> Result<EndpointView> {
        actor.require_manage()?;
        let checked = checked(input)?;
        let out = self.store.write(|tx| {
            exists(tx, id)?;
            tx.execute(
                "UPDATE webhook_endpoint SET url = ?2, description = ?3, events = ?4,
                     disabled_reason = CASE WHEN ?5 = 1 THEN NULL ELSE disabled_reason END,
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
            view(tx, id)
        })?;
        self.hub.endpoints_changed();
        Ok(out)
    }

    /// What [`Endpoints::delete`] would remove, for the confirmation modal.
    pub fn delete_impact(&self, id: &str) -> Result<DeleteImpact> {
        let conn = self.store.conn();
        let tx = conn.unchecked_transaction()?;
        exists(&tx, id)?;
        impact(&tx, id)
    }

    /// Deletes the endpoint, its secrets, its pending deliveries and its log.
    pub fn delete(&self, actor: &Actor, id: &str) -> Result<DeleteImpact> {
        actor.require_manage()?;
        let out = self.store.write(|tx| {
            exists(tx, id)?;
            let impact = impact(tx, id)?;
            tx.execute("DELETE FROM webhook_attempt WHERE endpoint_id = ?1", [id])?;
            tx.execute("DELETE FROM webhook_delivery WHERE endpoint_id = ?1", [id])?;
            tx.execute("DELETE FROM webhook_endpoint WHERE id = ?1", [id])?;
            Ok(impact)
        })?;
        self.hub.endpoints_changed();
        self.hub.notify_log(vec![id.to_owned()]);
        Ok(out)
    }

    /// A new current secret; the old one stays valid (and is signed with too) for `overlap`.
    /// A zero overlap retires the old secret at once. Any older previous secret is dropped.
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
        let secret = generate_secret();
        let out = self.store.write(|tx| {
            exists(tx, id)?;
            tx.execute(
                "DELETE FROM webhook_endpoint_secret WHERE endpoint_id = ?1 AND expires_at IS NOT NULL",
                [id],
            )?;
            if overlap.is_zero() {
                tx.execute(
                    "DELETE FROM webhook_endpoint_secret WHERE endpoint_id = ?1",
                    [id],
                )?;
            } else {
                let until = unix_ms() + i64::try_from(overlap.as_millis()).unwrap_or(i64::MAX);
                tx.execute(
                    "UPDATE webhook_endpoint_secret SET expires_at = ?2 WHERE endpoint_id = ?1",
                    params![id, until],
                )?;
            }
            insert_secret(tx, id, &secret)?;
            tx.execute(
                "UPDATE webhook_endpoint SET updated_at = ?2 WHERE id = ?1",
                params![id, now_rfc3339()],
            )?;
            view(tx, id)
        })?;
        self.hub.endpoints_changed();
        Ok(out)
    }

    /// The current secret itself, for Reveal/Copy: the one path by which it leaves the core.
    pub fn reveal_secret(&self, actor: &Actor, id: &str) -> Result<Secret> {
        actor.require_manage()?;
        let conn = self.store.conn();
        let tx = conn.unchecked_transaction()?;
        exists(&tx, id)?;
        current_secret(&tx, id)
    }
}

struct Checked {
    url: String,
    description: String,
    events_json: String,
    active: bool,
    policy: Policy,
    max_attempts: u32,
    timeout_ms: u32,
    standard_webhooks: bool,
}

fn checked(input: EndpointInput) -> Result<Checked> {
    let url = check_url(&input.url)?.0;
    let description = input.description.trim().to_owned();
    if description.chars().count() > 500 {
        return Err(Error::invalid(
            "Keep the description to 500 characters or fewer.",
        ));
    }
    let events = check_events(&input.events)?;
    let timeout_ms = input.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS);
    if !(MIN_TIMEOUT_MS..=MAX_TIMEOUT_MS).contains(&timeout_ms) {
        return Err(Error::invalid(format!(
            "The timeout must be between 1 and 60 seconds (it was {timeout_ms} ms). 5 seconds is the default; raise it only for debugging."
        )));
    }
    let max_attempts = match input.policy {
        Policy::Single => match input.max_attempts {
            None | Some(1) => 1,
            Some(n) => {
                return Err(Error::invalid(format!(
                    "A single-attempt endpoint sends each event once, so it cannot make {n} attempts. Choose at-least-once to retry."
                )))
            }
        },
        Policy::AtLeastOnce => {
            let n = input.max_attempts.unwrap_or(DEFAULT_AT_LEAST_ONCE_ATTEMPTS);
            if !(1..=MAX_ATTEMPTS).contains(&n) {
                return Err(Error::invalid(format!(
                    "The number of attempts must be between 1 and {MAX_ATTEMPTS} (it was {n})."
                )));
            }
            n
        }
    };
    Ok(Checked {
        url,
        description,
        events_json: serde_json::to_string(&events)
            .map_err(|_| Error::Internal("The events could not be saved; try again.".into()))?,
        active: input.active,
        policy: input.policy,
        max_attempts,
        timeout_ms,
        standard_webhooks: input.standard_webhooks,
    })
}

/// Checks a webhook URL: http or https, a host, no user:password, at most 2,048 characters.
/// Returns the URL as entered (trimmed) and a warning for plain http to a non-loopback host.
pub fn check_url(raw: &str) -> Result<(String, Option<String>)> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(Error::invalid(
            "Enter the URL that should receive the webhooks, like https://example.com/webhooks.",
        ));
    }
    if raw.chars().count() > MAX_URL_CHARS {
        return Err(Error::invalid(format!(
            "The URL is longer than {MAX_URL_CHARS} characters. Use a shorter one."
        )));
    }
    let shown: String = raw.chars().take(80).collect();
    let parsed = url::Url::parse(raw).map_err(|_| {
        Error::invalid(format!(
            "“{shown}” is not a valid URL. Enter a full address like https://example.com/webhooks."
        ))
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Error::invalid(format!(
            "Webhook URLs must start with https:// (or http:// for local testing), not {}://.",
            parsed.scheme()
        )));
    }
    let Some(host) = parsed.host() else {
        return Err(Error::invalid(format!(
            "“{shown}” has no host. Enter a full address like https://example.com/webhooks."
        )));
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Error::invalid(
            "Remove the user name and password from the URL: they would be sent in clear with every delivery. Verify deliveries with the signing secret instead.",
        ));
    }
    let loopback = match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost") || d.ends_with(".localhost"),
        url::Host::Ipv4(ip) => IpAddr::V4(ip).is_loopback(),
        url::Host::Ipv6(ip) => IpAddr::V6(ip).is_loopback(),
    };
    let warning = (parsed.scheme() == "http" && !loopback).then(|| {
        "This URL uses plain http: deliveries (lead names, emails, phone numbers) travel unencrypted. Use https outside local testing.".to_owned()
    });
    Ok((raw.to_owned(), warning))
}

/// Parses the event names: at least one, each a catalog event, no duplicates kept.
pub fn check_events(names: &[String]) -> Result<Vec<EventType>> {
    if names.is_empty() {
        let valid = EventType::ALL.map(EventType::as_str).join(", ");
        return Err(Error::invalid(format!(
            "Choose at least one event to send to this endpoint. Valid event types: {valid}."
        )));
    }
    let mut events = Vec::with_capacity(names.len());
    for name in names {
        let event: EventType = name.parse()?;
        if !events.contains(&event) {
            events.push(event);
        }
    }
    events.sort();
    Ok(events)
}

fn insert_secret(tx: &Transaction<'_>, endpoint_id: &str, secret: &Secret) -> Result<()> {
    tx.execute(
        "INSERT INTO webhook_endpoint_secret (endpoint_id, plaintext_secret, expires_at, created_at)
         VALUES (?1, ?2, NULL, ?3)",
        params![endpoint_id, secret.expose(), unix_ms()],
    )?;
    Ok(())
}

fn exists(tx: &Transaction<'_>, id: &str) -> Result<()> {
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

fn impact(tx: &Transaction<'_>, id: &str) -> Result<DeleteImpact> {
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

fn current_secret(tx: &Transaction<'_>, id: &str) -> Result<Secret> {
    let value: Option<String> = tx
        .query_row(
            "SELECT plaintext_secret FROM webhook_endpoint_secret
             WHERE endpoint_id = ?1 AND expires_at IS NULL ORDER BY id DESC LIMIT 1",
            [id],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    value.map(Secret::new).ok_or_else(|| {
        Error::Storage(
            "This endpoint has no signing secret. Rotate its secret to make a new one.".into(),
        )
    })
}

/// The secrets deliveries are signed with now: the current one first, then any previous one
/// still inside its overlap.
pub(crate) fn valid_secrets(
    tx: &rusqlite::Connection,
    id: &str,
) -> Result<Vec<(Secret, Option<i64>)>> {
    let mut stmt = tx.prepare_cached(
        "SELECT plaintext_secret, expires_at FROM webhook_endpoint_secret
         WHERE endpoint_id = ?1 AND plaintext_secret IS NOT NULL AND (expires_at IS NULL OR expires_at > ?2)
         ORDER BY expires_at IS NOT NULL, id DESC",
    )?;
    let rows = stmt.query_map(params![id, unix_ms()], |r| {
        Ok((Secret::new(r.get::<_, String>(0)?), r.get(1)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn view(tx: &Transaction<'_>, id: &str) -> Result<EndpointView> {
    let mut v = tx
        .query_row(
            "SELECT id, url, description, events, active, policy, max_attempts, timeout_ms,
                    standard_webhooks, disabled_reason, created_at, updated_at
             FROM webhook_endpoint WHERE id = ?1",
            [id],
            view_from_row,
        )
        .optional()?
        .ok_or_else(not_found)?;
    v.secret_redacted = current_secret(tx, id)?.redacted();
    v.previous_secret_expires_at = valid_secrets(tx, id)?
        .iter()
        .find_map(|(_, exp)| *exp)
        .map(rfc3339_ms);
    v.warning = check_url(&v.url).ok().and_then(|(_, w)| w);
    Ok(v)
}

fn view_from_row(r: &Row<'_>) -> rusqlite::Result<EndpointView> {
    let events: String = r.get(3)?;
    Ok(EndpointView {
        id: r.get(0)?,
        url: r.get(1)?,
        description: r.get(2)?,
        events: serde_json::from_str(&events).unwrap_or_default(),
        active: r.get(4)?,
        policy: Policy::parse(&r.get::<_, String>(5)?),
        max_attempts: r.get(6)?,
        timeout_ms: r.get(7)?,
        standard_webhooks: r.get(8)?,
        disabled_reason: r.get(9)?,
        secret_redacted: String::new(),
        previous_secret_expires_at: None,
        warning: None,
        created_at: r.get(10)?,
        updated_at: r.get(11)?,
    })
}
