//! HubSpot (CRM v3): leads upserted as contacts by email, in batches of up to 100; a closed
//! conversation's transcript as a note associated with the lead's contact.

use serde_json::{json, Map, Value};

use super::super::cx::{store_failure, Cx, Failure, Known};
use super::super::model::TheirField;
use super::super::work::{self, Lead, Work};
use super::shared::{event_ids, lead_runs, no_lead, push_until_stop, Item, Outcome, Run, Sent};
use crate::webhooks::EventType;

/// HubSpot's limit on one batch call.
const BATCH: usize = 100;
/// HubSpot's association type of a note to a contact.
const NOTE_TO_CONTACT: u32 = 202;

pub(super) async fn deliver(cx: &mut Cx<'_>, items: &[Item]) -> Vec<Outcome> {
    let mut out: Vec<Outcome> = Vec::with_capacity(items.len());
    for run in lead_runs(items, BATCH) {
        let outcomes = match run {
            Run::Leads(run, leads) => {
                cx.serving = event_ids(run);
                upsert_all(cx, &leads).await
            }
            Run::One(item) => {
                cx.serving = event_ids(std::slice::from_ref(item));
                vec![conversation(cx, item).await]
            }
        };
        if push_until_stop(&mut out, outcomes) {
            break;
        }
    }
    out
}

/// Upserts the leads' contacts in one call; if HubSpot refuses the batch, each lead on its own
/// so one bad lead does not hold back the rest.
async fn upsert_all(cx: &mut Cx<'_>, leads: &[&Lead]) -> Vec<Outcome> {
    match upsert(cx, leads).await {
        Err(Failure::Stop(_)) if leads.len() > 1 => {
            let mut out = Vec::with_capacity(leads.len());
            for lead in leads {
                match upsert(cx, std::slice::from_ref(lead)).await {
                    Ok(mut one) => out.append(&mut one),
                    Err(failure) => {
                        let stop = matches!(failure, Failure::Wait(..) | Failure::Reconnect(_));
                        out.push(Err(failure));
                        if stop {
                            break;
                        }
                    }
                }
            }
            out
        }
        Err(failure) => leads.iter().map(|_| Err(failure.clone())).collect(),
        Ok(outcomes) => outcomes,
    }
}

/// One batch upsert. Leads without an email are skipped (HubSpot finds contacts by email); two
/// leads with one email are sent once, with the later lead's values.
async fn upsert(cx: &mut Cx<'_>, leads: &[&Lead]) -> Result<Vec<Outcome>, Failure> {
    let mut inputs: Vec<(String, Map<String, Value>)> = Vec::new();
    for lead in leads {
        let Some(email) = lead
            .value("email")
            .and_then(|v| v.as_str().map(str::to_lowercase))
        else {
            continue;
        };
        let mut properties = Map::new();
        for (to, value) in cx.mapped(lead) {
            properties.insert(to, as_property(value));
        }
        // Always sent: the answer is matched back to each lead by it.
        properties.insert("email".into(), Value::from(email.clone()));
        match inputs.iter_mut().find(|(e, _)| *e == email) {
            Some(existing) => existing.1 = properties,
            None => inputs.push((email, properties)),
        }
    }
    let mut ids: Vec<(String, String)> = Vec::new();
    if !inputs.is_empty() {
        let body = json!({
            "inputs": inputs.iter().map(|(email, properties)| json!({
                "idProperty": "email",
                "id": email,
                "properties": properties,
            })).collect::<Vec<_>>()
        });
        let answer = cx
            .post("/crm/v3/objects/contacts/batch/upsert", body)
            .await
            .map_err(with_hint)?;
        for r in answer.body["results"].as_array().into_iter().flatten() {
            let email = r["properties"]["email"].as_str().map(str::to_lowercase);
            if let (Some(email), Some(id)) = (email, r["id"].as_str()) {
                ids.push((email, id.to_owned()));
            }
        }
    }
    let app = if ids.is_empty() {
        None
    } else {
        account(cx).await
    };
    let mut out = Vec::with_capacity(leads.len());
    for lead in leads {
        let email = lead
            .value("email")
            .and_then(|v| v.as_str().map(str::to_lowercase));
        let Some(email) = email else {
            out.push(Ok(Sent::Skipped(
                "HubSpot finds contacts by email, and this lead has none.".into(),
            )));
            continue;
        };
        let id = ids
            .iter()
            .find(|(e, _)| *e == email)
            .map(|(_, id)| id.clone());
        match id {
            Some(id) => {
                let url = app.as_ref().map(|(domain, portal)| {
                    format!("https://{domain}/contacts/{portal}/record/0-1/{id}")
                });
                cx.made(&format!("contact:lead:{}", lead.id), &id, url.as_deref())?;
                out.push(Ok(Sent::Made(url)));
            }
            None => out.push(Err(Failure::Retry(
                "HubSpot's answer did not include this contact; trying again.".into(),
            ))),
        }
    }
    Ok(out)
}

/// The account's web app domain and portal ID, for links to its records: asked once
/// (`/account-info/v3/details`) and kept. `None` when HubSpot does not say: records go
/// without a link.
async fn account(cx: &mut Cx<'_>) -> Option<(String, String)> {
    const KEY: &str = "account:details";
    if let Ok(Known::Made(portal, Some(domain))) = cx.known(KEY) {
        return Some((domain, portal));
    }
    let answer = cx.get("/account-info/v3/details").await.ok()?;
    let portal = answer.body["portalId"].as_u64()?.to_string();
    let domain = answer.body["uiDomain"]
        .as_str()
        .filter(|d| !d.is_empty() && !d.contains('/'))
        .unwrap_or("app.hubspot.com")
        .to_owned();
    cx.made(KEY, &portal, Some(&domain)).ok()?;
    Some((domain, portal))
}

/// HubSpot's properties are strings; numbers and booleans as their text.
fn as_property(value: Value) -> Value {
    match value {
        Value::String(_) => value,
        Value::Bool(b) => Value::from(if b { "true" } else { "false" }),
        other => Value::from(other.to_string()),
    }
}

fn with_hint(failure: Failure) -> Failure {
    match failure {
        Failure::Stop(m) if m.contains("PROPERTY_DOESNT_EXIST") || m.contains("does not exist") => {
            Failure::Stop(format!(
                "{m} Change the field mapping in Configure: a mapped HubSpot property no longer exists."
            ))
        }
        Failure::Stop(m) => Failure::Stop(format!("{m} Check the field mapping in Configure.")),
        other => other,
    }
}

/// A closed conversation → a note with the transcript on the lead's contact.
async fn conversation(cx: &mut Cx<'_>, item: &Item) -> Outcome {
    let Work::Conversation {
        event: EventType::ConversationClosed,
        conversation,
        ..
    } = &item.work
    else {
        return Ok(Sent::Skipped(
            "HubSpot takes no action for this event.".into(),
        ));
    };
    let lead = match &conversation.lead_id {
        Some(id) => work::lead(&cx.store.conn(), id).map_err(store_failure)?,
        None => None,
    };
    let Some(lead) = lead else {
        return Ok(no_lead());
    };
    let (contact, contact_url) = match upsert(cx, &[&lead]).await?.remove(0)? {
        Sent::Skipped(why) => return Ok(Sent::Skipped(why)),
        Sent::Made(_) => match cx.known(&format!("contact:lead:{}", lead.id)) {
            Ok(Known::Made(id, url)) => (id, url),
            _ => return Err(Failure::Retry("The contact's ID was not recorded.".into())),
        },
    };
    // One token (letters and digits) so HubSpot's search finds it whole.
    let marker = format!("pitchbar{}", conversation.id);
    let body = format!(
        "<p><strong>Pitchbar chat with {}</strong> (agent: {})</p><pre>{}</pre><p>Ref: {marker}</p>",
        html(&conversation.visitor()),
        html(&conversation.agent),
        html(&conversation.transcript(None)),
    );
    let key = format!("note:conversation:{}", conversation.id);
    let found = match cx.begin(&key)? {
        Known::Made(id, _) => Some(id),
        Known::Maybe => find_note(cx, &marker).await?,
        Known::New => None,
    };
    let id = match found {
        Some(id) => id,
        None => {
            let at = crate::clock::rfc3339_ms(crate::clock::unix_ms());
            let made = cx
                .post(
                    "/crm/v3/objects/notes",
                    json!({
                        "properties": { "hs_timestamp": at, "hs_note_body": body },
                        "associations": [{
                            "to": { "id": contact },
                            "types": [{
                                "associationCategory": "HUBSPOT_DEFINED",
                                "associationTypeId": NOTE_TO_CONTACT,
                            }],
                        }],
                    }),
                )
                .await?;
            made.body["id"].as_str().map(str::to_owned).ok_or_else(|| {
                Failure::Retry("HubSpot's answer did not include the note's ID.".into())
            })?
        }
    };
    cx.made(&key, &id, None)?;
    Ok(Sent::Made(contact_url))
}

/// The note carrying `marker`, if HubSpot has one (a try whose answer was lost).
async fn find_note(cx: &mut Cx<'_>, marker: &str) -> Result<Option<String>, Failure> {
    let found = cx
        .post(
            "/crm/v3/objects/notes/search",
            json!({
                "filterGroups": [{"filters": [{
                    "propertyName": "hs_note_body",
                    "operator": "CONTAINS_TOKEN",
                    "value": marker,
                }]}],
                "limit": 1,
            }),
        )
        .await?;
    Ok(found.body["results"][0]["id"].as_str().map(str::to_owned))
}

fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The contact properties a field can be mapped to (not read-only, not hidden).
pub(super) async fn fields(cx: &mut Cx<'_>) -> Result<Vec<TheirField>, Failure> {
    let answer = cx.get("/crm/v3/properties/contacts").await?;
    let mut out: Vec<TheirField> = answer.body["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| {
            !p["modificationMetadata"]["readOnlyValue"]
                .as_bool()
                .unwrap_or(false)
                && !p["hidden"].as_bool().unwrap_or(false)
        })
        .filter_map(|p| {
            let key = p["name"].as_str()?.to_owned();
            Some(TheirField {
                label: p["label"].as_str().unwrap_or(&key).to_owned(),
                required: key == "email",
                key,
            })
        })
        .collect();
    out.sort_by_key(|a| a.label.to_lowercase());
    Ok(out)
}
