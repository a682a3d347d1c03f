//! Each destination against its fake (tests/fixtures/provider-fakes): a lead and a conversation
//! made through the core reach the provider as docs/destinations.md says, with the mapped
//! properties (a custom one too), and the sync log shows every call with its status and bodies.

mod support;

use pitchbar_core::destinations::{Choice, DestinationOptions, ItemStatus};
use pitchbar_core::webhooks::EventType::*;
use serde_json::{json, Value};
use support::destinations::{statuses, world};

fn target(id: &str, name: &str) -> Option<Choice> {
    Some(Choice {
        id: id.into(),
        name: name.into(),
    })
}

fn all_done(items: &[pitchbar_core::destinations::SyncItem]) {
    assert!(
        items.iter().all(|i| i.status == ItemStatus::Done),
        "{items:#?}"
    );
}

#[tokio::test]
async fn hubspot_upserts_the_contact_and_logs_the_transcript_as_a_note() {
    let w = world();
    w.connect("hubspot").await;
    w.configure(
        "hubspot",
        &[LeadCaptured, ConversationClosed],
        &[
            ("email", "email"),
            ("first_name", "firstname"),
            ("last_name", "lastname"),
            ("fields.budget", "chat_budget"),
        ],
        DestinationOptions::default(),
    )
    .await
    .unwrap();
    let (conversation, lead) = w.conversation("grace@navy.example");
    w.close(&conversation);
    let items = w.settled("hubspot").await;
    assert_eq!(items.len(), 2, "{items:#?}");
    all_done(&items);

    let state = w.state("hubspot").await;
    let contact = &state["contacts"][0];
    assert_eq!(contact["properties"]["email"], "grace@navy.example");
    assert_eq!(contact["properties"]["firstname"], "Grace");
    assert_eq!(contact["properties"]["lastname"], "Hopper");
    let note = &state["notes"][0];
    assert!(note["properties"]["hs_note_body"]
        .as_str()
        .unwrap()
        .contains("I need a quote"));
    assert_eq!(
        note["associations"][0]["toObjectId"]
            .to_string()
            .trim_matches('"'),
        contact["id"].as_str().unwrap()
    );

    // The sync log: the lead's item with its one call, status and bodies.
    let lead_item = items.iter().find(|i| i.event_type == LeadCaptured).unwrap();
    assert!(
        lead_item.about.contains("grace@navy.example"),
        "{}",
        lead_item.about
    );
    let detail = w
        .core
        .destinations()
        .item("hubspot", &lead_item.event_id)
        .unwrap();
    // The upsert, then (once per account) where HubSpot's web app shows its records.
    assert_eq!(detail.calls.len(), 2, "{:#?}", detail.calls);
    assert!(detail.calls[1].url.ends_with("/account-info/v3/details"));
    let call = &detail.calls[0];
    assert_eq!(call.status, Some(200));
    assert!(call.url.ends_with("/crm/v3/objects/contacts/batch/upsert"));
    // Both items link to the contact in HubSpot.
    let link = format!(
        "https://app.hubspot.com/contacts/62515/record/0-1/{}",
        contact["id"].as_str().unwrap()
    );
    for item in &items {
        assert_eq!(item.record_url.as_deref(), Some(link.as_str()), "{item:#?}");
    }
    assert!(call
        .request_body
        .as_deref()
        .unwrap()
        .contains("grace@navy.example"));
    assert!(call.response_body.as_deref().unwrap().contains("COMPLETE"));
    assert_eq!(lead.email.as_deref(), Some("grace@navy.example"));
}

#[tokio::test]
async fn salesforce_creates_the_lead_once_and_a_completed_task() {
    let w = world();
    w.connect("salesforce").await;
    // Company is required by Salesforce: a mapping without it is refused, nothing saved.
    let before = w.core.destinations().get("salesforce").unwrap();
    let err = w
        .configure(
            "salesforce",
            &[LeadCaptured, ConversationClosed],
            &[("email", "Email"), ("last_name", "LastName")],
            DestinationOptions::default(),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Company"), "{err}");
    assert_eq!(w.core.destinations().get("salesforce").unwrap(), before);

    w.configure(
        "salesforce",
        &[LeadCaptured, ConversationClosed],
        &[
            ("email", "Email"),
            ("first_name", "FirstName"),
            ("last_name", "LastName"),
            ("fields.company", "Company"),
            ("fields.budget", "Budget__c"),
        ],
        DestinationOptions::default(),
    )
    .await
    .unwrap();
    let (conversation, _) = w.conversation("grace@navy.example");
    w.lead(
        "Alan Turing",
        "alan@bletchley.example",
        json!({"company": "GCHQ", "budget": 1200}),
    );
    w.close(&conversation);
    // A lead without a company: Salesforce's own words, not retried.
    let no_company = w.lead("Ada Lovelace", "ada@engine.example", json!({}));
    let items = w.settled("salesforce").await;
    assert_eq!(items.len(), 4);

    let state = w.state("salesforce").await;
    let leads = state["leads"].as_array().unwrap();
    assert_eq!(leads.len(), 2, "{leads:#?}");
    let alan = leads
        .iter()
        .find(|l| l["Email"] == "alan@bletchley.example")
        .unwrap();
    assert_eq!(alan["Company"], "GCHQ");
    assert_eq!(alan["Budget__c"], 1200);
    let grace = leads
        .iter()
        .find(|l| l["Email"] == "grace@navy.example")
        .unwrap();
    let task = &state["tasks"][0];
    assert_eq!(task["WhoId"], grace["Id"]);
    assert_eq!(task["Subject"], format!("Pitchbar chat {conversation}"));
    assert_eq!(task["Status"], "Completed");

    let failed = items
        .iter()
        .find(|i| i.about.contains("ada@engine.example"))
        .unwrap();
    assert_eq!(failed.status, ItemStatus::Failed, "{failed:#?}");
    let error = failed.last_error.as_deref().unwrap();
    assert!(
        error.contains("Required fields are missing: [Company]"),
        "{error}"
    );
    assert!(error.contains("Configure"), "{error}");
    let detail = w
        .core
        .destinations()
        .item("salesforce", &failed.event_id)
        .unwrap();
    let composite = detail
        .calls
        .iter()
        .filter(|c| c.url.contains("composite"))
        .count();
    assert_eq!(composite, 1, "{:#?}", detail.calls);
    assert_eq!(
        failed.about,
        format!("Ada Lovelace <{}>", no_company.email.unwrap())
    );
}

#[tokio::test]
async fn pipedrive_finds_or_creates_the_person_adds_a_lead_and_a_note() {
    let w = world();
    w.connect("pipedrive").await;
    const BUDGET: &str = "5e8f1a3b9c2d4e6f7a8b9c0d1e2f3a4b5c6d7e8f";
    w.configure(
        "pipedrive",
        &[LeadCaptured, ConversationClosed],
        &[
            ("name", "name"),
            ("email", "email"),
            ("fields.budget", BUDGET),
        ],
        DestinationOptions::default(),
    )
    .await
    .unwrap();
    let (conversation, _) = w.conversation("grace@navy.example");
    // The same person again: found by email, not made twice.
    w.lead("", "GRACE@navy.example", json!({"budget": 90}));
    w.close(&conversation);
    let items = w.settled("pipedrive").await;
    assert_eq!(statuses(&items), vec![ItemStatus::Done; 3]);

    let state = w.state("pipedrive").await;
    let persons = state["persons"].as_array().unwrap();
    assert_eq!(persons.len(), 1, "{persons:#?}");
    assert_eq!(persons[0]["name"], "Grace Hopper");
    let leads = state["leads"].as_array().unwrap();
    assert_eq!(leads.len(), 2, "{leads:#?}");
    assert!(leads.iter().all(|l| l["person_id"] == persons[0]["id"]));
    let chat_lead = leads
        .iter()
        .find(|l| {
            l["title"]
                .as_str()
                .unwrap()
                .ends_with(&format!("(chat {conversation})"))
        })
        .unwrap();
    let notes = state["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["lead_id"], chat_lead["id"]);
    assert!(notes[0]["content"].as_str().unwrap().contains("40 seats"));
}

#[tokio::test]
async fn pipedrive_maps_a_custom_field_on_a_new_person() {
    let w = world();
    w.connect("pipedrive").await;
    const BUDGET: &str = "5e8f1a3b9c2d4e6f7a8b9c0d1e2f3a4b5c6d7e8f";
    w.configure(
        "pipedrive",
        &[LeadCaptured],
        &[
            ("name", "name"),
            ("email", "email"),
            ("fields.budget", BUDGET),
        ],
        DestinationOptions::default(),
    )
    .await
    .unwrap();
    w.lead(
        "Alan Turing",
        "alan@bletchley.example",
        json!({"budget": 1200}),
    );
    all_done(&w.settled("pipedrive").await);
    let state = w.state("pipedrive").await;
    assert_eq!(state["persons"][0][BUDGET], 1200);
}

#[tokio::test]
async fn mailchimp_adds_members_by_consent_with_merge_fields_and_tags() {
    let w = world();
    w.connect("mailchimp").await;
    let fields = w.core.destinations().fields("mailchimp").await.unwrap();
    assert!(
        fields.theirs.iter().any(|f| f.key == "BUDGET"),
        "{fields:#?}"
    );
    assert!(fields.targets.iter().any(|t| t.id == "a1b2c3d4e5"));
    w.configure(
        "mailchimp",
        &[LeadCaptured],
        &[
            ("first_name", "FNAME"),
            ("last_name", "LNAME"),
            ("fields.budget", "BUDGET"),
        ],
        DestinationOptions {
            target: target("a1b2c3d4e5", "Newsletter"),
            tags: vec!["chat lead".into()],
            consent_field: Some("fields.consent".into()),
        },
    )
    .await
    .unwrap();
    w.lead(
        "Grace Hopper",
        "Grace@Navy.example",
        json!({"consent": "yes", "budget": 40}),
    );
    w.lead(
        "Alan Turing",
        "alan@bletchley.example",
        json!({"consent": false}),
    );
    all_done(&w.settled("mailchimp").await);

    let state = w.state("mailchimp").await;
    let members = state["members"].as_array().unwrap();
    let member = |email: &str| {
        members
            .iter()
            .find(|m| {
                m["email_address"]
                    .as_str()
                    .unwrap()
                    .eq_ignore_ascii_case(email)
            })
            .unwrap()
            .clone()
    };
    let grace = member("grace@navy.example");
    assert_eq!(grace["status"], "subscribed");
    assert_eq!(grace["merge_fields"]["FNAME"], "Grace");
    assert_eq!(grace["merge_fields"]["BUDGET"], 40);
    assert_eq!(grace["tags"], json!(["chat lead"]));
    assert_eq!(member("alan@bletchley.example")["status"], "transactional");
}

#[tokio::test]
async fn mailchimp_without_a_consent_field_asks_the_visitor_to_confirm() {
    let w = world();
    w.connect("mailchimp").await;
    w.configure(
        "mailchimp",
        &[LeadCaptured],
        &[("first_name", "FNAME")],
        DestinationOptions {
            target: target("0f9e8d7c6b", "Customers"),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    w.lead("Grace Hopper", "grace@navy.example", json!({}));
    all_done(&w.settled("mailchimp").await);
    let state = w.state("mailchimp").await;
    assert_eq!(state["members"][0]["status"], "pending");
    assert_eq!(state["members"][0]["list_id"], "0f9e8d7c6b");
}

#[tokio::test]
async fn activecampaign_syncs_subscribes_on_consent_and_tags_once() {
    let w = world();
    w.connect("activecampaign").await;
    let fields = w
        .core
        .destinations()
        .fields("activecampaign")
        .await
        .unwrap();
    assert!(
        fields
            .theirs
            .iter()
            .any(|f| f.key == "field:1" && f.label == "Budget"),
        "{fields:#?}"
    );
    w.configure(
        "activecampaign",
        &[LeadCaptured],
        &[
            ("first_name", "firstName"),
            ("last_name", "lastName"),
            ("fields.budget", "field:1"),
        ],
        DestinationOptions {
            target: target("2", "Leads"),
            tags: vec!["chat".into()],
            consent_field: Some("fields.consent".into()),
        },
    )
    .await
    .unwrap();
    w.lead(
        "Grace Hopper",
        "grace@navy.example",
        json!({"consent": true, "budget": 40}),
    );
    w.lead(
        "Alan Turing",
        "alan@bletchley.example",
        json!({"consent": "no"}),
    );
    all_done(&w.settled("activecampaign").await);

    let state = w.state("activecampaign").await;
    assert_eq!(state["contacts"].as_array().unwrap().len(), 2);
    let grace = state["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["email"] == "grace@navy.example")
        .unwrap()
        .clone();
    assert_eq!(grace["firstName"], "Grace");
    assert_eq!(state["fieldValues"][0]["field"], "1");
    assert_eq!(state["fieldValues"][0]["value"], "40");
    // Only the lead who agreed is subscribed.
    let lists = state["contactLists"].as_array().unwrap();
    assert_eq!(lists.len(), 1, "{lists:#?}");
    assert_eq!(lists[0]["contact"], grace["id"]);
    assert_eq!(lists[0]["list"], "2");
    // One tag, made once, on both contacts.
    assert_eq!(state["tags"].as_array().unwrap().len(), 1);
    assert_eq!(state["contactTags"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn segment_identifies_leads_and_tracks_conversations_in_one_batch() {
    let w = world();
    w.core.stop_destinations().await;
    w.connect("segment").await;
    let (conversation, lead) = w.conversation("grace@navy.example");
    w.route(&conversation);
    w.close(&conversation);
    w.core
        .start_destinations(support::destinations::fast_config());
    let items = w.settled("segment").await;
    all_done(&items);

    let state = w.state("segment").await;
    assert_eq!(state["batches"], 1, "{state:#}");
    assert_eq!(state["rejected"], json!([]));
    let events = state["events"].as_array().unwrap();
    assert_eq!(events.len(), items.len());
    let identify = events.iter().find(|e| e["type"] == "identify").unwrap();
    assert_eq!(identify["userId"], lead.id);
    assert_eq!(identify["traits"]["email"], "grace@navy.example");
    assert_eq!(identify["traits"]["company"], "Navy");
    let names: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    assert!(
        names.contains(&"Conversation Routed") && names.contains(&"Conversation Closed"),
        "{names:?}"
    );
    // Segment dedupes by messageId: ours is the event's ID.
    for item in &items {
        assert!(events
            .iter()
            .any(|e| e["messageId"] == item.event_id.as_str()));
    }
}

#[tokio::test]
async fn google_analytics_validates_on_save_and_collects_events_per_client() {
    let w = world();
    w.connect("google-analytics").await;
    w.configure(
        "google-analytics",
        &[LeadCaptured, ConversationStarted, ConversationClosed],
        &[],
        DestinationOptions::default(),
    )
    .await
    .unwrap();
    let calls = w.calls_to("ga4").await;
    assert!(
        calls.iter().any(|c| c["path"] == "/debug/mp/collect"),
        "{calls:#?}"
    );
    let (conversation, _) = w.conversation("grace@navy.example");
    w.close(&conversation);
    all_done(&w.settled("google-analytics").await);

    let state = w.state("ga4").await;
    assert_eq!(state["rejected"], json!([]));
    let events = state["events"].as_array().unwrap();
    let names: Vec<&str> = events.iter().map(|e| e["name"].as_str().unwrap()).collect();
    for name in [
        "conversation_started",
        "generate_lead",
        "conversation_closed",
    ] {
        assert!(names.contains(&name), "{names:?}");
    }
    // One client: the conversation.
    assert!(events
        .iter()
        .all(|e| e["client_id"] == conversation.as_str()));
    // No personal data.
    assert!(!Value::from(events.clone())
        .to_string()
        .contains("grace@navy.example"));
}
