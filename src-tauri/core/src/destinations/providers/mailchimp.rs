//! Mailchimp (Marketing API 3.0): a lead added to (or updated in) the picked audience by the MD5
//! of its lowercased email — an upsert, so a retry never adds a second member — with its mapped
//! merge fields, then tagged. A new member is `pending` (Mailchimp emails a confirmation) unless
//! the workspace picked a consent field: then `subscribed` if the lead agreed, `transactional`
//! if not. An existing member's status is never changed.

use md5::{Digest, Md5};
use serde_json::{json, Map, Value};

use super::super::cx::{Cx, Failure};
use super::super::model::{Choice, TheirField};
use super::super::work::{Lead, Work};
use super::shared::{consented, Item, Outcome, Sent};

pub(super) async fn one(cx: &mut Cx<'_>, item: &Item) -> Outcome {
    let Work::Lead(_, lead) = &item.work else {
        return Ok(Sent::Skipped(
            "Mailchimp takes no action for conversations.".into(),
        ));
    };
    let Some(list) = cx.config.options.target.clone() else {
        return Err(Failure::Stop(
            "No Mailchimp audience is picked. Pick one in Configure.".into(),
        ));
    };
    let Some(email) = lead
        .value("email")
        .and_then(|v| v.as_str().map(str::to_owned))
    else {
        return Ok(Sent::Skipped(
            "Mailchimp audiences are lists of emails, and this lead has none.".into(),
        ));
    };
    let hash = hex::encode(Md5::digest(email.trim().to_lowercase().as_bytes()));
    let member = format!("/3.0/lists/{}/members/{hash}", list.id);
    let mut merge_fields = Map::new();
    for (to, value) in cx.mapped(lead) {
        merge_fields.insert(to, value);
    }
    let status_if_new = status_if_new(cx, lead);
    cx.call(
        reqwest::Method::PUT,
        &member,
        Some(json!({
            "email_address": email,
            "status_if_new": status_if_new,
            "merge_fields": merge_fields,
        })),
    )
    .await
    .map_err(|f| explain(f, &list.name))?;
    let tags: Vec<Value> = cx
        .config
        .options
        .tags
        .iter()
        .map(|t| json!({ "name": t, "status": "active" }))
        .collect();
    if !tags.is_empty() {
        cx.post(&format!("{member}/tags"), json!({ "tags": tags }))
            .await
            .map_err(|f| explain(f, &list.name))?;
    }
    Ok(Sent::Made(None))
}

/// `pending` (double opt-in) unless a consent field is picked; then what the lead said.
fn status_if_new(cx: &Cx<'_>, lead: &Lead) -> &'static str {
    let Some(field) = &cx.config.options.consent_field else {
        return "pending";
    };
    if consented(lead.value(field).as_ref()) {
        "subscribed"
    } else {
        "transactional"
    }
}

/// A 404 from an audience's path means the audience was deleted: only picking another helps.
fn explain(failure: Failure, list: &str) -> Failure {
    match failure {
        Failure::Stop(m) if m.contains("Resource Not Found") => Failure::Stop(format!(
            "The audience “{list}” no longer exists in Mailchimp. Pick another in Configure."
        )),
        Failure::Stop(m) => Failure::Stop(format!("{m} Check the field mapping in Configure.")),
        other => other,
    }
}

/// The account's audiences, for the picker.
pub(super) async fn lists(cx: &mut Cx<'_>) -> Result<Vec<Choice>, Failure> {
    let answer = cx
        .get("/3.0/lists?count=1000&fields=lists.id,lists.name")
        .await?;
    Ok(answer.body["lists"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| {
            Some(Choice {
                id: l["id"].as_str()?.to_owned(),
                name: l["name"].as_str()?.to_owned(),
            })
        })
        .collect())
}

/// The merge fields of the picked audience (merge fields belong to an audience). With none
/// picked yet, the first audience's; with no audience at all, none.
pub(super) async fn fields(cx: &mut Cx<'_>) -> Result<Vec<TheirField>, Failure> {
    let list = match cx.config.options.target.clone() {
        Some(list) => list,
        None => match lists(cx).await?.into_iter().next() {
            Some(first) => first,
            None => return Ok(Vec::new()),
        },
    };
    let answer = cx
        .get(&format!("/3.0/lists/{}/merge-fields?count=1000", list.id))
        .await
        .map_err(|f| explain(f, &list.name))?;
    Ok(answer.body["merge_fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| {
            let key = f["tag"].as_str()?.to_owned();
            Some(TheirField {
                label: f["name"].as_str().unwrap_or(&key).to_owned(),
                required: f["required"].as_bool().unwrap_or(false),
                key,
            })
        })
        .collect())
}
