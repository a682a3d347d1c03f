//! Google Analytics 4 (Measurement Protocol): each item an event (names as kinds.rs offers
//! them), sent to `/mp/collect` grouped by client, at most 25 events a request. The client ID is
//! the conversation's ID (a lead's, its conversation's; a lead without one, its own ID): Pitchbar
//! never sees the visitor's `_ga` cookie, so a chat counts as one client of its own and a lead and
//! its chat's events stay together. No email, name or phone is sent: Google forbids personal data.
//! Google answers 204 whatever it is sent and has no way to look an event up, so a send whose
//! answer was lost may count twice; `validate` asks the validation server when the
//! configuration is saved.

use serde_json::{json, Value};

use super::super::cx::{Cx, Failure};
use super::super::work::Work;
use super::shared::{Item, Outcome, Sent};
use crate::webhooks::EventType;

/// Google's limit on events in one request.
const MAX_EVENTS: usize = 25;

pub(super) async fn deliver(cx: &mut Cx<'_>, items: &[Item]) -> Vec<Outcome> {
    let mut out: Vec<Option<Outcome>> = items.iter().map(|_| None).collect();
    // client ID → the (index, event) pairs it sends, in the items' order.
    let mut groups: Vec<(String, Vec<(usize, Value)>)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Some((client, event)) = event(item) else {
            out[i] = Some(Ok(Sent::Skipped(
                "Google Analytics takes no action for this event.".into(),
            )));
            continue;
        };
        match groups.iter_mut().find(|(c, _)| *c == client) {
            Some((_, events)) => events.push((i, event)),
            None => groups.push((client, vec![(i, event)])),
        }
    }
    'send: for (client, events) in &groups {
        for part in events.chunks(MAX_EVENTS) {
            cx.serving = part
                .iter()
                .map(|(i, _)| items[*i].event_id.clone())
                .collect();
            let body = json!({
                "client_id": client,
                "events": part.iter().map(|(_, e)| e).collect::<Vec<_>>(),
            });
            let outcome = cx.post("/mp/collect", body).await.map(|_| Sent::Made(None));
            let stop = matches!(outcome, Err(Failure::Wait(..) | Failure::Reconnect(_)));
            for (i, _) in part {
                out[*i] = Some(outcome.clone());
            }
            if stop {
                break 'send;
            }
        }
    }
    // From the first untried item on (after a wait) they are left out: they wait.
    out.into_iter().map_while(|o| o).collect()
}

/// The item's client ID and GA4 event, or `None` when GA4 takes nothing for it.
fn event(item: &Item) -> Option<(String, Value)> {
    match &item.work {
        Work::Lead(EventType::LeadCaptured, lead) => Some((
            lead.conversation_id
                .clone()
                .unwrap_or_else(|| lead.id.clone()),
            json!({
                "name": "generate_lead",
                "params": { "lead_id": lead.id, "agent": short(&lead.agent) },
                "timestamp_micros": lead.created_at_ms * 1000,
            }),
        )),
        Work::Conversation {
            event,
            conversation,
            message,
        } => {
            let name = match event {
                EventType::ConversationStarted => "conversation_started",
                EventType::ConversationMessage => "conversation_message",
                EventType::ConversationRouted => "conversation_routed",
                EventType::ConversationClosed => "conversation_closed",
                _ => return None,
            };
            let mut params = json!({
                "conversation_id": conversation.id,
                "agent": short(&conversation.agent),
            });
            if let Some(m) = message {
                params["direction"] = json!(if m.inbound { "visitor" } else { "agent" });
            }
            if *event == EventType::ConversationClosed {
                params["message_count"] = json!(conversation.messages.len());
            }
            let mut ga = json!({ "name": name, "params": params });
            // When it happened, where we know it; otherwise Google's time of receipt.
            let at = match (event, message) {
                (_, Some(m)) => Some(m.at_ms),
                (EventType::ConversationStarted, None) => Some(conversation.created_at_ms),
                _ => None,
            };
            if let Some(at) = at {
                ga["timestamp_micros"] = json!(at * 1000);
            }
            Some((conversation.id.clone(), ga))
        }
        _ => None,
    }
}

/// GA4 keeps at most 100 characters of a parameter's value.
fn short(s: &str) -> String {
    s.chars().take(100).collect()
}

/// Sends one sample event to Google's validation server (nothing is recorded there) and turns
/// what it finds wrong into the reason the configuration is not saved.
pub(super) async fn validate(cx: &mut Cx<'_>) -> Result<(), Failure> {
    let answer = cx
        .post(
            "/debug/mp/collect",
            json!({
                "client_id": "pitchbar.validation",
                "events": [{ "name": "generate_lead", "params": { "agent": "Pitchbar check" } }],
            }),
        )
        .await?;
    let problems: Vec<String> = answer.body["validationMessages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["description"].as_str().map(str::to_owned))
        .collect();
    if problems.is_empty() {
        return Ok(());
    }
    Err(Failure::Stop(format!(
        "Google Analytics refused a test event: “{}” Check the measurement ID and API secret, then reconnect Google Analytics.",
        problems.join(" ")
    )))
}
