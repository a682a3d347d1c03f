//! What the providers' files share: the item they are given, what they answer, and the
//! fallbacks several CRMs need.

use serde_json::Value;

use super::super::cx::Failure;
use super::super::work::{Conversation, Lead, Said, Work};

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

/// A stretch of a pass's items: consecutive leads (up to a batch) that go out together, or one
/// other item.
pub(crate) enum Run<'a> {
    Leads(&'a [Item], Vec<&'a Lead>),
    One(&'a Item),
}

/// The items as [`Run`]s, in order.
pub(crate) fn lead_runs(items: &[Item], batch: usize) -> Vec<Run<'_>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < items.len() {
        let n = items[i..]
            .iter()
            .take(batch)
            .take_while(|it| matches!(it.work, Work::Lead(..)))
            .count();
        if n == 0 {
            out.push(Run::One(&items[i]));
            i += 1;
            continue;
        }
        let leads = items[i..i + n]
            .iter()
            .filter_map(|it| match &it.work {
                Work::Lead(_, lead) => Some(lead),
                _ => None,
            })
            .collect();
        out.push(Run::Leads(&items[i..i + n], leads));
        i += n;
    }
    out
}

/// The queue items (event IDs) the next calls are for.
pub(crate) fn event_ids(items: &[Item]) -> Vec<String> {
    items.iter().map(|it| it.event_id.clone()).collect()
}

/// Appends `outcomes`; true when the pass stops there (a rate limit or a refused token: the rest
/// wait, untried).
pub(crate) fn push_until_stop(out: &mut Vec<Outcome>, outcomes: Vec<Outcome>) -> bool {
    let stop = outcomes
        .iter()
        .any(|o| matches!(o, Err(Failure::Wait(..) | Failure::Reconnect(_))));
    out.extend(outcomes);
    stop
}

/// A helpdesk's note for a later message or for the end of the chat: our key for it
/// (`<kind>:message:<id>`, `<kind>:closed:<conversation>`), the marker it carries (so a retry
/// after a lost answer finds it) and its text.
pub(crate) fn helpdesk_note(
    kind: &str,
    conversation: &Conversation,
    message: Option<&Said>,
) -> (String, String, String) {
    match message {
        Some(m) => (
            format!("{kind}:message:{}", m.id),
            format!("[pitchbar:{}]", m.id),
            format!(
                "{}: {}",
                if m.inbound {
                    conversation.visitor()
                } else {
                    conversation.agent.clone()
                },
                m.text
            ),
        ),
        None => (
            format!("{kind}:closed:{}", conversation.id),
            format!("[pitchbar:closed:{}]", conversation.id),
            "The chat ended in Pitchbar. Follow up with the requester if needed.".into(),
        ),
    }
}
