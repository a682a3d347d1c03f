//! What the providers' files share: the item they are given, what they answer, and the
//! fallbacks several CRMs need.

use serde_json::Value;

use super::super::cx::Failure;
use super::super::work::{Lead, Work};

/// One queue item to send.
pub(crate) struct Item {
    pub event_id: String,
    pub work: Work,
}

/// What became of an item that did not fail.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Sent {
    /// Sent; the record it made or updated, to open at the provider.
    Made(Option<String>),
    /// Nothing to send, and why (a note for a conversation without a lead).
    Skipped(String),
}

pub(crate) type Outcome = Result<Sent, Failure>;

/// The last name for a CRM that insists on one: the lead's last name, else the part of the
/// email before the @, else "Visitor".
pub(crate) fn last_name_or_fallback(lead: &Lead) -> String {
    lead.split_name()
        .1
        .or_else(|| {
            lead.email
                .as_deref()
                .and_then(|e| e.split('@').next())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "Visitor".into())
}

/// An item the provider cannot take without a lead (a CRM note needs the contact).
pub(crate) fn no_lead() -> Sent {
    Sent::Skipped(
        "No lead was captured in this conversation, so there is no contact to attach it to.".into(),
    )
}

/// A consent field's value read as yes: `true`, or the text "true", "yes" or "1".
pub(crate) fn consented(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        Some(Value::String(s)) => matches!(s.trim().to_lowercase().as_str(), "true" | "yes" | "1"),
        _ => false,
    }
}
