//! An endpoint's rows as the app sees them: the delivery policy, the Add/Edit form, the view,
//! a secret's place in its life, and the limits the checks hold them to.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use specta::Type;

use super::failing::DisabledFor;
use crate::secret::Secret;
use crate::webhooks::events::EventType;

pub const MAX_URL_CHARS: usize = 2048;
pub const DEFAULT_TIMEOUT_MS: u32 = 5_000;
pub const MIN_TIMEOUT_MS: u32 = 1_000;
pub const MAX_TIMEOUT_MS: u32 = 60_000;
pub const MAX_ATTEMPTS: u32 = 10;
/// At-least-once without a number given: five tries spread over minutes.
pub const DEFAULT_AT_LEAST_ONCE_ATTEMPTS: u32 = 5;
/// A rotation's overlap cannot exceed a week: the old secret should not linger.
pub const MAX_OVERLAP: Duration = Duration::from_secs(7 * 24 * 3600);
/// Secrets kept per endpoint once no longer current, newest first, for diagnosing received
/// requests. A previous secret still in its overlap counts: it retires on its own when the
/// overlap ends, so counting it keeps the retired ones at this many at most at any time.
pub const MAX_RETIRED: usize = 5;

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
    /// Made by "Send test events here" for the local receiver: it receives test events only,
    /// and is turned off whenever the receiver stops.
    pub test_only: bool,
    /// Why the app turned the endpoint off (it kept failing, or answered 410 Gone), in words.
    pub disabled_reason: Option<String>,
    /// Why the app turned it off, for the card to act on; `None` while on or paused by a person.
    pub disabled_for: Option<DisabledFor>,
    /// When the app turned it off (RFC 3339).
    pub disabled_at: Option<String>,
    /// When the first attempt of the current run of failures was made (RFC 3339); `None` while
    /// the last attempt succeeded. A success resets it.
    pub failing_since: Option<String>,
    /// While it is on and failing: when the dispatcher turns it off if every attempt keeps
    /// failing (`failing_since` + the workspace's period), for the card's countdown.
    pub disables_at: Option<String>,
    /// Deliveries held while the app has it off for failing: sent when it is turned back on.
    pub held_deliveries: u32,
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

/// Where a signing secret is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Type)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SecretState {
    /// Signed with, and the one Reveal shows.
    Current,
    /// Still signed with, beside the current one, until `expires_at_ms` (unix ms).
    Previous { expires_at_ms: i64 },
    /// Never signed with any more; kept to explain a request signed with it. `retired_at_ms`
    /// is when it stopped being valid: its overlap's end, or the rotation that replaced it.
    Retired { retired_at_ms: i64 },
}

impl SecretState {
    pub(crate) fn of(expires_at: Option<i64>, now: i64) -> Self {
        match expires_at {
            None => Self::Current,
            Some(at) if at > now => Self::Previous { expires_at_ms: at },
            Some(at) => Self::Retired { retired_at_ms: at },
        }
    }
}

/// One secret a received request may be signed with, and whose it is.
#[derive(Debug, Clone)]
pub struct KnownSecret {
    pub endpoint_id: String,
    pub endpoint_url: String,
    pub secret: Secret,
    pub state: SecretState,
}
