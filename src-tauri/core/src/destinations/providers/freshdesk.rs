//! Freshdesk (API v2): a routed conversation becomes a ticket (the visitor as requester by email
//! or phone, the transcript as its description, tagged `pitchbar-<conversation id>`); later
//! messages and the end of the chat become private notes on it. Its status is left to the agents.

use serde_json::{json, Value};

use super::super::cx::{store_failure, Cx, Failure, Known};
use super::super::model::Choice;
use super::super::work::{Conversation, Work};
use super::shared::{helpdesk_note, Item, Outcome, Sent};
use crate::webhooks::EventType;

/// Freshdesk's codes: status Open, priority Low, source Chat.
const STATUS_OPEN: u8 = 2;
const PRIORITY_LOW: u8 = 1;
const SOURCE_CHAT: u8 = 7;

pub(super) async fn one(cx: &mut Cx<'_>, item: &Item) -> Outcome {
    let Work::Conversation {
        event,
        conversation,
        message,
    } = &item.work
    else {
        return Ok(Sent::Skipped("Freshdesk takes no action for leads.".into()));
    };
    match event {
        EventType::ConversationRouted => create_ticket(cx, conversation).await,
        EventType::ConversationMessage | EventType::ConversationClosed => {
            let Some((ticket, url)) = ticket(cx, &conversation.id).await? else {
                return Ok(Sent::Skipped(
                    "This conversation was not routed to a human, so it has no ticket.".into(),
                ));
            };
            let (key, marker, text) = helpdesk_note("note", conversation, message.as_ref());
            let body = format!("<p>{}</p><p>{marker}</p>", html(&text));
            let found = match cx.begin(&key)? {
                Known::Made(id, _) => Some(id),
                Known::Maybe => find_note(cx, &ticket, &marker).await?,
                Known::New => None,
            };
            let id = match found {
                Some(id) => id,
                None => {
                    let made = cx
                        .post(
                            &format!("/api/v2/tickets/{ticket}/notes"),
                            json!({ "body": body, "private": true }),
                        )
                        .await?;
                    id_text(&made.body["id"]).ok_or_else(|| {
                        Failure::Retry("Freshdesk's answer did not include the note's ID.".into())
                    })?
                }
            };
            cx.made(&key, &id, None)?;
            Ok(Sent::Made(url))
        }
        _ => Ok(Sent::Skipped(
            "Freshdesk takes no action for this event.".into(),
        )),
    }
}

fn id_text(v: &Value) -> Option<String> {
    v.as_u64()
        .map(|n| n.to_string())
        .or_else(|| v.as_str().map(str::to_owned))
}

fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\n', "<br>")
}

/// The tag a ticket is found again by (Freshdesk keeps tags lowercase).
fn marker_tag(conversation_id: &str) -> String {
    format!("pitchbar-{}", conversation_id.to_lowercase())
}

async fn find_ticket(
    cx: &mut Cx<'_>,
    conversation_id: &str,
) -> Result<Option<(String, Option<String>)>, Failure> {
    // The query must be in double quotes, as Freshdesk's search grammar says.
    let query = format!("\"tag:'{}'\"", marker_tag(conversation_id));
    let query: String = url::form_urlencoded::byte_serialize(query.as_bytes()).collect();
    let found = cx
        .get(&format!("/api/v2/search/tickets?query={query}"))
        .await?;
    Ok(id_text(&found.body["results"][0]["id"]).map(|id| {
        let url = agent_url(cx, &id);
        (id, Some(url))
    }))
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
            // Its creation was tried and not confirmed: the routed item, retried, makes it;
            // this one waits for it rather than being skipped.
            None => Err(Failure::Retry(
                "The ticket for this conversation is not confirmed yet; trying again.".into(),
            )),
        },
        Known::New => Ok(None),
    }
}

async fn create_ticket(cx: &mut Cx<'_>, conversation: &Conversation) -> Outcome {
    // Freshdesk refuses a ticket without a requester it can reach. A visitor who gave neither
    // email nor phone is skipped, not failed: no change in Configure could make it go through,
    // and a failed item would keep the card red for something nobody can fix.
    if conversation.visitor_email.is_none() && conversation.visitor_phone.is_none() {
        return Ok(Sent::Skipped(
            "Freshdesk needs the visitor's email or phone for a ticket, and this visitor gave neither."
                .into(),
        ));
    }
    let key = format!("ticket:conversation:{}", conversation.id);
    let reason = conversation
        .route_reason
        .clone()
        .unwrap_or_else(|| "The visitor asked for a human.".into());
    let mut tags = vec!["pitchbar".to_owned(), marker_tag(&conversation.id)];
    for t in &cx.config.options.tags {
        let t = t.trim().to_owned();
        if !t.is_empty() && !tags.contains(&t) {
            tags.push(t);
        }
    }
    let mut ticket = json!({
        "subject": format!("Chat with {}: {}", conversation.visitor(), first_line(&reason)),
        "description": format!(
            "<p>Routed to a human: {}</p><p>Transcript so far:</p><p>{}</p>",
            html(&reason),
            html(&conversation.transcript(None))
        ),
        "name": conversation.visitor(),
        "status": STATUS_OPEN,
        "priority": PRIORITY_LOW,
        "source": SOURCE_CHAT,
        "tags": tags,
    });
    match (&conversation.visitor_email, &conversation.visitor_phone) {
        (Some(email), _) => ticket["email"] = json!(email),
        (None, Some(phone)) => ticket["phone"] = json!(phone),
        (None, None) => {}
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
            let answer = cx.post("/api/v2/tickets", ticket).await?;
            let id = id_text(&answer.body["id"]).ok_or_else(|| {
                Failure::Retry("Freshdesk's answer did not include the ticket's ID.".into())
            })?;
            let url = agent_url(cx, &id);
            (id, Some(url))
        }
    };
    cx.made(&key, &id, url.as_deref())?;
    Ok(Sent::Made(url))
}

/// The note carrying `marker` on the ticket, if there is one (a try whose answer was lost).
async fn find_note(cx: &mut Cx<'_>, ticket: &str, marker: &str) -> Result<Option<String>, Failure> {
    let found = cx
        .get(&format!("/api/v2/tickets/{ticket}/conversations"))
        .await?;
    Ok(found
        .body
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["body"].as_str().is_some_and(|b| b.contains(marker)))
        .and_then(|c| id_text(&c["id"])))
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
fn agent_url(cx: &Cx<'_>, id: &str) -> String {
    format!("{}/a/tickets/{id}", cx.base)
}

/// The account's groups, for the ticket group picker.
pub(super) async fn groups(cx: &mut Cx<'_>) -> Result<Vec<Choice>, Failure> {
    let answer = cx.get("/api/v2/groups").await?;
    Ok(answer
        .body
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|g| {
            Some(Choice {
                id: id_text(&g["id"])?,
                name: g["name"].as_str()?.to_owned(),
            })
        })
        .collect())
}
