//! The helpdesk destinations against their fakes: a routed conversation becomes a Zendesk or
//! Freshdesk ticket in the picked group, later messages and the end of the chat internal notes.

mod support;

use pitchbar_core::destinations::{Choice, DestinationOptions, ItemStatus};
use pitchbar_core::webhooks::EventType::*;
use support::destinations::world;

fn target(id: &str, name: &str) -> Option<Choice> {
    Some(Choice {
        id: id.into(),
        name: name.into(),
    })
}

#[tokio::test]
async fn zendesk_opens_a_ticket_in_the_group_and_adds_internal_notes() {
    let w = world();
    w.connect("zendesk").await;
    w.configure(
        "zendesk",
        &[ConversationRouted, ConversationMessage, ConversationClosed],
        &[],
        DestinationOptions {
            target: target("20002", "Sales"),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let (conversation, _) = w.conversation("grace@navy.example");
    w.route(&conversation);
    w.say(
        &conversation,
        false,
        "A colleague will be with you shortly.",
    );
    w.close(&conversation);
    let items = w.settled("zendesk").await;
    let state = w.state("zendesk").await;
    let tickets = state["tickets"].as_array().unwrap();
    assert_eq!(tickets.len(), 1, "{items:#?}");
    assert_eq!(
        tickets[0]["external_id"],
        format!("pitchbar:{conversation}")
    );
    assert_eq!(tickets[0]["group_id"], 20002);
    // The description, the later message and the end of the chat.
    let comments = state["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 3, "{comments:#?}");
    assert!(comments[1]["body"]
        .as_str()
        .unwrap()
        .contains("with you shortly"));
    assert!(comments[1..].iter().all(|c| c["public"] == false));
    let routed = items
        .iter()
        .find(|i| i.event_type == ConversationRouted)
        .unwrap();
    assert_eq!(routed.status, ItemStatus::Done);
    assert!(routed
        .record_url
        .as_deref()
        .unwrap()
        .ends_with("/agent/tickets/1"));
}

#[tokio::test]
async fn freshdesk_opens_a_ticket_and_adds_private_notes() {
    let w = world();
    w.connect("freshdesk").await;
    let fields = w.core.destinations().fields("freshdesk").await.unwrap();
    assert!(
        fields.targets.iter().any(|t| t.name == "Sales"),
        "{fields:#?}"
    );
    w.configure(
        "freshdesk",
        &[ConversationRouted, ConversationMessage, ConversationClosed],
        &[],
        DestinationOptions {
            target: target("43000000202", "Sales"),
            tags: vec!["chat".into()],
            consent_field: None,
        },
    )
    .await
    .unwrap();
    let (conversation, _) = w.conversation("grace@navy.example");
    w.route(&conversation);
    w.say(&conversation, true, "Are you still there?");
    w.close(&conversation);
    // No email, no phone: Freshdesk has no requester to open a ticket for.
    let (anonymous, _) = w.conversation("");
    w.route(&anonymous);
    let items = w.settled("freshdesk").await;

    let state = w.state("freshdesk").await;
    let tickets = state["tickets"].as_array().unwrap();
    assert_eq!(tickets.len(), 1, "{tickets:#?}");
    let ticket = &tickets[0];
    assert_eq!(ticket["group_id"], 43000000202u64);
    assert_eq!(ticket["source"], 7);
    let tags: Vec<&str> = ticket["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(
        tags.contains(&format!("pitchbar-{}", conversation.to_lowercase()).as_str()),
        "{tags:?}"
    );
    assert!(tags.contains(&"chat"));
    let notes = state["conversations"].as_array().unwrap();
    assert_eq!(notes.len(), 2, "{notes:#?}");
    assert!(notes.iter().all(|n| n["private"] == true));
    assert!(notes[0]["body"]
        .as_str()
        .unwrap()
        .contains("Are you still there?"));

    let skipped = items
        .iter()
        .find(|i| i.status == ItemStatus::Skipped && i.event_type == ConversationRouted)
        .expect("the anonymous routed chat is skipped");
    let why = skipped.last_error.as_deref().unwrap_or_default();
    assert!(why.contains("email or phone"), "{skipped:#?}");
    assert!(
        items
            .iter()
            .filter(|i| i.status == ItemStatus::Done)
            .count()
            >= 3,
        "{items:#?}"
    );
}
