//! ActiveCampaign (API v3): a lead synced as a contact by email (`contact/sync`, an upsert),
//! subscribed to the picked list only when the chosen consent field says yes (the API cannot
//! send a confirmation email, so without consent the contact is kept but not subscribed), and
//! tagged with the configured tags (each found by its exact name, else created once).
//!
//! Mapping targets: `firstName`, `lastName` and `phone` are the contact's own fields; a custom
//! field is keyed `field:<id>` (its ID in ActiveCampaign, as `fieldValues` takes it), so a
//! renamed field keeps its mapping.

use serde_json::{json, Map, Value};

use super::super::cx::{Cx, Failure, Known};
use super::super::model::{Choice, TheirField};
use super::super::work::Work;
use super::shared::{consented, Item, Outcome, Sent};

/// The contact's own fields a lead field can be mapped to.
const STANDARD: &[(&str, &str)] = &[
    ("firstName", "First name"),
    ("lastName", "Last name"),
    ("phone", "Phone"),
];
const CUSTOM: &str = "field:";

pub(super) async fn one(cx: &mut Cx<'_>, item: &Item) -> Outcome {
    let Work::Lead(_, lead) = &item.work else {
        return Ok(Sent::Skipped(
            "ActiveCampaign takes no action for conversations.".into(),
        ));
    };
    let Some(list) = cx.config.options.target.clone() else {
        return Err(Failure::Stop(
            "No ActiveCampaign list is picked. Pick one in Configure.".into(),
        ));
    };
    let Some(email) = lead
        .value("email")
        .and_then(|v| v.as_str().map(str::to_owned))
    else {
        return Ok(Sent::Skipped(
            "ActiveCampaign finds contacts by email, and this lead has none.".into(),
        ));
    };
    let mut contact = Map::new();
    contact.insert("email".into(), Value::from(email));
    let mut field_values = Vec::new();
    for (to, value) in cx.mapped(lead) {
        let text = match value {
            Value::String(s) => s,
            other => other.to_string(),
        };
        match to.strip_prefix(CUSTOM) {
            Some(id) => field_values.push(json!({ "field": id, "value": text })),
            None => {
                contact.insert(to, Value::from(text));
            }
        }
    }
    if !field_values.is_empty() {
        contact.insert("fieldValues".into(), Value::from(field_values));
    }
    let synced = cx
        .post("/api/3/contact/sync", json!({ "contact": contact }))
        .await
        .map_err(with_hint)?;
    let id = synced.body["contact"]["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| {
            Failure::Retry("ActiveCampaign's answer did not include the contact's ID.".into())
        })?;
    let agreed = cx
        .config
        .options
        .consent_field
        .clone()
        .is_some_and(|f| consented(lead.value(&f).as_ref()));
    if agreed {
        // Subscribing twice updates the one subscription: safe to repeat.
        cx.post(
            "/api/3/contactLists",
            json!({ "contactList": { "list": list.id, "contact": id, "status": 1 } }),
        )
        .await
        .map_err(|f| match f {
            Failure::Stop(m) if m.contains("list") => Failure::Stop(format!(
                "{m} The list “{}” may have been deleted in ActiveCampaign. Pick another in Configure.",
                list.name
            )),
            other => other,
        })?;
    }
    for name in cx.config.options.tags.clone() {
        let tag = tag_id(cx, &name).await?;
        // The same contact and tag again answers the existing row: safe to repeat.
        cx.post(
            "/api/3/contactTags",
            json!({ "contactTag": { "contact": id, "tag": tag } }),
        )
        .await?;
    }
    // The API's host is not the account's app host, so there is no link to give.
    Ok(Sent::Made(None))
}

/// The tag's ID: found by its exact name (the search matches parts of names), else created.
async fn tag_id(cx: &mut Cx<'_>, name: &str) -> Result<String, Failure> {
    let key = format!("tag:{}", name.to_lowercase());
    if let Known::Made(id, _) = cx.begin(&key)? {
        return Ok(id);
    }
    let term: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
    let found = cx.get(&format!("/api/3/tags?search={term}")).await?;
    let existing = found.body["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| {
            t["tag"]
                .as_str()
                .is_some_and(|t| t.eq_ignore_ascii_case(name))
        })
        .and_then(|t| t["id"].as_str().map(str::to_owned));
    let id = match existing {
        Some(id) => id,
        None => {
            let made = cx
                .post(
                    "/api/3/tags",
                    json!({ "tag": { "tag": name, "tagType": "contact", "description": "Added by Pitchbar" } }),
                )
                .await?;
            made.body["tag"]["id"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| {
                    Failure::Retry("ActiveCampaign's answer did not include the tag's ID.".into())
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

/// The account's lists, for the picker.
pub(super) async fn lists(cx: &mut Cx<'_>) -> Result<Vec<Choice>, Failure> {
    let answer = cx.get("/api/3/lists?limit=100").await?;
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

/// The contact's own fields, then the account's custom fields as `field:<id>`.
pub(super) async fn fields(cx: &mut Cx<'_>) -> Result<Vec<TheirField>, Failure> {
    let mut out: Vec<TheirField> = STANDARD
        .iter()
        .map(|(key, label)| TheirField {
            key: (*key).into(),
            label: (*label).into(),
            required: false,
        })
        .collect();
    let answer = cx.get("/api/3/fields?limit=100").await?;
    for f in answer.body["fields"].as_array().into_iter().flatten() {
        let (Some(id), Some(title)) = (f["id"].as_str(), f["title"].as_str()) else {
            continue;
        };
        out.push(TheirField {
            key: format!("{CUSTOM}{id}"),
            label: title.to_owned(),
            required: matches!(f["isrequired"].as_str(), Some("1")) || f["isrequired"] == 1,
        });
    }
    Ok(out)
}
