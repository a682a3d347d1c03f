//! The local API for real: the server on 127.0.0.1:0, a real SQLite file, the dispatcher running
//! and a real receiver subscribed to every event. Leads and conversations, stored and delivered;
//! who is let in, what is refused and what is documented are in api_server.rs. The API key lives
//! in a real Secret Service: run through `scripts/with-keychain.sh`; without one every test fails.

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::api::{error_code, error_message, world};

fn keys(value: &Value) -> BTreeSet<&str> {
    value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lead_is_stored_and_delivered_signed_within_a_second() {
    let w = world().await;
    let started = Instant::now();
    let (status, lead) = w
        .post(
            "/v1/leads",
            json!({"name": "Alex Rivera", "email": "alex@example.com", "fields": {"company": "Acme"}}),
        )
        .await;
    assert_eq!(status, 201, "{lead}");
    let got = w.received("lead.captured", 1, Duration::from_secs(1)).await;
    assert!(started.elapsed() < Duration::from_secs(1));
    let payload = &got[0];
    assert_eq!(
        keys(payload),
        BTreeSet::from(["event", "occurred_at", "data"])
    );
    assert_eq!(payload["event"], "lead.captured");
    let data = &payload["data"];
    assert_eq!(
        keys(data),
        BTreeSet::from([
            "lead_id",
            "agent_id",
            "conversation_id",
            "name",
            "email",
            "phone",
            "fields"
        ])
    );
    assert_eq!(data["lead_id"], lead["id"]);
    assert_eq!(data["conversation_id"], Value::Null);
    assert_eq!(data["phone"], Value::Null);
    assert_eq!(data["fields"], json!({"company": "Acme"}));
    let default_agent = w.core.agents().default_agent().unwrap();
    assert_eq!(data["agent_id"], default_agent.id.as_str());
    assert_eq!(w.count("lead"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lead_list_pages_newest_first() {
    let w = world().await;
    let mut made = Vec::new();
    for i in 0..5 {
        let (status, lead) = w
            .post("/v1/leads", json!({"name": format!("Lead {i}")}))
            .await;
        assert_eq!(status, 201);
        made.push(lead["id"].as_str().unwrap().to_owned());
    }
    let mut seen = Vec::new();
    let mut path = "/v1/leads?limit=2".to_owned();
    let mut pages = 0;
    loop {
        let (status, page) = w.get(&path).await;
        assert_eq!(status, 200, "{page}");
        pages += 1;
        for lead in page["leads"].as_array().unwrap() {
            let at = lead["created_at"].as_str().unwrap().to_owned();
            seen.push((at, lead["id"].as_str().unwrap().to_owned()));
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/leads?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    // Newest first; leads of the same millisecond in ID order, so pages never skip or repeat.
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest first");
    let ids: BTreeSet<String> = seen.into_iter().map(|(_, id)| id).collect();
    assert_eq!(ids, made.into_iter().collect(), "every lead exactly once");

    let (_, all) = w.get("/v1/leads").await;
    let since = all["leads"][1]["created_at"].as_str().unwrap().to_owned();
    let (status, page) = w.get(&format!("/v1/leads?since={since}")).await;
    assert_eq!(status, 200);
    assert!((2..=5).contains(&page["leads"].as_array().unwrap().len()));

    let (status, body) = w.get("/v1/leads?cursor=nonsense").await;
    assert_eq!((status, error_code(&body)), (422, "invalid_input"));
    let (status, body) = w.get("/v1/leads?limit=many").await;
    assert_eq!((status, error_code(&body)), (422, "invalid_input"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_fires_each_of_its_events() {
    let w = world().await;
    let (status, conv) = w
        .post(
            "/v1/conversations",
            json!({"visitor": {"name": "Sam", "email": "sam@example.com"}}),
        )
        .await;
    assert_eq!(status, 201, "{conv}");
    assert_eq!(conv["status"], "open");
    let id = conv["id"].as_str().unwrap();
    let (status, msg) = w
        .post(
            &format!("/v1/conversations/{id}/messages"),
            json!({"direction": "inbound", "text": "Hi"}),
        )
        .await;
    assert_eq!(status, 201, "{msg}");
    let (status, _) = w
        .post(
            &format!("/v1/conversations/{id}/messages"),
            json!({"direction": "outbound", "text": "Hello!"}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, routed) = w
        .post(
            &format!("/v1/conversations/{id}/route"),
            json!({"reason": "Asked for sales"}),
        )
        .await;
    assert_eq!((status, routed["status"].as_str()), (200, Some("routed")));
    let (status, closed) = w
        .send("POST", &format!("/v1/conversations/{id}/close"), None)
        .await;
    assert_eq!(
        (status, closed["status"].as_str()),
        (200, Some("closed")),
        "{closed}"
    );

    let within = Duration::from_secs(2);
    let started = w.received("conversation.started", 1, within).await;
    assert_eq!(started[0]["data"]["conversation_id"], id);
    assert_eq!(started[0]["data"]["visitor"]["name"], "Sam");
    assert_eq!(started[0]["data"]["visitor"]["phone"], Value::Null);
    let messages = w.received("conversation.message", 2, within).await;
    let directions: BTreeSet<&str> = messages
        .iter()
        .map(|m| m["data"]["direction"].as_str().unwrap())
        .collect();
    assert_eq!(directions, BTreeSet::from(["inbound", "outbound"]));
    let routed = w.received("conversation.routed", 1, within).await;
    assert_eq!(routed[0]["data"]["reason"], "Asked for sales");
    let closed = w.received("conversation.closed", 1, within).await;
    assert_eq!(closed[0]["data"]["message_count"], 2);
    assert_eq!(closed[0]["data"]["reason"], Value::Null);

    // A lead from the conversation carries it, and its agent.
    let (status, lead) = w
        .post(
            "/v1/leads",
            json!({"conversation_id": id, "email": "sam@example.com"}),
        )
        .await;
    assert_eq!(status, 201, "{lead}");
    assert_eq!(lead["conversation_id"], id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_conversations_refuse_messages_and_changes() {
    let w = world().await;
    let (_, conv) = w.post("/v1/conversations", json!({})).await;
    let id = conv["id"].as_str().unwrap();
    let (status, _) = w
        .post(
            &format!("/v1/conversations/{id}/close"),
            json!({"reason": "done"}),
        )
        .await;
    assert_eq!(status, 200);
    let before = w.counts();
    let (status, body) = w
        .post(
            &format!("/v1/conversations/{id}/messages"),
            json!({"direction": "inbound", "text": "Hello?"}),
        )
        .await;
    assert_eq!((status, error_code(&body)), (409, "conflict"));
    let (status, body) = w
        .post(&format!("/v1/conversations/{id}/close"), json!({}))
        .await;
    assert_eq!((status, error_code(&body)), (409, "conflict"));
    let (status, body) = w
        .post(&format!("/v1/conversations/{id}/route"), json!({}))
        .await;
    assert_eq!((status, error_code(&body)), (409, "conflict"));
    let (status, body) = w
        .post(
            "/v1/conversations/01ARZ3NDEKTSV4RRFFQ69G5FAV/close",
            json!({}),
        )
        .await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));
    assert_eq!(w.counts(), before, "nothing written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_fields_of_a_custom_agent_are_enforced() {
    let w = world().await;
    let owner = w.core.workspaces().actor().unwrap();
    let agent = w
        .core
        .agents()
        .create(
            &owner,
            serde_json::from_value(json!({"name": "Sales", "lead_fields": [
                {"key": "team_size", "label": "Team size", "required": true},
                {"key": "budget", "label": "Budget"}
            ]}))
            .unwrap(),
        )
        .unwrap();
    let (status, body) = w
        .post("/v1/leads", json!({"agent_id": agent.id, "name": "A"}))
        .await;
    assert_eq!((status, error_code(&body)), (422, "invalid_input"));
    assert!(error_message(&body).contains("Team size"), "{body}");
    assert_eq!(w.count("lead"), 0);

    let (status, lead) = w
        .post(
            "/v1/leads",
            json!({"agent_id": agent.id, "name": "A", "fields": {"team_size": 25}}),
        )
        .await;
    assert_eq!(status, 201, "{lead}");
    assert_eq!(lead["fields"], json!({"team_size": 25, "budget": null}));

    // A change fires lead.updated with what changed.
    let id = lead["id"].as_str().unwrap();
    let (status, updated) = w
        .send(
            "PATCH",
            &format!("/v1/leads/{id}"),
            Some(json!({"phone": "+1 555 0100", "fields": {"budget": "10k"}})),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    let got = w.received("lead.updated", 1, Duration::from_secs(2)).await;
    assert_eq!(got[0]["data"]["changed"], json!(["phone", "fields.budget"]));
    assert_eq!(got[0]["data"]["phone"], "+1 555 0100");
    let (status, body) = w
        .send(
            "PATCH",
            &format!("/v1/leads/{id}"),
            Some(json!({"fields": {"team_size": null}})),
        )
        .await;
    assert_eq!((status, error_code(&body)), (422, "invalid_input"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_delivery_log_is_served_with_its_filters() {
    let w = world().await;
    w.post("/v1/leads", json!({"name": "A"})).await;
    w.post("/v1/conversations", json!({})).await;
    w.received("conversation.started", 1, Duration::from_secs(2))
        .await;
    let deadline = Instant::now() + Duration::from_secs(3);
    let page = loop {
        let (status, page) = w.get("/v1/deliveries").await;
        assert_eq!(status, 200);
        if page["attempts"].as_array().unwrap().len() >= 2 || Instant::now() > deadline {
            break page;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(page["attempts"].as_array().unwrap().len(), 2, "{page}");
    let (_, filtered) = w
        .get("/v1/deliveries?event_type=lead.captured&status=ok")
        .await;
    let attempts = filtered["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["event_type"], "lead.captured");
    assert_eq!(attempts[0]["response_status"], 200);
    let (status, body) = w.get("/v1/deliveries?status=maybe").await;
    assert_eq!((status, error_code(&body)), (422, "invalid_input"));
}
