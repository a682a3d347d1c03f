//! What the window sees of destinations and sends back: the configuration, the card's state,
//! the sync log's rows.

use serde::{Deserialize, Serialize};
use specta::Type;

use crate::connections::ConnectionStatus;
use crate::webhooks::EventType;

/// Our lead field → the provider's property.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct FieldMap {
    pub from: String,
    pub to: String,
}

/// An audience, list or group at the provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct Choice {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(default)]
pub struct DestinationOptions {
    /// The audience, list or ticket group picked.
    pub target: Option<Choice>,
    /// Tags added to each contact or ticket.
    pub tags: Vec<String>,
    /// Marketing lists: the lead field whose `true` means the visitor agreed to receive
    /// marketing. `None`: Mailchimp asks the visitor to confirm (double opt-in);
    /// ActiveCampaign adds the contact without subscribing it.
    pub consent_field: Option<String>,
}

/// What the Configure dialog saves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
pub struct DestinationInput {
    pub events: Vec<EventType>,
    pub mapping: Vec<FieldMap>,
    pub options: DestinationOptions,
}

/// An event a destination can follow, and what it makes there.
#[derive(Debug, Clone, PartialEq, Serialize, Type)]
pub struct OfferedEvent {
    pub event: EventType,
    pub makes: String,
}

/// A destination as its card and its Configure dialog show it.
#[derive(Debug, Clone, PartialEq, Serialize, Type)]
pub struct Destination {
    pub provider: String,
    pub name: String,
    pub connection_id: String,
    pub connection_status: ConnectionStatus,
    /// Whether events are being queued for it (connected, and what it needs is picked).
    pub enabled: bool,
    pub events: Vec<EventType>,
    pub offered: Vec<OfferedEvent>,
    pub mapping: Vec<FieldMap>,
    pub options: DestinationOptions,
    pub maps_fields: bool,
    /// What must be picked before anything is sent ("Audience"), if it is not picked yet.
    pub needs: Option<String>,
    /// What the picker picks ("Audience", "Ticket group"), if it has one.
    pub target_label: Option<String>,
    pub consent: bool,
    pub pending: u32,
    pub failed: u32,
    pub last_sync_at: Option<String>,
    /// Set while it keeps failing: since when, and the last failure.
    pub failing_since: Option<String>,
    pub last_error: Option<String>,
}

/// A field of ours that can be mapped.
#[derive(Debug, Clone, PartialEq, Serialize, Type)]
pub struct OurField {
    pub key: String,
    pub label: String,
}

/// A property at the provider that a field can be mapped to.
#[derive(Debug, Clone, PartialEq, Serialize, Type)]
pub struct TheirField {
    pub key: String,
    pub label: String,
    /// The provider refuses a record without it.
    pub required: bool,
}

/// The Configure dialog's lists, read live from the provider.
#[derive(Debug, Clone, PartialEq, Serialize, Type)]
pub struct DestinationFields {
    pub ours: Vec<OurField>,
    pub theirs: Vec<TheirField>,
    pub targets: Vec<Choice>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    Pending,
    Done,
    Failed,
    Skipped,
    Cancelled,
}

impl ItemStatus {
    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "done" => Self::Done,
            "failed" => Self::Failed,
            "skipped" => Self::Skipped,
            "cancelled" => Self::Cancelled,
            _ => Self::Pending,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
            Self::Cancelled => "cancelled",
        }
    }
}

/// One event in a destination's queue, as the sync log lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Type)]
pub struct SyncItem {
    pub event_id: String,
    pub event_type: EventType,
    /// Who or what it is about ("Ada Lovelace <ada@example.com>", "conversation 01J…").
    pub about: String,
    pub status: ItemStatus,
    pub attempts: u32,
    pub next_attempt_at: Option<String>,
    pub last_error: Option<String>,
    pub record_url: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// One call to the provider, with its bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Type)]
pub struct SyncCall {
    pub id: String,
    /// `queue`, `test` (Send a test lead) or `config` (lists, checks).
    pub trigger: String,
    pub method: String,
    pub url: String,
    pub request_body: Option<String>,
    pub status: Option<u16>,
    pub response_headers: Vec<(String, String)>,
    pub response_body: Option<String>,
    /// `network`, `timeout`, `rate_limited`, `refused_token`, `invalid`, `server`.
    pub error_class: Option<String>,
    /// The provider's own words.
    pub message: Option<String>,
    pub duration_ms: u32,
    pub at: String,
}

/// A queue item with every call made for it.
#[derive(Debug, Clone, PartialEq, Serialize, Type)]
pub struct SyncItemDetail {
    pub item: SyncItem,
    pub calls: Vec<SyncCall>,
}

/// What "Send a test lead" got back.
#[derive(Debug, Clone, PartialEq, Serialize, Type)]
pub struct TestLeadResult {
    pub ok: bool,
    /// What happened, in the provider's words when it refused.
    pub message: String,
    pub record_url: Option<String>,
    pub calls: Vec<SyncCall>,
}

/// Pushed after a destination's queue, log or configuration changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type)]
pub struct DestinationsChanged {
    pub providers: Vec<String>,
}
