//! Knowledge sources: Notion pages and databases and Google Docs picked by the user, ingested
//! into a full-text index by background jobs, reindexed by hand (nothing polls a provider), and
//! kept searchable when their connection is disconnected ("orphaned").

mod api;
mod google;
mod hub;
mod index;
mod jobs;
mod model;
mod notion;

use std::sync::Arc;

use rusqlite::{params, OptionalExtension, Row};

use crate::audit::{self, Area};
use crate::connections::{self, ConnectionStatus};
use crate::error::{Error, Result};
use crate::oauth::OAuth;
use crate::store::Store;
use crate::workspace::Actor;

pub use hub::Hub;
pub use index::{SearchHit, SnippetPart};
pub(crate) use jobs::start;
pub use jobs::Running;
pub(crate) use model::provider_name;
pub use model::{
    PickerItem, PickerPage, Source, SourceKind, SourceStatus, SourcesChanged, SourcesConfig,
    GOOGLE_DOCS, NOTION,
};

const SELECT: &str = "SELECT s.id, s.provider, s.kind, s.external_id, s.title, s.url, s.status,
        s.status_reason, s.progress, s.last_indexed_at, s.size_bytes, s.chunk_count,
        c.status, s.added_at
     FROM knowledge_source s JOIN integration_connection c ON c.id = s.connection_id";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Source> {
    let connection: String = r.get(12)?;
    Ok(Source {
        id: r.get(0)?,
        provider: r.get(1)?,
        kind: SourceKind::parse(&r.get::<_, String>(2)?),
        external_id: r.get(3)?,
        title: r.get(4)?,
        url: r.get(5)?,
        status: SourceStatus::parse(&r.get::<_, String>(6)?),
        status_reason: r.get(7)?,
        progress: r.get(8)?,
        last_indexed_at: r.get(9)?,
        size_bytes: r.get(10)?,
        chunk_count: r.get(11)?,
        orphaned: is_orphaning(&connection),
        added_at: r.get(13)?,
    })
}

/// Disconnected (or being wound down): the sources stay, their provider can no longer be read.
fn is_orphaning(connection_status: &str) -> bool {
    matches!(connection_status, "inactive" | "revocation_pending")
}

/// The knowledge sources service.
pub struct Sources<'a> {
    pub(crate) store: &'a Arc<Store>,
    pub(crate) hub: &'a Arc<Hub>,
    pub(crate) oauth: OAuth,
    pub(crate) config: SourcesConfig,
}

impl Sources<'_> {
    /// Every source, newest first. Sources of a provider that was reconnected under another
    /// connection are re-bound to it first.
    pub fn list(&self) -> Result<Vec<Source>> {
        self.rebind_orphans()?;
        let conn = self.store.conn();
        let mut stmt = conn.prepare(&format!("{SELECT} ORDER BY s.rowid DESC"))?;
        let rows = stmt.query_map([], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn get(&self, id: &str) -> Result<Source> {
        get(self.store, id)
    }

    /// The source's page in its provider's web app, for the system browser: only an https link
    /// to the provider's own site (the address came from its API, and the browser must not be
    /// sent anywhere else).
    pub fn link(&self, id: &str) -> Result<String> {
        let source = get(self.store, id)?;
        let name = provider_name(&source.provider);
        let hosts: &[&str] = match source.provider.as_str() {
            NOTION => &["notion.so", "www.notion.so"],
            _ => &["docs.google.com", "drive.google.com"],
        };
        let url = source
            .url
            .as_deref()
            .and_then(|u| url::Url::parse(u).ok())
            .filter(|u| u.scheme() == "https" && u.host_str().is_some_and(|h| hosts.contains(&h)))
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "{name} gave no link to “{}”. Open it from {name} itself.",
                    source.title
                ))
            })?;
        Ok(url.into())
    }

    /// A page of the provider's pages and databases (Notion) or documents (Google Docs) whose
    /// title matches `query`, for the Add source picker.
    pub async fn browse(
        &self,
        actor: &Actor,
        provider: &str,
        query: &str,
        cursor: Option<&str>,
    ) -> Result<PickerPage> {
        actor.require_manage()?;
        let connection = active_connection(self.store, provider)?;
        let api = api::Api::open(&self.oauth, &connection, &self.config).await?;
        let mut page = match provider {
            NOTION => notion::browse(&api, query.trim(), cursor).await?,
            _ => google::browse(&api, query.trim(), cursor).await?,
        };
        let conn = self.store.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT 1 FROM knowledge_source WHERE provider = ?1 AND external_id = ?2",
        )?;
        for item in &mut page.items {
            item.added = stmt.exists(params![provider, item.external_id])?;
        }
        Ok(page)
    }

    /// Adds the picked items as sources and queues their ingestion. Items already added are
    /// left as they are; the new sources are returned.
    pub fn add(&self, actor: &Actor, provider: &str, items: &[PickerItem]) -> Result<Vec<Source>> {
        actor.require_manage()?;
        if items.is_empty() {
            return Err(Error::invalid("Pick at least one item to add."));
        }
        let connection = active_connection(self.store, provider)?;
        for item in items {
            let fits = match provider {
                NOTION => matches!(item.kind, SourceKind::Page | SourceKind::Database),
                _ => item.kind == SourceKind::Doc,
            };
            let id_ok = match provider {
                NOTION => notion::check_id(&item.external_id).is_ok(),
                _ => google::check_id(&item.external_id).is_ok(),
            };
            if !fits || !id_ok {
                return Err(Error::invalid(format!(
                    "“{}” is not a {} item. Pick it again from the list.",
                    item.title,
                    provider_name(provider)
                )));
            }
        }
        let now = crate::clock::now_rfc3339();
        let ids = self.store.write(|tx| {
            let mut ids = Vec::new();
            for item in items {
                let id = crate::ids::new_id();
                let title = if item.title.trim().is_empty() {
                    "Untitled".to_string()
                } else {
                    item.title.trim().to_string()
                };
                let added = tx.execute(
                    "INSERT INTO knowledge_source (id, provider, external_id, kind, title, url,
                         connection_id, status, added_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'queued', ?8)
                     ON CONFLICT (provider, external_id) DO NOTHING",
                    params![
                        id,
                        provider,
                        item.external_id.trim(),
                        item.kind.as_str(),
                        title,
                        item.url,
                        connection.id,
                        now
                    ],
                )?;
                if added == 1 {
                    ids.push(id);
                    audit::record(
                        tx,
                        actor,
                        Area::Knowledge,
                        "source.added",
                        &title,
                        format!(
                            "Added “{title}” from {} as a knowledge source.",
                            provider_name(provider)
                        ),
                    )?;
                }
            }
            Ok(ids)
        })?;
        self.hub.wake.notify_one();
        self.hub.publish(None);
        ids.iter().map(|id| get(self.store, id)).collect()
    }

    /// Queues a fresh ingestion of the source. Its indexed text stays searchable until the new
    /// text has been read in full, and stays as it was if that fails.
    pub fn reindex(&self, actor: &Actor, id: &str) -> Result<Source> {
        actor.require_manage()?;
        self.rebind_orphans()?;
        let source = get(self.store, id)?;
        if source.orphaned {
            let name = provider_name(&source.provider);
            return Err(Error::Conflict(format!(
                "{name} is disconnected, so “{}” cannot be reindexed. Its indexed content stays searchable; reconnect {name} to reindex it.",
                source.title
            )));
        }
        // A connection the provider refused says so now, rather than after a queued attempt.
        active_connection(self.store, &source.provider)?;
        if matches!(
            source.status,
            SourceStatus::Queued | SourceStatus::Ingesting
        ) {
            return Ok(source);
        }
        self.store.write(|tx| {
            tx.execute(
                "UPDATE knowledge_source SET status = 'queued', status_reason = NULL, progress = 0
                 WHERE id = ?1",
                [id],
            )?;
            audit::record(
                tx,
                actor,
                Area::Knowledge,
                "source.reindexed",
                &source.title,
                format!("Reindexed “{}”.", source.title),
            )
        })?;
        self.hub.wake.notify_one();
        self.hub.publish(Some(id));
        get(self.store, id)
    }

    /// Removes the source and everything indexed from it. An ingestion in flight stops.
    pub fn remove(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.require_manage()?;
        let removed = self.store.write(|tx| {
            let title: Option<String> = tx
                .query_row(
                    "SELECT title FROM knowledge_source WHERE id = ?1",
                    [id],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(title) = title else { return Ok(0) };
            tx.execute("DELETE FROM knowledge_chunk WHERE source_id = ?1", [id])?;
            tx.execute("DELETE FROM knowledge_source WHERE id = ?1", [id])?;
            audit::record(
                tx,
                actor,
                Area::Knowledge,
                "source.removed",
                &title,
                format!("Removed the knowledge source “{title}” and its indexed text."),
            )?;
            Ok(1)
        })?;
        if removed == 0 {
            return Err(Error::NotFound(
                "This source was already removed. Refresh the list.".into(),
            ));
        }
        self.hub.publish(Some(id));
        Ok(())
    }

    /// The best-matching passages for `query` (any text: it is searched as words, the last
    /// one as a prefix), with highlighted snippets and their source.
    pub fn search(&self, query: &str, limit: u32) -> Result<Vec<SearchHit>> {
        index::search(&self.store.conn(), query, limit.clamp(1, 100))
    }

    /// Sources whose connection is gone while their provider has an active connection again
    /// move to it (reconnecting normally re-binds the same connection; this covers a new one).
    fn rebind_orphans(&self) -> Result<()> {
        self.store.conn().execute(
            "UPDATE knowledge_source SET connection_id = (
                 SELECT a.id FROM integration_connection a
                 WHERE a.provider = knowledge_source.provider AND a.status = 'active'
                 ORDER BY a.connected_at DESC LIMIT 1)
             WHERE connection_id IN (
                 SELECT id FROM integration_connection WHERE status IN ('inactive', 'revocation_pending'))
               AND EXISTS (
                 SELECT 1 FROM integration_connection a
                 WHERE a.provider = knowledge_source.provider AND a.status = 'active')",
            [],
        )?;
        Ok(())
    }
}

fn get(store: &Store, id: &str) -> Result<Source> {
    store
        .conn()
        .query_row(&format!("{SELECT} WHERE s.id = ?1"), [id], from_row)
        .optional()?
        .ok_or_else(|| Error::NotFound("This source no longer exists. Refresh the list.".into()))
}

/// The provider's active connection, or a message saying to connect it.
fn active_connection(store: &Store, provider: &str) -> Result<connections::Connection> {
    if provider != NOTION && provider != GOOGLE_DOCS {
        return Err(Error::invalid(format!(
            "Knowledge sources come from Notion or Google Docs, not “{provider}”."
        )));
    }
    let name = provider_name(provider);
    match connections::latest_for_provider(store, provider)? {
        Some(c) if c.status == ConnectionStatus::Active => Ok(c),
        Some(c) if c.status == ConnectionStatus::NeedsReauth => {
            Err(Error::Conflict(c.status_detail.unwrap_or_else(|| {
                format!("{name} needs to be reconnected.")
            })))
        }
        _ => Err(Error::Conflict(format!(
            "{name} is not connected. Connect it under Integrations → Available, then add sources."
        ))),
    }
}
