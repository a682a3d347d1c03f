//! Salesforce (REST v60.0): leads found by email with SOQL and the missing ones created as
//! Leads in one `composite/sobjects` call (each record's own result is its item's outcome); a
//! closed conversation's transcript as a completed Task on the lead's Lead.

use serde_json::{json, Map, Value};

use super::super::cx::{store_failure, Cx, Failure, Known};
use super::super::model::TheirField;
use super::super::work::{self, Lead, Work};
use super::shared::{
    event_ids, last_name_or_fallback, lead_runs, no_lead, push_until_stop, Item, Outcome, Run, Sent,
};
use crate::webhooks::EventType;

const API: &str = "/services/data/v60.0";
/// Salesforce's limit on one `composite/sobjects` call.
const BATCH: usize = 200;

pub(super) async fn deliver(cx: &mut Cx<'_>, items: &[Item]) -> Vec<Outcome> {
    let mut out: Vec<Outcome> = Vec::with_capacity(items.len());
    for run in lead_runs(items, BATCH) {
        let outcomes = match run {
            Run::Leads(run, leads) => {
                cx.serving = event_ids(run);
                match upsert(cx, &leads).await {
                    Ok(outcomes) => outcomes,
                    Err(failure) => leads.iter().map(|_| Err(failure.clone())).collect(),
                }
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

fn lead_key(lead_id: &str) -> String {
    format!("lead:lead:{lead_id}")
}

fn email_of(lead: &Lead) -> Option<String> {
    lead.value("email")
        .and_then(|v| v.as_str().map(str::to_lowercase))
}

/// Where a user opens a record.
fn record_url(cx: &Cx<'_>, kind: &str, id: &str) -> String {
    format!("{}/lightning/r/{kind}/{id}/view", cx.base)
}

/// A SOQL string literal.
fn soql(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn query_path(q: &str) -> String {
    let q: String = url::form_urlencoded::byte_serialize(q.as_bytes()).collect();
    format!("{API}/query?q={q}")
}

/// Each lead's Salesforce Lead: the ones already there (by email) are used, the others created.
/// Leads without an email are skipped: Salesforce Leads are found by email, so a lead without
/// one could not be found again and would be created twice on a retry.
async fn upsert(cx: &mut Cx<'_>, leads: &[&Lead]) -> Result<Vec<Outcome>, Failure> {
    let mut emails: Vec<String> = Vec::new();
    for lead in leads {
        if let Some(e) = email_of(lead) {
            if !emails.contains(&e) {
                emails.push(e);
            }
        }
    }
    let mut ids: Vec<(String, String)> = Vec::new();
    if !emails.is_empty() {
        let list: Vec<String> = emails.iter().map(|e| soql(e)).collect();
        let q = format!(
            "SELECT Id, Email FROM Lead WHERE Email IN ({})",
            list.join(", ")
        );
        let found = cx.get(&query_path(&q)).await?;
        for r in found.body["records"].as_array().into_iter().flatten() {
            if let (Some(id), Some(email)) = (r["Id"].as_str(), r["Email"].as_str()) {
                ids.push((email.to_lowercase(), id.to_owned()));
            }
        }
    }
    // The leads to create, once per email (the later lead's values).
    let mut new: Vec<(String, Map<String, Value>)> = Vec::new();
    let mut refused: Vec<(String, Failure)> = Vec::new();
    for lead in leads {
        let Some(email) = email_of(lead) else {
            continue;
        };
        if ids.iter().any(|(e, _)| *e == email) {
            continue;
        }
        // Its intent, so a try whose answer is lost waits before looking again.
        if let Err(failure) = cx.begin(&lead_key(&lead.id)) {
            refused.push((email, failure));
            continue;
        }
        let mut record = Map::new();
        record.insert("attributes".into(), json!({ "type": "Lead" }));
        for (to, value) in cx.mapped(lead) {
            record.insert(to, value);
        }
        if !record.contains_key("LastName") {
            record.insert("LastName".into(), Value::from(last_name_or_fallback(lead)));
        }
        record.insert("Email".into(), Value::from(email.clone()));
        match new.iter_mut().find(|(e, _)| *e == email) {
            Some(existing) => existing.1 = record,
            None => new.push((email, record)),
        }
    }
    if !new.is_empty() {
        let body = json!({
            "allOrNone": false,
            "records": new.iter().map(|(_, r)| r).collect::<Vec<_>>(),
        });
        let answer = cx
            .post(&format!("{API}/composite/sobjects"), body)
            .await
            .map_err(with_hint)?;
        let results = answer.body.as_array().cloned().unwrap_or_default();
        for ((email, _), r) in new.iter().zip(results.iter()) {
            match r["id"].as_str() {
                Some(id) if r["success"].as_bool() == Some(true) => {
                    ids.push((email.clone(), id.to_owned()));
                }
                _ => {
                    let e = &r["errors"][0];
                    let words = match (e["message"].as_str(), e["statusCode"].as_str()) {
                        (Some(m), Some(code)) => format!("{m} ({code})"),
                        (Some(m), None) => m.to_owned(),
                        _ => "The record was refused.".into(),
                    };
                    refused.push((
                        email.clone(),
                        Failure::Stop(format!(
                            "Refused by Salesforce: “{words}” Check the field mapping in Configure."
                        )),
                    ));
                }
            }
        }
    }
    let mut out = Vec::with_capacity(leads.len());
    for lead in leads {
        let Some(email) = email_of(lead) else {
            out.push(Ok(Sent::Skipped(
                "Salesforce Leads are found by email, and this lead has none.".into(),
            )));
            continue;
        };
        if let Some((_, failure)) = refused.iter().find(|(e, _)| *e == email) {
            out.push(Err(failure.clone()));
            continue;
        }
        match ids.iter().find(|(e, _)| *e == email) {
            Some((_, id)) => {
                let url = record_url(cx, "Lead", id);
                cx.made(&lead_key(&lead.id), id, Some(&url))?;
                out.push(Ok(Sent::Made(Some(url))));
            }
            None => out.push(Err(Failure::Retry(
                "Salesforce's answer did not include this Lead; trying again.".into(),
            ))),
        }
    }
    Ok(out)
}

fn with_hint(failure: Failure) -> Failure {
    match failure {
        Failure::Stop(m) => Failure::Stop(format!("{m} Check the field mapping in Configure.")),
        other => other,
    }
}

/// A closed conversation → a completed Task with the transcript on the lead's Lead (the Lead
/// is found or created first).
async fn conversation(cx: &mut Cx<'_>, item: &Item) -> Outcome {
    let Work::Conversation {
        event: EventType::ConversationClosed,
        conversation,
        ..
    } = &item.work
    else {
        return Ok(Sent::Skipped(
            "Salesforce takes no action for this event.".into(),
        ));
    };
    let lead = match &conversation.lead_id {
        Some(id) => work::lead(&cx.store.conn(), id).map_err(store_failure)?,
        None => None,
    };
    let Some(lead) = lead else {
        return Ok(no_lead());
    };
    let who = match cx.known(&lead_key(&lead.id)).map_err(store_failure)? {
        Known::Made(id, _) => id,
        _ => match upsert(cx, &[&lead]).await?.remove(0)? {
            Sent::Skipped(why) => return Ok(Sent::Skipped(why)),
            Sent::Made(_) => match cx.known(&lead_key(&lead.id)) {
                Ok(Known::Made(id, _)) => id,
                _ => return Err(Failure::Retry("The Lead's ID was not recorded.".into())),
            },
        },
    };
    // The subject is the marker a lost answer is looked up by.
    let subject = format!("Pitchbar chat {}", conversation.id);
    let key = format!("task:conversation:{}", conversation.id);
    let found = match cx.begin(&key)? {
        Known::Made(id, _) => Some(id),
        Known::Maybe => {
            let q = format!("SELECT Id FROM Task WHERE Subject = {}", soql(&subject));
            let found = cx.get(&query_path(&q)).await?;
            found.body["records"][0]["Id"].as_str().map(str::to_owned)
        }
        Known::New => None,
    };
    let id = match found {
        Some(id) => id,
        None => {
            let day = crate::clock::rfc3339_ms(crate::clock::unix_ms());
            let made = cx
                .post(
                    &format!("{API}/sobjects/Task"),
                    json!({
                        "WhoId": who,
                        "Subject": subject,
                        "Description": format!(
                            "Chat with {} (agent: {})\n\n{}",
                            conversation.visitor(),
                            conversation.agent,
                            conversation.transcript(None)
                        ),
                        "Status": "Completed",
                        "ActivityDate": &day[..10],
                    }),
                )
                .await?;
            made.body["id"].as_str().map(str::to_owned).ok_or_else(|| {
                Failure::Retry("Salesforce's answer did not include the Task's ID.".into())
            })?
        }
    };
    let url = record_url(cx, "Task", &id);
    cx.made(&key, &id, Some(&url))?;
    Ok(Sent::Made(Some(url)))
}

/// The Lead fields a field can be mapped to (createable ones). Required: what Salesforce
/// refuses a Lead without (not nillable and not defaulted: LastName and Company).
pub(super) async fn fields(cx: &mut Cx<'_>) -> Result<Vec<TheirField>, Failure> {
    let answer = cx.get(&format!("{API}/sobjects/Lead/describe")).await?;
    let mut out: Vec<TheirField> = answer.body["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["createable"].as_bool().unwrap_or(false))
        .filter_map(|f| {
            let key = f["name"].as_str()?.to_owned();
            let required = !f["nillable"].as_bool().unwrap_or(true)
                && !f["defaultedOnCreate"].as_bool().unwrap_or(false)
                && f["type"].as_str() != Some("boolean");
            Some(TheirField {
                label: f["label"].as_str().unwrap_or(&key).to_owned(),
                required,
                key,
            })
        })
        .collect();
    out.sort_by_key(|a| a.label.to_lowercase());
    Ok(out)
}
