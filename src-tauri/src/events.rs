//! What the shell tells the window, as typed events. Each type here is one event: its name and
//! its payload type go into the TypeScript bindings with the commands (the UI listens with
//! `events.deliveriesChanged.listen(…)`), and [`all`] is the one list of them. The core, which
//! knows nothing of Tauri, announces these on its broadcast channels; `background` and
//! `deep_link` emit them.

use pitchbar_core::destinations::DestinationsChanged;
use pitchbar_core::notify::NotifyChanged;
use pitchbar_core::oauth::Outcome;
use pitchbar_core::outbox::DeliveriesChanged;
use pitchbar_core::receiver::ReceiverChanged;
use pitchbar_core::sources::SourcesChanged;
use serde::Serialize;
use specta::Type;
use tauri_specta::{collect_events, Event, Events};

/// Every event the window can hear, for the builder (mounting and the TypeScript export).
pub fn all() -> Events {
    collect_events![
        DeliveriesChangedEvent,
        ReceiverChangedEvent,
        SourcesChangedEvent,
        NotifyChangedEvent,
        DestinationsChangedEvent,
        OAuthFinishedEvent,
        OAuthNoticeEvent,
        ConnectionsChangedEvent,
        NoticesChangedEvent,
    ]
}

/// After each batch of delivery-log writes: the log and those endpoints' health refetch.
#[derive(Debug, Clone, Serialize, Type, Event)]
#[serde(transparent)]
#[tauri_specta(event_name = "deliveries-changed")]
pub struct DeliveriesChangedEvent(pub DeliveriesChanged);

/// After each batch of receiver writes (new requests, a forward's answer, a clear).
#[derive(Debug, Clone, Serialize, Type, Event)]
#[serde(transparent)]
#[tauri_specta(event_name = "receiver-changed")]
pub struct ReceiverChangedEvent(pub ReceiverChanged);

/// A knowledge source was added, progressed, changed state or was removed.
#[derive(Debug, Clone, Serialize, Type, Event)]
#[serde(transparent)]
#[tauri_specta(event_name = "sources-changed")]
pub struct SourcesChangedEvent(pub SourcesChanged);

/// A notification target's card changed (sent, failed, paused, reply status).
#[derive(Debug, Clone, Serialize, Type, Event)]
#[serde(transparent)]
#[tauri_specta(event_name = "notify-changed")]
pub struct NotifyChangedEvent(pub NotifyChanged);

/// A destination's queue, sync log or configuration changed: its card and log refetch.
#[derive(Debug, Clone, Serialize, Type, Event)]
#[serde(transparent)]
#[tauri_specta(event_name = "destinations-changed")]
pub struct DestinationsChangedEvent(pub DestinationsChanged);

/// A sign-in ended: the connect dialog waiting for it shows how.
#[derive(Debug, Clone, Serialize, Type, Event)]
#[tauri_specta(event_name = "oauth-finished")]
pub struct OAuthFinishedEvent {
    /// The sign-in it ends.
    pub authorization_id: String,
    pub outcome: Outcome,
}

/// Something about OAuth that belongs to no dialog (a callback link that matched no sign-in,
/// secrets moved out of the providers file): shown as a notice, the window not focused.
#[derive(Debug, Clone, Serialize, Type, Event)]
#[tauri_specta(event_name = "oauth-notice")]
pub struct OAuthNoticeEvent {
    pub message: String,
}

/// A connection was added, changed or wound down (a refresh failed, a revocation went through):
/// the Connected tab refetches.
#[derive(Debug, Clone, Serialize, Type, Event)]
#[tauri_specta(event_name = "connections-changed")]
pub struct ConnectionsChangedEvent;

/// New notices were written (the bell refetches); they went to the OS notification centre too.
#[derive(Debug, Clone, Serialize, Type, Event)]
#[tauri_specta(event_name = "notices-changed")]
pub struct NoticesChangedEvent;
