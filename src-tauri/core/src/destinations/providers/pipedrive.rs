//! Pipedrive (API v1): a captured lead becomes a person (found by email, else created) with a
//! lead in the Leads Inbox; a closed conversation's transcript a note on that lead.

use serde_json::{json, Map, Value};

use super::super::cx::{store_failure, Cx, Failure, Known};
use super::super::model::TheirField;
use super::super::work::{self, Lead, Work};
use super::shared::{no_lead, Item, Outcome, Sent};
use crate::webhooks::EventType;

pub(super) async fn one(cx: &mut Cx<'_>, item: &Item) -> Outcome {
    match &item.work {
        Work::Lead(_, lead) => {
            let Some((_, url)) = lead_of(cx, lead).await? else {
                return Ok(no_email());
            };
            Ok(Sent::Made(Some(url)))
        }
        Work::Conversation {
            event: EventType::ConversationClosed,
            conversation,
            ..
        } => {
            let lead = match &conversation.lead_id {
                Some(id) => work::lead(&cx.store.conn(), id).map_err(store_failure)?,
                None => None,
            };
            let Some(lead) = lead else {
                return Ok(no_lead());
            };
            let Some((lead_id, url)) = lead_of(cx, &lead).await? else {
                return Ok(no_email());
            };
            let marker = format!("[pitchbar:{}]", conversation.id);
            let content = format!(
                "<p><b>Pitchbar chat with {}</b> (agent: {})</p><pre>{}</pre><p>{marker}</p>",
                html(&conversation.visitor()),
                html(&conversation.agent),
                html(&conversation.transcript(None)),
            );
            let key = format!("note:conversation:{}", conversation.id);
            let found = match cx.begin(&key)? {
                Known::Made(id, _) => Some(id),
                Known::Maybe => {
                    let notes = cx.get(&format!("/api/v1/notes?lead_id={lead_id}")).await?;
                    // `data` is null, not [], when the lead has no notes.
                    notes.body["data"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .find(|n| n["content"].as_str().is_some_and(|c| c.contains(&marker)))
                        .and_then(|n| id_text(&n["id"]))
                }
                Known::New => None,
            };
            let id = match found {
                Some(id) => id,
                None => {
                    let made = cx
                        .post(
                            "/api/v1/notes",
                            json!({ "content": content, "lead_id": lead_id }),
                        )
                        .await?;
                    id_text(&made.body["data"]["id"]).ok_or_else(|| {
                        Failure::Retry("Pipedrive's answer did not include the note's ID.".into())
                    })?
                }
            };
            cx.made(&key, &id, Some(&url))?;
            Ok(Sent::Made(Some(url)))
        }
        _ => Ok(Sent::Skipped(
            "Pipedrive takes no action for this event.".into(),
        )),
    }
}

fn no_email() -> Sent {
    Sent::Skipped("Pipedrive persons are found by email, and this lead has none.".into())
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
}

/// The lead's Pipedrive lead (and its person), made once: `None` when the lead has no email to
/// find its person by.
async fn lead_of(cx: &mut Cx<'_>, lead: &Lead) -> Result<Option<(String, String)>, Failure> {
    let Some(email) = lead
        .value("email")
        .and_then(|v| v.as_str().map(str::to_owned))
    else {
        return Ok(None);
    };
    let key = format!("lead:lead:{}", lead.id);
    // The title's end is the marker a lost answer is looked up by.
    let marker = format!(
        "(chat {})",
        lead.conversation_id.as_deref().unwrap_or(&lead.id)
    );
    let known = cx.begin(&key)?;
    if let Known::Made(id, url) = known {
        let url = url.unwrap_or_else(|| lead_url(cx, &id));
        return Ok(Some((id, url)));
    }
    let person = person(cx, lead, &email).await?;
    let mut found = None;
    if matches!(known, Known::Maybe) {
        let leads = cx.get(&format!("/api/v1/leads?person_id={person}")).await?;
        found = leads.body["data"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|l| l["title"].as_str().is_some_and(|t| t.ends_with(&marker)))
            .and_then(|l| id_text(&l["id"]));
    }
    let id = match found {
        Some(id) => id,
        None => {
            let name = lead
                .value("name")
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| email.clone());
            let person_id: Value = person.parse::<u64>().map_or(json!(person), Value::from);
            let made = cx
                .post(
                    "/api/v1/leads",
                    json!({ "title": format!("{name} {marker}"), "person_id": person_id }),
                )
                .await
                .map_err(with_hint)?;
            id_text(&made.body["data"]["id"]).ok_or_else(|| {
                Failure::Retry("Pipedrive's answer did not include the lead's ID.".into())
            })?
        }
    };
    let url = lead_url(cx, &id);
    cx.made(&key, &id, Some(&url))?;
    Ok(Some((id, url)))
}

/// The person with this email: found by Pipedrive's exact search, else created with the
/// mapped fields (a person needs a name: the email stands in when the lead gave none).
async fn person(cx: &mut Cx<'_>, lead: &Lead, email: &str) -> Result<String, Failure> {
    let key = format!("person:lead:{}", lead.id);
    if let Known::Made(id, _) = cx.begin(&key)? {
        return Ok(id);
    }
    // Looked up every time, not only after a lost answer: the person may exist already (an
    // earlier lead, or made in Pipedrive by hand).
    let term: String = url::form_urlencoded::byte_serialize(email.as_bytes()).collect();
    let found = cx
        .get(&format!(
            "/api/v1/persons/search?term={term}&fields=email&exact_match=true"
        ))
        .await?;
    let id = match id_text(&found.body["data"]["items"][0]["item"]["id"]) {
        Some(id) => id,
        None => {
            let mut body = Map::new();
            for (to, value) in cx.mapped(lead) {
                body.insert(to, value);
            }
            let named = body
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| !n.trim().is_empty());
            if !named {
                body.insert("name".into(), Value::from(email));
            }
            body.insert("email".into(), Value::from(email));
            let made = cx
                .post("/api/v1/persons", Value::Object(body))
                .await
                .map_err(with_hint)?;
            id_text(&made.body["data"]["id"]).ok_or_else(|| {
                Failure::Retry("Pipedrive's answer did not include the person's ID.".into())
            })?
        }
    };
    cx.made(&key, &id, None)?;
    Ok(id)
}

fn with_hint(failure: Failure) -> Failure {
    match failure {
        Failure::Stop(m) => Failure::Stop(format!("{m} Check the field mapping in Configure.")),
        other => other,
    }
}

/// Where a user opens the lead.
fn lead_url(cx: &Cx<'_>, id: &str) -> String {
    format!("{}/leads/inbox/{id}", cx.base)
}

/// The person fields a field can be mapped to: the standard ones a person is made with and the
/// account's custom fields (keyed by their 40-character key). `name` is not asked of the
/// mapping though Pipedrive requires it: a lead without a mapped name is sent with its email.
pub(super) async fn fields(cx: &mut Cx<'_>) -> Result<Vec<TheirField>, Failure> {
    const STANDARD: &[&str] = &["name", "first_name", "last_name", "email", "phone"];
    let answer = cx.get("/api/v1/personFields").await?;
    let mut out: Vec<TheirField> = answer.body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| {
            let key = f["key"].as_str()?.to_owned();
            let custom = f["edit_flag"].as_bool().unwrap_or(false);
            if !custom && !STANDARD.contains(&key.as_str()) {
                return None;
            }
            Some(TheirField {
                label: f["name"].as_str().unwrap_or(&key).to_owned(),
                required: key != "name" && f["mandatory_flag"].as_bool().unwrap_or(false),
                key,
            })
        })
        .collect();
    out.sort_by_key(|a| a.label.to_lowercase());
    Ok(out)
}
