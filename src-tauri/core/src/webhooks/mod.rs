//! Outgoing webhooks: the event catalog and its payloads, how deliveries are signed, endpoints,
//! the dispatcher of the outbox's deliveries and the delivery log, and verification with a diagnosis.

pub mod deliveries;
pub mod dispatcher;
pub mod endpoints;
pub mod events;
mod headers;
pub mod log;
pub(crate) mod secrets;
pub mod signing;
pub mod snippets;
pub mod verify;

pub use events::{EventData, EventType, Payload};
pub use headers::{delivery_headers, DELIVERY_HEADER, EVENT_HEADER, USER_AGENT};
pub use signing::{generate_secret, sign, verify, VerifyError};
