//! The webhook dispatcher against real receivers on 127.0.0.1 and a real SQLite file: one
//! delivery — what is sent, how each kind of answer is classed and logged, which endpoints get
//! it, and a test send. Retries are in dispatch_retries.rs, secrets in dispatch_secrets.rs.

mod support;

use std::time::Duration;

use pitchbar_core::webhooks::endpoints::Policy;
use pitchbar_core::webhooks::{verify, EventType};
use support::dispatch::{
    attempts_of, endpoint, endpoint_with_secret, fire_lead, last_attempt, lead, receiver_and_owner,
    settled, test_config,
};
use support::now_secs;
use support::test_receiver::header;
use support::workspace::{member_actor, owner_core};

#[tokio::test]
async fn a_200_is_delivered_signed_with_every_header_and_logged() {
    let (rx, _dir, core, actor) = receiver_and_owner().await;
    let input = endpoint(&rx.url("/ok"), Policy::Single, None);
    let (ep, secret) = endpoint_with_secret(&core, &actor, input);
    core.start_dispatcher(test_config()).unwrap();
    let mut changes = core.subscribe_deliveries();
    let payload = lead();
    let fired = core.outbox().fire(&payload).unwrap();
    assert_eq!(fired.delivery_ids.len(), 1);
    let id = &fired.delivery_ids[0];
    assert_eq!(settled(&core, id).await, "succeeded");

    let hits = rx.hits();
    assert_eq!(hits.len(), 1);
    let hit = &hits[0];
    assert_eq!(
        &hit.body[..],
        &payload.to_body()[..],
        "the exact bytes are sent"
    );
    assert_eq!(header(hit, "content-type"), "application/json");
    assert_eq!(header(hit, "x-pitchbar-event"), "lead.captured");
    assert_eq!(header(hit, "x-pitchbar-delivery"), id);
    assert!(header(hit, "user-agent").starts_with("Pitchbar-Webhooks/"));
    verify(
        Some(header(hit, "x-pitchbar-signature")),
        &hit.body,
        &[&secret],
        now_secs(),
        Duration::from_secs(300),
    )
    .expect("the signature verifies with the endpoint's secret");
    assert!(hit.headers.get("webhook-signature").is_none());

    let changed = tokio::time::timeout(Duration::from_secs(5), changes.recv())
        .await
        .expect("a change is announced")
        .unwrap();
    assert!(changed.endpoint_ids.contains(&ep.id));

    let detail = last_attempt(&core, id);
    assert_eq!(detail.summary.response_status, Some(200));
    assert!(detail.summary.ok);
    assert_eq!(detail.summary.attempt_no, 1);
    assert_eq!(detail.request_body, payload.to_body());
    assert_eq!(detail.response_body.as_deref(), Some(&b"thanks"[..]));
    assert_eq!(
        detail.request_header("X-Pitchbar-Signature"),
        Some(header(hit, "x-pitchbar-signature"))
    );
    core.stop_dispatcher().await;
}

#[tokio::test]
async fn a_big_response_is_cut_at_64_kib_and_marked() {
    let (rx, _dir, core, actor) = receiver_and_owner().await;
    core.webhook_endpoints()
        .create(&actor, endpoint(&rx.url("/big"), Policy::Single, None))
        .unwrap();
    core.start_dispatcher(test_config()).unwrap();
    let id = fire_lead(&core);
    assert_eq!(settled(&core, &id).await, "succeeded");
    let detail = last_attempt(&core, &id);
    assert_eq!(detail.response_body.unwrap().len(), 64 * 1024);
    assert!(detail.response_truncated);
}

#[tokio::test]
async fn a_timeout_fails_a_single_attempt_endpoint_with_class_timeout() {
    let (rx, _dir, core, actor) = receiver_and_owner().await;
    core.webhook_endpoints()
        .create(&actor, endpoint(&rx.url("/slow"), Policy::Single, None))
        .unwrap();
    core.start_dispatcher(test_config()).unwrap();
    let id = fire_lead(&core);
    assert_eq!(settled(&core, &id).await, "failed");
    let detail = last_attempt(&core, &id);
    assert_eq!(detail.summary.error_class.as_deref(), Some("timeout"));
    assert_eq!(detail.summary.response_status, None);
    assert!(detail.summary.duration_us >= 900_000);
    assert_eq!(attempts_of(&core, &id), 1, "single attempt: no retry");
}

#[tokio::test]
async fn connection_refused_is_classed_and_dead_lettered_after_the_last_attempt() {
    let port = support::free_port();
    let (_dir, core, actor) = owner_core();
    core.webhook_endpoints()
        .create(
            &actor,
            endpoint(
                &format!("http://127.0.0.1:{port}/hook"),
                Policy::AtLeastOnce,
                Some(2),
            ),
        )
        .unwrap();
    core.start_dispatcher(test_config()).unwrap();
    let id = fire_lead(&core);
    assert_eq!(settled(&core, &id).await, "dead");
    assert_eq!(attempts_of(&core, &id), 2);
    let detail = last_attempt(&core, &id);
    assert_eq!(
        detail.summary.error_class.as_deref(),
        Some("connection_refused")
    );
}

#[tokio::test]
async fn a_302_is_not_followed_and_is_classed_redirect() {
    let (rx, _dir, core, actor) = receiver_and_owner().await;
    core.webhook_endpoints()
        .create(&actor, endpoint(&rx.url("/redirect"), Policy::Single, None))
        .unwrap();
    core.start_dispatcher(test_config()).unwrap();
    let id = fire_lead(&core);
    assert_eq!(settled(&core, &id).await, "failed");
    let paths: Vec<String> = rx.hits().into_iter().map(|h| h.path).collect();
    assert_eq!(paths, vec!["/redirect"], "the Location was not followed");
    let detail = last_attempt(&core, &id);
    assert_eq!(detail.summary.response_status, Some(302));
    assert_eq!(detail.summary.error_class.as_deref(), Some("redirect"));
}

#[tokio::test]
async fn send_test_uses_the_edited_payload_and_refuses_a_member() {
    let (rx, _dir, core, actor) = receiver_and_owner().await;
    let ep = core
        .webhook_endpoints()
        .create(&actor, endpoint(&rx.url("/ok"), Policy::Single, None))
        .unwrap();
    core.start_dispatcher(test_config()).unwrap();
    let mut payload = pitchbar_core::webhooks::events::sample(EventType::ConversationClosed);
    payload["data"]["reason"] = "edited".into();
    let id = core
        .webhook_deliveries()
        .send_test(
            &actor,
            &ep.id,
            EventType::ConversationClosed,
            Some(payload.clone()),
        )
        .unwrap();
    assert_eq!(settled(&core, &id).await, "succeeded");
    let hit = rx.hits().pop().unwrap();
    assert_eq!(header(&hit, "x-pitchbar-event"), "conversation.closed");
    let got: serde_json::Value = serde_json::from_slice(&hit.body).unwrap();
    assert_eq!(got, payload);
    assert_eq!(last_attempt(&core, &id).summary.trigger.as_str(), "test");

    let err = core
        .webhook_deliveries()
        .send_test(
            &actor,
            &ep.id,
            EventType::LeadCaptured,
            Some(serde_json::json!({"event": "conversation.closed"})),
        )
        .unwrap_err();
    assert!(matches!(err, pitchbar_core::Error::InvalidInput(_)));

    let member = member_actor(&core, &actor);
    let err = core
        .webhook_deliveries()
        .send_test(&member, &ep.id, EventType::LeadCaptured, None)
        .unwrap_err();
    assert!(matches!(err, pitchbar_core::Error::Forbidden(_)));
    let err = core
        .webhook_deliveries()
        .redeliver(&member, &id)
        .unwrap_err();
    assert!(matches!(err, pitchbar_core::Error::Forbidden(_)));
    let err = core
        .webhook_deliveries()
        .replay_failed_since(&member, "2020-01-01T00:00:00Z")
        .unwrap_err();
    assert!(matches!(err, pitchbar_core::Error::Forbidden(_)));
}

#[tokio::test]
async fn only_subscribed_active_endpoints_get_a_delivery() {
    let (rx, _dir, core, actor) = receiver_and_owner().await;
    let mut other = endpoint(&rx.url("/ok"), Policy::Single, None);
    other.events = vec!["conversation.closed".into()];
    core.webhook_endpoints().create(&actor, other).unwrap();
    let mut off = endpoint(&rx.url("/ok"), Policy::Single, None);
    off.active = false;
    core.webhook_endpoints().create(&actor, off).unwrap();
    let on = core
        .webhook_endpoints()
        .create(&actor, endpoint(&rx.url("/ok"), Policy::Single, None))
        .unwrap();
    let fired = core.outbox().fire(&lead()).unwrap();
    assert_eq!(fired.delivery_ids.len(), 1);
    let endpoint_id: String = core
        .store()
        .conn()
        .query_row(
            "SELECT endpoint_id FROM webhook_delivery WHERE id = ?1",
            [&fired.delivery_ids[0]],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(endpoint_id, on.id);
}
