//! Zendesk Support: a routed conversation becomes a ticket (the visitor as requester, the
//! transcript as its description, the route reason in its subject); later messages and the
//! end of the chat become internal notes on it. The ticket's status is left to the agents: a
//! chat ending does not mean the visitor's problem is solved.

use serde_json::json;

use super::super::cx::{store_failure, Cx, Failure, Known};
use super::super::model::Choice;
use super::super::work::{Conversation, Work};
use super::shared::{helpdesk_note, Item, Outcome, Sent};
use crate::webhooks::EventType;

pub(super) async fn one(cx: &mut Cx<'_>, item: &Item) -> Outcome {
    let Work::Conversation {
        event,
        conversation,
        message,
    } = &item.work
    else {
        return Ok(Sent::Skipped("Zendesk takes no action for leads.".into()));
    };
    match event {
        EventType::ConversationRouted => {
            let (_, url) = create_ticket(cx, conversation).await?;
            Ok(Sent::Made(url))
        }
        EventType::ConversationMessage | EventType::ConversationClosed => {
            let Some((ticket, url)) = ticket(cx, &conversation.id).await? else {
                return Ok(Sent::Skipped(
                    "This conversation was not routed to a human, so it has no ticket.".into(),
                ));
            };
            let (key, marker, text) = helpdesk_note("comment", conversation, message.as_ref());
            let body = format!("{text}\n\n{marker}");
            let found = match cx.begin(&key)? {
                Known::Made(id, _) => Some(id),
                Known::Maybe => find_comment(cx, &ticket, &marker).await?,
                Known::New => None,
            };
            let id = match found {
                Some(id) => id,
                None => {
                    let answer = cx
                        .call(
                            reqwest::Method::PUT,
                            &format!("/api/v2/tickets/{ticket}"),
                            Some(json!({"ticket": {"comment": {"body": body, "public": false}}})),
                        )
                        .await?;
                    id_text(&answer.body["audit"]["id"]).unwrap_or_else(|| ticket.clone())
                }
            };
            cx.made(&key, &id, None)?;
            Ok(Sent::Made(url))
        }
        _ => Ok(Sent::Skipped(
            "Zendesk takes no action for this event.".into(),
        )),
    }
}

fn id_text(v: &serde_json::Value) -> Option<String> {
    v.as_u64()
        .map(|n| n.to_string())
        .or_else(|| v.as_str().map(str::to_owned))
}

fn external_id(conversation_id: &str) -> String {
    format!("pitchbar:{conversation_id}")
}

async fn find_ticket(
    cx: &mut Cx<'_>,
    conversation_id: &str,
) -> Result<Option<(String, Option<String>)>, Failure> {
    let found = cx
        .get(&format!(
            "/api/v2/tickets?external_id={}",
            urlencode(&external_id(conversation_id))
        ))
        .await?;
    Ok(found.body["tickets"][0]["id"]
        .as_u64()
        .map(|id| (id.to_string(), Some(agent_url(cx, id)))))
}

/// The conversation's ticket, if one was made.
async fn ticket(
    cx: &mut Cx<'_>,
    conversation_id: &str,
) -> Result<Option<(String, Option<String>)>, Failure> {
    let key = format!("ticket:conversation:{conversation_id}");
    match cx.known(&key).map_err(store_failure)? {
        Known::Made(id, url) => Ok(Some((id, url))),
        Known::Maybe => match find_ticket(cx, conversation_id).await? {
            Some((id, url)) => {
                cx.made(&key, &id, url.as_deref())?;
                Ok(Some((id, url)))
            }
            // Its creation's outcome is not known yet: wait for it rather than drop this.
            None => Err(Failure::Retry(
                "The ticket of this conversation is not confirmed yet; trying again.".into(),
            )),
        },
        Known::New => Ok(None),
    }
}

async fn create_ticket(
    cx: &mut Cx<'_>,
    conversation: &Conversation,
) -> Result<(String, Option<String>), Failure> {
    let key = format!("ticket:conversation:{}", conversation.id);
    let reason = conversation
        .route_reason
        .clone()
        .unwrap_or_else(|| "The visitor asked for a human.".into());
    let mut ticket = json!({
        "subject": format!("Chat with {}: {}", conversation.visitor(), first_line(&reason)),
        "comment": {
            "body": format!(
                "Routed to a human: {reason}\n\nTranscript so far:\n{}",
                conversation.transcript(None)
            ),
            "public": false,
        },
        "external_id": external_id(&conversation.id),
        "tags": tags(cx),
    });
    if let Some(email) = &conversation.visitor_email {
        ticket["requester"] = json!({ "name": conversation.visitor(), "email": email });
    }
    if let Some(group) = &cx.config.options.target {
        if let Ok(id) = group.id.parse::<u64>() {
            ticket["group_id"] = json!(id);
        }
    }
    let found = match cx.begin(&key)? {
        Known::Made(id, url) => Some((id, url)),
        Known::Maybe => find_ticket(cx, &conversation.id).await?,
        Known::New => None,
    };
    let (id, url) = match found {
        Some(found) => found,
        None => {
            let answer = cx
                .post("/api/v2/tickets", json!({ "ticket": ticket }))
                .await?;
            let id = answer.body["ticket"]["id"].as_u64().ok_or_else(|| {
                Failure::Retry("Zendesk's answer did not include the ticket's ID.".into())
            })?;
            (id.to_string(), Some(agent_url(cx, id)))
        }
    };
    cx.made(&key, &id, url.as_deref())?;
    Ok((id, url))
}

/// The note carrying `marker` on the ticket, if there is one (a try whose answer was lost).
async fn find_comment(
    cx: &mut Cx<'_>,
    ticket: &str,
    marker: &str,
) -> Result<Option<String>, Failure> {
    let found = cx
        .get(&format!("/api/v2/tickets/{ticket}/comments"))
        .await?;
    Ok(found.body["comments"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["body"].as_str().is_some_and(|b| b.contains(marker)))
        .and_then(|c| id_text(&c["id"])))
}

fn tags(cx: &Cx<'_>) -> Vec<String> {
    let mut tags = vec!["pitchbar".to_owned()];
    for t in &cx.config.options.tags {
        let t = t.trim().replace(' ', "_");
        if !t.is_empty() && !tags.contains(&t) {
            tags.push(t);
        }
    }
    tags
}

fn first_line(s: &str) -> String {
    let line = s.lines().next().unwrap_or("").trim();
    if line.chars().count() > 80 {
        format!("{}…", line.chars().take(79).collect::<String>())
    } else {
        line.to_owned()
    }
}

/// Where an agent opens the ticket.
fn agent_url(cx: &Cx<'_>, id: u64) -> String {
    format!("{}/agent/tickets/{id}", cx.base)
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The account's groups, for the ticket group picker.
pub(super) async fn groups(cx: &mut Cx<'_>) -> Result<Vec<Choice>, Failure> {
    let answer = cx.get("/api/v2/groups").await?;
    Ok(answer.body["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|g| !g["deleted"].as_bool().unwrap_or(false))
        .filter_map(|g| {
            Some(Choice {
                id: id_text(&g["id"])?,
                name: g["name"].as_str()?.to_owned(),
            })
        })
        .collect())
}
