//! Destinations: connected CRMs, helpdesks, marketing and analytics tools that follow the
//! workspace's events (HubSpot, Salesforce, Pipedrive, Zendesk, Freshdesk, Mailchimp,
//! ActiveCampaign, Segment, Google Analytics). Each follows the outbox (its queue item written
//! in the event's transaction), is configured here (events, field mapping, audience or group),
//! and keeps a sync log of every call. See docs/destinations.md for each provider's calls.

mod cx;
mod hub;
pub(crate) mod kinds;
mod model;
mod providers;
mod queue;
mod run;
mod work;

use std::sync::Arc;

pub use hub::Hub;
pub use model::{
    Choice, Destination, DestinationFields, DestinationInput, DestinationOptions,
    DestinationsChanged, FieldMap, ItemStatus, OfferedEvent, OurField, SyncCall, SyncItem,
    SyncItemDetail, TestLeadResult, TheirField,
};
pub(crate) use run::{start, Ctx};
pub use run::{DestinationsConfig, Running};

use rusqlite::{params, OptionalExtension};

use crate::audit::{self, Area};
use crate::catalog;
use crate::clock::{rfc3339_ms, unix_ms};
use crate::connections::{self, ConnectionStatus};
use crate::error::{Error, Result};
use crate::oauth::OAuth;
use crate::store::Store;
use crate::webhooks::EventType;
use crate::workspace::Actor;
use cx::{Config, Cx, Failure};
use kinds::Kind;
use providers::{Item, Sent};
use work::{Conversation, Lead, Said, Work};

/// The destinations of the workspace.
pub struct Destinations<'a> {
    pub(crate) store: &'a Arc<Store>,
    pub(crate) oauth: OAuth,
    pub(crate) hub: &'a Hub,
}

fn kind_of(provider: &str) -> Result<&'static Kind> {
    kinds::kind(provider)
        .ok_or_else(|| Error::NotFound(format!("“{provider}” does not send anything anywhere.")))
}

impl Destinations<'_> {
    /// The destinations of connected integrations.
    pub fn list(&self) -> Result<Vec<Destination>> {
        let providers: Vec<String> = {
            let conn = self.store.conn();
            let mut stmt = conn.prepare(
                "SELECT d.provider FROM destination d JOIN integration_connection c ON c.id = d.connection_id
                 WHERE c.status != 'inactive' ORDER BY d.provider",
            )?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        providers.iter().map(|p| self.get(p)).collect()
    }

    pub fn get(&self, provider: &str) -> Result<Destination> {
        let kind = kind_of(provider)?;
        let conn = self.store.conn();
        type RowT = (
            String,
            bool,
            String,
            String,
            String,
            Option<i64>,
            Option<i64>,
            Option<String>,
        );
        let row: Option<RowT> = conn
            .query_row(
                "SELECT connection_id, enabled, events, mapping, options, last_sync_at, failing_since, last_error
                 FROM destination WHERE provider = ?1",
                [provider],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                    ))
                },
            )
            .optional()?;
        let Some((
            connection_id,
            enabled,
            events,
            mapping,
            options,
            last_sync,
            failing,
            last_error,
        )) = row
        else {
            return Err(Error::NotFound(format!(
                "{} is not connected. Connect it first.",
                catalog::display_name(provider)
            )));
        };
        let (pending, failed) = queue::counts(&conn, provider)?;
        drop(conn);
        let connection = connections::get(self.store, &connection_id)?;
        let options: DestinationOptions = serde_json::from_str(&options).unwrap_or_default();
        let needs = kind
            .needs_target
            .filter(|_| options.target.is_none())
            .map(str::to_owned);
        let events: Vec<String> = serde_json::from_str(&events).unwrap_or_default();
        Ok(Destination {
            provider: provider.to_owned(),
            name: catalog::display_name(provider),
            connection_id,
            connection_status: connection.status,
            enabled: enabled && connection.status == ConnectionStatus::Active,
            events: events.iter().filter_map(|e| e.parse().ok()).collect(),
            offered: kind
                .offered
                .iter()
                .map(|(event, makes)| OfferedEvent {
                    event: *event,
                    makes: (*makes).to_owned(),
                })
                .collect(),
            mapping: serde_json::from_str(&mapping).unwrap_or_default(),
            options,
            maps_fields: kind.maps_fields,
            needs,
            target_label: kind.target_label.map(str::to_owned),
            consent: kind.consent,
            pending,
            failed,
            last_sync_at: last_sync.map(rfc3339_ms),
            failing_since: failing.map(rfc3339_ms),
            last_error: failing.and(last_error),
        })
    }

    /// Opens the destination's client with its saved configuration (or `config`).
    async fn open(&self, provider: &str, config: Option<Config>) -> Result<Cx<'_>> {
        let d = self.get(provider)?;
        let config = config.unwrap_or(Config {
            mapping: d.mapping,
            options: d.options,
        });
        providers::open(
            self.store,
            &self.hub.call_times,
            &self.oauth,
            provider,
            &d.connection_id,
            config,
        )
        .await
    }

    /// The Configure dialog's lists: our fields, the provider's properties and what can be
    /// picked, read live from the provider.
    pub async fn fields(&self, provider: &str) -> Result<DestinationFields> {
        let ours = work::our_fields(&self.store.conn())?;
        let mut cx = self.open(provider, None).await?;
        let theirs = providers::their_fields(&mut cx).await.map_err(upstream)?;
        let targets = providers::targets(&mut cx).await.map_err(upstream)?;
        Ok(DestinationFields {
            ours,
            theirs,
            targets,
        })
    }

    /// Saves the configuration, checked against the provider's live properties and lists: a
    /// property that no longer exists, a required one left unmapped, an audience that is gone
    /// are refused, naming what to change. Nothing is saved unless all is right.
    pub async fn save(
        &self,
        actor: &Actor,
        provider: &str,
        input: DestinationInput,
    ) -> Result<Destination> {
        actor.require_manage()?;
        let kind = kind_of(provider)?;
        let name = catalog::display_name(provider);
        let mut events: Vec<EventType> = Vec::new();
        for e in &input.events {
            if !kind.offered.iter().any(|(o, _)| o == e) {
                return Err(Error::invalid(format!(
                    "{name} does nothing with {e}. Pick among the events listed."
                )));
            }
            if !events.contains(e) {
                events.push(*e);
            }
        }
        let ours = work::our_fields(&self.store.conn())?;
        let known_field = |key: &str| ours.iter().any(|o| o.key == key);
        let mut mapping: Vec<FieldMap> = Vec::new();
        for m in &input.mapping {
            let (from, to) = (m.from.trim(), m.to.trim());
            if from.is_empty() || to.is_empty() {
                continue;
            }
            if !known_field(from) {
                return Err(Error::invalid(format!(
                    "There is no lead field “{from}” any more. Remove it from the mapping."
                )));
            }
            if mapping.iter().any(|x| x.to == to) {
                return Err(Error::invalid(format!(
                    "Two fields are mapped to {name}'s “{to}”. Map each property once."
                )));
            }
            mapping.push(FieldMap {
                from: from.to_owned(),
                to: to.to_owned(),
            });
        }
        if !kind.maps_fields && !mapping.is_empty() {
            return Err(Error::invalid(format!("{name} takes no field mapping.")));
        }
        if let Some(field) = &input.options.consent_field {
            if !kind.consent {
                return Err(Error::invalid(format!("{name} takes no consent field.")));
            }
            if !known_field(field) {
                return Err(Error::invalid(format!(
                    "There is no lead field “{field}” for consent. Pick another."
                )));
            }
        }
        let options = DestinationOptions {
            target: input.options.target.clone(),
            tags: input
                .options
                .tags
                .iter()
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .collect(),
            consent_field: input.options.consent_field.clone(),
        };
        if kind.needs_target.is_some() && options.target.is_none() {
            return Err(Error::invalid(format!(
                "Pick the {} that leads are added to.",
                kind.needs_target.unwrap_or("list").to_lowercase()
            )));
        }

        // Checked against what the provider has now.
        let config = Config {
            mapping: mapping.clone(),
            options: options.clone(),
        };
        let mut cx = self.open(provider, Some(config)).await?;
        if kind.maps_fields {
            let theirs = providers::their_fields(&mut cx).await.map_err(upstream)?;
            for m in &mapping {
                if !theirs.iter().any(|t| t.key == m.to) {
                    return Err(Error::invalid(format!(
                        "{name} has no property “{}” (it may have been deleted there). Map “{}” to another property.",
                        m.to, m.from
                    )));
                }
            }
            for t in theirs.iter().filter(|t| t.required) {
                if !mapping.iter().any(|m| m.to == t.key) {
                    return Err(Error::invalid(format!(
                        "{name} requires “{}” on every record. Map a lead field to it.",
                        t.label
                    )));
                }
            }
        }
        if let Some(target) = &options.target {
            let targets = providers::targets(&mut cx).await.map_err(upstream)?;
            if !targets.iter().any(|t| t.id == target.id) {
                return Err(Error::invalid(format!(
                    "“{}” no longer exists in {name}. Pick another.",
                    target.name
                )));
            }
        }
        providers::check_saved(&mut cx).await.map_err(upstream)?;
        drop(cx);

        let now = unix_ms();
        let events_json: Vec<&str> = events.iter().map(|e| e.as_str()).collect();
        self.store.write(|tx| {
            tx.execute(
                "UPDATE destination SET events = ?2, mapping = ?3, options = ?4, updated_at = ?5,
                     enabled = (SELECT c.status = 'active' FROM integration_connection c WHERE c.id = destination.connection_id)
                 WHERE provider = ?1",
                params![
                    provider,
                    serde_json::to_string(&events_json).unwrap_or_default(),
                    serde_json::to_string(&mapping).unwrap_or_default(),
                    serde_json::to_string(&options).unwrap_or_default(),
                    now
                ],
            )?;
            audit::record(
                tx,
                actor,
                Area::Destinations,
                "destination.configured",
                &name,
                format!(
                    "Configured {name}: {}; {} mapped fields.",
                    if events_json.is_empty() {
                        "no events".to_string()
                    } else {
                        events_json.join(", ")
                    },
                    mapping.len()
                ),
            )
        })?;
        tracing::info!(provider, "destination configured");
        self.hub.changed(provider);
        self.hub.wake.notify_one();
        self.get(provider)
    }

    /// Sends a sample lead (or, to a helpdesk, a sample routed conversation) with the saved
    /// configuration now, and returns the provider's answer. The calls go to the sync log.
    pub async fn send_test_lead(&self, actor: &Actor, provider: &str) -> Result<TestLeadResult> {
        actor.require_manage()?;
        let kind = kind_of(provider)?;
        let now = unix_ms();
        let work = if kind
            .offered
            .iter()
            .any(|(e, _)| *e == EventType::LeadCaptured)
        {
            Work::Lead(EventType::LeadCaptured, Lead::sample(now))
        } else {
            Work::Conversation {
                event: EventType::ConversationRouted,
                conversation: sample_conversation(now),
                message: None,
            }
        };
        let mut cx = self.open(provider, None).await?;
        let item = Item {
            event_id: format!("test-{}", crate::ids::new_id()),
            work,
        };
        let outcome = providers::deliver(&mut cx, std::slice::from_ref(&item))
            .await
            .pop()
            .unwrap_or_else(|| Err(Failure::Retry("Nothing was sent.".into())));
        let mut calls = std::mem::take(&mut cx.calls);
        drop(cx);
        for c in &mut calls {
            c.items.clear();
        }
        let name = catalog::display_name(provider);
        let (ok, message, record_url) = match outcome {
            Ok(Sent::Made(url)) => (true, format!("{name} accepted the test."), url),
            Ok(Sent::Skipped(why)) => (false, why, None),
            Err(f) => (false, f.message().to_owned(), None),
        };
        self.store.write(|tx| {
            queue::write_calls(tx, provider, "test", &calls)?;
            audit::record(
                tx,
                actor,
                Area::Destinations,
                "destination.test_sent",
                &name,
                format!(
                    "Sent a test to {name}: {}",
                    if ok { "accepted." } else { "refused." }
                ),
            )
        })?;
        self.hub.changed(provider);
        Ok(TestLeadResult {
            ok,
            message,
            record_url,
            calls: calls.iter().map(|c| queue::call_view(c, "test")).collect(),
        })
    }

    /// The destination's sync log: its queue items, newest first.
    pub fn items(
        &self,
        provider: &str,
        status: Option<ItemStatus>,
        limit: u32,
    ) -> Result<Vec<SyncItem>> {
        kind_of(provider)?;
        queue::items(&self.store.conn(), provider, status, limit.clamp(1, 500))
    }

    /// One item with every call made for it.
    pub fn item(&self, provider: &str, event_id: &str) -> Result<SyncItemDetail> {
        let conn = self.store.conn();
        Ok(SyncItemDetail {
            item: queue::item(&conn, provider, event_id)?,
            calls: queue::calls_of(&conn, provider, event_id)?,
        })
    }

    /// The calls of "Send a test lead", newest first.
    pub fn test_calls(&self, provider: &str, limit: u32) -> Result<Vec<SyncCall>> {
        kind_of(provider)?;
        let mut calls = queue::test_calls(&self.store.conn(), provider, limit.clamp(1, 200))?;
        calls.reverse();
        Ok(calls)
    }

    /// Sends a failed (or cancelled) item again now.
    pub fn retry(&self, actor: &Actor, provider: &str, event_id: &str) -> Result<SyncItem> {
        actor.require_manage()?;
        let n = self.store.write(|tx| {
            let n = queue::retry(tx, provider, Some(event_id), unix_ms())?;
            if n > 0 {
                let name = catalog::display_name(provider);
                audit::record(
                    tx,
                    actor,
                    Area::Destinations,
                    "destination.retried",
                    &name,
                    format!("Retried one {name} item ({event_id})."),
                )?;
            }
            Ok(n)
        })?;
        if n == 0 {
            return Err(Error::Conflict(
                "Only a failed or cancelled item can be retried; this one is not.".into(),
            ));
        }
        self.hub.changed(provider);
        self.hub.wake.notify_one();
        queue::item(&self.store.conn(), provider, event_id)
    }

    /// Sends every failed item again. Returns how many.
    pub fn retry_failed(&self, actor: &Actor, provider: &str) -> Result<u32> {
        actor.require_manage()?;
        kind_of(provider)?;
        let n = self.store.write(|tx| {
            let n = queue::retry(tx, provider, None, unix_ms())?;
            let name = catalog::display_name(provider);
            audit::record(
                tx,
                actor,
                Area::Destinations,
                "destination.retried",
                &name,
                format!("Retried all failed {name} items ({n})."),
            )?;
            Ok(n)
        })?;
        self.hub.changed(provider);
        self.hub.wake.notify_one();
        Ok(n)
    }

    /// `url` if it is a record a destination made or updated (so the window opens only those).
    pub fn record_link(&self, url: &str) -> Result<String> {
        let known: bool = self.store.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM destination_item WHERE record_url = ?1)
                 OR EXISTS (SELECT 1 FROM destination_object WHERE url = ?1)",
            [url],
            |r| r.get(0),
        )?;
        let web = url.starts_with("https://") || url.starts_with("http://");
        if !known || !web {
            return Err(Error::NotFound(
                "This is not a record Pitchbar made; it is not opened.".into(),
            ));
        }
        Ok(url.to_owned())
    }

    /// How many items wait for the connection's destination: what disconnecting would cancel.
    pub fn pending_for_connection(&self, connection_id: &str) -> Result<u32> {
        kinds::pending_for_connection(&self.store.conn(), connection_id)
    }
}

fn upstream(f: Failure) -> Error {
    match f {
        Failure::Reconnect(m) => Error::Conflict(m),
        other => Error::Upstream(other.message().to_owned()),
    }
}

fn sample_conversation(now: i64) -> Conversation {
    Conversation {
        id: format!("test-{}", crate::ids::new_id()),
        agent: "Test agent".into(),
        visitor_name: Some("Alex Rivera (test)".into()),
        visitor_email: Some("alex.rivera.test@example.com".into()),
        visitor_phone: None,
        route_reason: Some("A test from Pitchbar Admin: the visitor asked for a human.".into()),
        messages: vec![Said {
            id: crate::ids::new_id(),
            inbound: true,
            text: "Hi! Can someone from your team help me with a quote?".into(),
            at_ms: now,
        }],
        created_at_ms: now,
        lead_id: None,
    }
}
