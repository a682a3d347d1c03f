//! Segment (HTTP Tracking API): every item of a pass in one `POST /v1/batch` — `identify` for a
//! lead (userId = the lead's ID, its fields as traits), `track` for a conversation event. The
//! `messageId` is the event's ID, so Segment drops a message sent again after a lost answer.
//! Segment refuses a batch over 500 KB or a message over 32 KB; a message that big is failed on
//! its own and the rest split into batches under the limit.

use serde_json::{json, Map, Value};

use super::super::cx::{Cx, Failure};
use super::super::work::{Lead, Work};
use super::shared::{Item, Outcome, Sent};
use crate::webhooks::EventType;

/// Segment's limits, with room for the batch's own framing.
const MAX_MESSAGE: usize = 32 * 1024;
const MAX_BATCH: usize = 500 * 1024 - 1024;

pub(super) async fn deliver(cx: &mut Cx<'_>, items: &[Item]) -> Vec<Outcome> {
    let mut out: Vec<Option<Outcome>> = items.iter().map(|_| None).collect();
    // (index, message, its size) of what goes out.
    let mut ready: Vec<(usize, Value, usize)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match message(item) {
            Err(why) => out[i] = Some(Ok(Sent::Skipped(why))),
            Ok(msg) => {
                let size = serde_json::to_vec(&msg).map_or(usize::MAX, |b| b.len());
                if size > MAX_MESSAGE {
                    out[i] = Some(Err(Failure::Stop(format!(
                        "This message is {} KB; Segment takes at most 32 KB per message.",
                        size / 1024
                    ))));
                } else {
                    ready.push((i, msg, size));
                }
            }
        }
    }
    let mut start = 0;
    while start < ready.len() {
        let mut end = start;
        let mut total = 0;
        while end < ready.len() && total + ready[end].2 < MAX_BATCH {
            total += ready[end].2 + 1;
            end += 1;
        }
        let part = &ready[start..end];
        cx.serving = part
            .iter()
            .map(|(i, _, _)| items[*i].event_id.clone())
            .collect();
        let batch: Vec<&Value> = part.iter().map(|(_, m, _)| m).collect();
        let outcome = cx
            .post("/v1/batch", json!({ "batch": batch }))
            .await
            .map(|_| Sent::Made(None));
        let stop = matches!(outcome, Err(Failure::Wait(..) | Failure::Reconnect(_)));
        for (i, _, _) in part {
            out[*i] = Some(outcome.clone());
        }
        start = end;
        if stop {
            break;
        }
    }
    // From the first untried item on (after a wait or a refused token) they are left out: the
    // worker leaves them waiting, untouched.
    out.into_iter().map_while(|o| o).collect()
}

/// The Segment message of an item, or why there is none.
fn message(item: &Item) -> Result<Value, String> {
    let mut msg = match &item.work {
        Work::Lead(_, lead) => json!({
            "type": "identify",
            "userId": lead.id,
            "traits": traits(lead),
            "timestamp": crate::clock::rfc3339_ms(lead.created_at_ms),
        }),
        Work::Conversation {
            event,
            conversation,
            message,
        } => {
            let name = match (event, message) {
                (EventType::ConversationStarted, _) => "Conversation Started",
                (EventType::ConversationMessage, Some(m)) if m.inbound => "Message Received",
                (EventType::ConversationMessage, _) => "Message Sent",
                (EventType::ConversationRouted, _) => "Conversation Routed",
                (EventType::ConversationClosed, _) => "Conversation Closed",
                _ => return Err("Segment takes no action for this event.".into()),
            };
            let mut properties = json!({
                "conversation_id": conversation.id,
                "agent": conversation.agent,
            });
            if let Some(m) = message {
                properties["message_id"] = json!(m.id);
                properties["text"] = json!(m.text);
            }
            if *event == EventType::ConversationRouted {
                properties["reason"] = json!(conversation.route_reason);
            }
            if *event == EventType::ConversationClosed {
                properties["messages"] = json!(conversation.messages.len());
            }
            let mut msg = json!({ "type": "track", "event": name, "properties": properties });
            // When it happened, where we know it; otherwise Segment's time of receipt.
            match (event, message) {
                (_, Some(m)) => msg["timestamp"] = json!(crate::clock::rfc3339_ms(m.at_ms)),
                (EventType::ConversationStarted, None) => {
                    msg["timestamp"] = json!(crate::clock::rfc3339_ms(conversation.created_at_ms))
                }
                _ => {}
            }
            // The lead's ID ties the conversation to the identified lead; before a lead is
            // captured, the conversation is the anonymous visitor.
            match &conversation.lead_id {
                Some(lead) => msg["userId"] = json!(lead),
                None => msg["anonymousId"] = json!(conversation.id),
            }
            msg
        }
    };
    msg["messageId"] = json!(item.event_id);
    msg["context"] =
        json!({ "library": { "name": "pitchbar", "version": env!("CARGO_PKG_VERSION") } });
    Ok(msg)
}

fn traits(lead: &Lead) -> Map<String, Value> {
    let mut traits = Map::new();
    for (ours, theirs) in [
        ("email", "email"),
        ("name", "name"),
        ("first_name", "firstName"),
        ("last_name", "lastName"),
        ("phone", "phone"),
        ("agent", "agent"),
    ] {
        if let Some(v) = lead.value(ours) {
            traits.insert(theirs.into(), v);
        }
    }
    for (k, v) in &lead.fields {
        if !v.is_null() && !traits.contains_key(k) {
            traits.insert(k.clone(), v.clone());
        }
    }
    if let Some(c) = &lead.conversation_id {
        traits.insert("conversation_id".into(), Value::from(c.clone()));
    }
    traits
}
