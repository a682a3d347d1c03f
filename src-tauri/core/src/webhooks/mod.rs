//! Outgoing webhooks: the event catalog and its payloads, how deliveries are signed, endpoints,
//! the durable dispatcher and the delivery log, and verification with a diagnosis.

pub mod dispatcher;
pub mod endpoints;
pub mod events;
pub mod log;
pub(crate) mod secrets;
pub mod signing;
pub mod snippets;
pub mod verify;

pub use events::{EventData, EventType, Payload};
pub use signing::{generate_secret, sign, verify, VerifyError};

/// The event's wire name, so a receiver can route before parsing the body.
pub const EVENT_HEADER: &str = "X-Pitchbar-Event";
/// The per-delivery ULID: the same on every attempt of one delivery, so receivers can dedupe.
pub const DELIVERY_HEADER: &str = "X-Pitchbar-Delivery";
