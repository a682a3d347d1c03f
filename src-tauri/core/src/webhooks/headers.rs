//! The headers of a signed delivery, the same for the dispatcher and `pitchbar-admin trigger`.

use crate::secret::Secret;
use crate::webhooks::signing::{self, SIGNATURE_HEADER};

/// The event's wire name, so a receiver can route before parsing the body.
pub const EVENT_HEADER: &str = "X-Pitchbar-Event";
/// The per-delivery ULID: the same on every attempt of one delivery, so receivers can dedupe.
pub const DELIVERY_HEADER: &str = "X-Pitchbar-Delivery";
/// The `User-Agent` of webhook deliveries (and of the receiver's forwarding).
pub const USER_AGENT: &str = concat!("Pitchbar-Webhooks/", env!("CARGO_PKG_VERSION"));

/// The headers of one signed delivery, in the order they are sent and logged: the same for the
/// dispatcher and for `pitchbar-admin trigger`, so a receiver tested with one accepts the other.
pub fn delivery_headers(
    event_type: &str,
    delivery_id: &str,
    secrets: &[&Secret],
    timestamp: i64,
    body: &[u8],
) -> Vec<(&'static str, String)> {
    vec![
        ("Content-Type", "application/json".into()),
        ("User-Agent", USER_AGENT.into()),
        (SIGNATURE_HEADER, signing::sign(secrets, timestamp, body)),
        (EVENT_HEADER, event_type.to_owned()),
        (DELIVERY_HEADER, delivery_id.to_owned()),
    ]
}
