//! What knowledge sources are made of: the provider ids and their API hosts, a source and its
//! kind and status, the picker's items, the change announcement, and ingestion's settings.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use specta::Type;

pub const NOTION: &str = "notion";
pub const GOOGLE_DOCS: &str = "google-docs";

/// The providers' real API hosts. A providers file's `api_base_url` replaces them: for
/// `google-docs` one base serves both the Drive and the Docs paths (`/drive/v3/…`, `/v1/documents/…`).
pub(super) const NOTION_API: &str = "https://api.notion.com";
pub(super) const DRIVE_API: &str = "https://www.googleapis.com";
pub(super) const DOCS_API: &str = "https://docs.googleapis.com";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    Page,
    Database,
    Doc,
}

impl SourceKind {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Page => "page",
            Self::Database => "database",
            Self::Doc => "doc",
        }
    }

    pub(super) fn parse(s: &str) -> Self {
        match s {
            "database" => Self::Database,
            "doc" => Self::Doc,
            _ => Self::Page,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum SourceStatus {
    Queued,
    Ingesting,
    Ready,
    Failed,
}

impl SourceStatus {
    pub(super) fn parse(s: &str) -> Self {
        match s {
            "queued" => Self::Queued,
            "ingesting" => Self::Ingesting,
            "ready" => Self::Ready,
            _ => Self::Failed,
        }
    }
}

/// A source as the Knowledge page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Type)]
pub struct Source {
    pub id: String,
    /// The catalog id: `notion` or `google-docs`.
    pub provider: String,
    pub kind: SourceKind,
    pub external_id: String,
    pub title: String,
    pub url: Option<String>,
    pub status: SourceStatus,
    /// Why the last ingestion failed (what to do is in the message).
    pub status_reason: Option<String>,
    /// Items (blocks, rows, document elements) read so far by the running ingestion.
    pub progress: u32,
    /// RFC 3339; `None` until the first ingestion succeeded.
    pub last_indexed_at: Option<String>,
    /// Bytes of indexed text, as of the last successful ingestion.
    pub size_bytes: u32,
    pub chunk_count: u32,
    /// Its connection was disconnected: still searchable, not reindexable until reconnected.
    pub orphaned: bool,
    pub added_at: String,
}

/// A page, database or document the picker offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
pub struct PickerItem {
    pub external_id: String,
    pub kind: SourceKind,
    pub title: String,
    pub url: Option<String>,
    /// RFC 3339, as the provider reports it.
    pub edited_at: Option<String>,
    /// Already a source: shown checked and disabled.
    pub added: bool,
}

/// One page of the picker; `next_cursor` fetches the next.
#[derive(Debug, Clone, PartialEq, Serialize, Type)]
pub struct PickerPage {
    pub items: Vec<PickerItem>,
    pub next_cursor: Option<String>,
}

/// A source was added, changed state or progress, or was removed: refetch the Knowledge page.
#[derive(Debug, Clone, PartialEq, Serialize, Type)]
pub struct SourcesChanged {
    pub source_id: Option<String>,
}

/// How ingestion talks to providers; [`SourcesConfig::default`] gives the app's settings.
#[derive(Debug, Clone)]
pub struct SourcesConfig {
    /// Timeout of each provider request.
    pub request_timeout: Duration,
    /// Retries of a `429` or a `5xx`: the first delay (a `Retry-After` replaces it), and how many.
    pub retry_min_delay: Duration,
    pub retry_times: usize,
    /// A `Retry-After` longer than this is cut to it.
    pub retry_after_max: Duration,
}

impl Default for SourcesConfig {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            retry_min_delay: Duration::from_secs(1),
            retry_times: 5,
            retry_after_max: Duration::from_secs(60),
        }
    }
}

pub(crate) fn provider_name(provider: &str) -> &'static str {
    match provider {
        NOTION => "Notion",
        GOOGLE_DOCS => "Google Docs",
        _ => "The provider",
    }
}
