//! The ingestion worker: takes queued sources one at a time, reads them in full from their
//! provider, and only then replaces their indexed text in one transaction (a failed reindex
//! leaves the old text searchable). Progress is announced as it goes; sources that were being
//! read when the app quit are queued again at start.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::{params, OptionalExtension};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::api::Api;
use super::hub::Hub;
use super::model::{provider_name, SourceKind, SourcesConfig};
use super::{google, index, notion};
use crate::connections::{self, ConnectionStatus};
use crate::error::{Error, Result};
use crate::notices::{self, NoticeKind};
use crate::oauth::OAuth;
use crate::store::Store;

/// Progress is written and announced at most this often.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// The running worker; [`Running::stop`] ends it.
pub struct Running {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl crate::service::Service for Running {
    const NAME: &'static str = "sources worker";

    /// Stops the worker. An ingestion in flight is abandoned and queued again for the next start.
    async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

struct Worker {
    store: Arc<Store>,
    hub: Arc<Hub>,
    oauth: OAuth,
    config: SourcesConfig,
}

pub(crate) fn start(
    store: Arc<Store>,
    hub: Arc<Hub>,
    oauth: OAuth,
    config: SourcesConfig,
) -> Result<Running> {
    // Read when the app last quit: read again from the start.
    store.conn().execute(
        "UPDATE knowledge_source SET status = 'queued', progress = 0 WHERE status = 'ingesting'",
        [],
    )?;
    let (stop, mut stopped) = watch::channel(false);
    let worker = Worker {
        store,
        hub,
        oauth,
        config,
    };
    let task = tokio::spawn(async move {
        loop {
            let next = match worker.next_queued() {
                Ok(next) => next,
                Err(err) => {
                    tracing::error!(error = %err, "cannot read the ingestion queue");
                    None
                }
            };
            match next {
                Some(id) => {
                    tokio::select! {
                        _ = stopped.changed() => {
                            worker.requeue(&id);
                            break;
                        }
                        () = worker.ingest(&id) => {}
                    }
                }
                None => {
                    tokio::select! {
                        _ = stopped.changed() => break,
                        () = worker.hub.wake.notified() => {}
                    }
                }
            }
        }
    });
    Ok(Running { stop, task })
}

impl Worker {
    /// The oldest queued source: in the order they were added (rowid; ULIDs made within one
    /// millisecond are not ordered).
    fn next_queued(&self) -> Result<Option<String>> {
        Ok(self
            .store
            .conn()
            .query_row(
                "SELECT id FROM knowledge_source WHERE status = 'queued'
                 ORDER BY rowid LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn requeue(&self, id: &str) {
        let _ = self.store.conn().execute(
            "UPDATE knowledge_source SET status = 'queued', progress = 0
             WHERE id = ?1 AND status = 'ingesting'",
            [id],
        );
    }

    async fn ingest(&self, id: &str) {
        let claimed = self.store.conn().execute(
            "UPDATE knowledge_source SET status = 'ingesting', progress = 0, status_reason = NULL
             WHERE id = ?1 AND status = 'queued'",
            [id],
        );
        if !matches!(claimed, Ok(1)) {
            return;
        }
        self.hub.publish(Some(id));
        let outcome = self.read_and_index(id).await;
        if let Err(err) = outcome {
            tracing::info!(source = id, error = %err, "ingestion failed");
            let failed = self.store.write(|tx| {
                let title: Option<String> = tx
                    .query_row(
                        "UPDATE knowledge_source SET status = 'failed', status_reason = ?2
                         WHERE id = ?1 AND status = 'ingesting' RETURNING title",
                        params![id, err.to_string()],
                        |r| r.get(0),
                    )
                    .optional()?;
                if let Some(title) = title {
                    notices::raise(
                        tx,
                        NoticeKind::SourceFailing,
                        id,
                        "A knowledge source could not be read",
                        &format!("“{title}”: {}", err.to_string().trim_end_matches('.')),
                        "knowledge",
                    )?;
                }
                Ok(())
            });
            if let Err(err) = failed {
                tracing::warn!(source = id, error = %err, "the failed source could not be marked");
            }
        }
        self.hub.publish(Some(id));
    }

    async fn read_and_index(&self, id: &str) -> Result<()> {
        let (provider, kind, external_id, connection_id): (String, String, String, String) = self
            .store
            .conn()
            .query_row(
                "SELECT provider, kind, external_id, connection_id FROM knowledge_source
                     WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?
            .ok_or_else(|| Error::NotFound("The source was removed.".into()))?;
        let connection = connections::get(&self.store, &connection_id)?;
        if matches!(
            connection.status,
            ConnectionStatus::Inactive | ConnectionStatus::RevocationPending
        ) {
            let name = provider_name(&provider);
            return Err(Error::Conflict(format!(
                "{name} was disconnected before this source was read. Reconnect {name}, then reindex it."
            )));
        }
        let api = Api::open(&self.oauth, &connection, &self.config).await?;

        let store = self.store.clone();
        let hub = self.hub.clone();
        let source_id = id.to_string();
        let mut last = Instant::now();
        let mut progress = move |items: u32| {
            if last.elapsed() >= PROGRESS_EVERY {
                last = Instant::now();
                let _ = store.conn().execute(
                    "UPDATE knowledge_source SET progress = ?2 WHERE id = ?1",
                    params![source_id, items],
                );
                hub.publish(Some(&source_id));
            }
        };
        let kind = SourceKind::parse(&kind);
        let (title, text) = match kind {
            SourceKind::Doc => google::read(&api, &external_id, &mut progress).await?,
            _ => notion::read(&api, kind, &external_id, &mut progress).await?,
        };

        let now = crate::clock::now_rfc3339();
        self.store.write(|tx| {
            // Removed while it was read: nothing to keep.
            let still: bool = tx
                .query_row(
                    "SELECT 1 FROM knowledge_source WHERE id = ?1 AND status = 'ingesting'",
                    [id],
                    |_| Ok(true),
                )
                .optional()?
                .unwrap_or(false);
            if !still {
                return Ok(());
            }
            index::replace(tx, id, &text)?;
            tx.execute(
                "UPDATE knowledge_source SET status = 'ready', status_reason = NULL, title = ?2,
                     last_indexed_at = ?3, size_bytes = ?4, chunk_count = ?5
                 WHERE id = ?1",
                params![
                    id,
                    title,
                    now,
                    u32::try_from(text.bytes()).unwrap_or(u32::MAX),
                    u32::try_from(text.chunk_count()).unwrap_or(u32::MAX)
                ],
            )?;
            Ok(())
        })
    }
}
