//! The dispatcher's retries against real receivers on 127.0.0.1 and a real SQLite file: the same
//! delivery ID with fresh signatures, `Retry-After` honoured and bounded, 410 turning an endpoint
//! off, the dead letter, replay and redeliver.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use pitchbar_core::webhooks::dispatcher::DispatcherConfig;
use pitchbar_core::webhooks::endpoints::Policy;
use pitchbar_core::webhooks::log::LogQuery;
use pitchbar_core::webhooks::verify;
use support::dispatch::{
    attempts_of, endpoint, endpoint_with_secret, fire_lead, lead, receiver_and_owner, settled,
    test_config,
};
use support::now_secs;
use support::test_receiver::header;

#[tokio::test]
async fn a_500_then_200_is_retried_with_the_same_delivery_id_and_fresh_signatures() {
    let (rx, _dir, core, actor) = receiver_and_owner().await;
    let input = endpoint(&rx.url("/flaky"), Policy::AtLeastOnce, Some(3));
    let (_, secret) = endpoint_with_secret(&core, &actor, input);
    core.start_dispatcher(test_config()).unwrap();
    let id = fire_lead(&core);
    assert_eq!(settled(&core, &id).await, "succeeded");
    let hits = rx.hits();
    assert_eq!(hits.len(), 2);
    for hit in &hits {
        assert_eq!(header(hit, "x-pitchbar-delivery"), id);
        verify(
            Some(header(hit, "x-pitchbar-signature")),
            &hit.body,
            &[&secret],
            now_secs(),
            Duration::from_secs(300),
        )
        .unwrap();
    }
    assert_eq!(hits[0].body, hits[1].body);
    assert_eq!(attempts_of(&core, &id), 2);
    let page = core.delivery_log().list(&LogQuery::default()).unwrap();
    let first = page.attempts.iter().find(|a| a.attempt_no == 1).unwrap();
    assert_eq!(first.response_status, Some(500));
    assert_eq!(first.error_class.as_deref(), Some("non_2xx"));
    assert!(first.next_attempt_at.is_some(), "the retry time is logged");
}

#[tokio::test]
async fn a_429_retry_after_is_honoured() {
    let (rx, _dir, core, actor) = receiver_and_owner().await;
    core.webhook_endpoints()
        .create(
            &actor,
            endpoint(&rx.url("/busy"), Policy::AtLeastOnce, Some(3)),
        )
        .unwrap();
    core.start_dispatcher(test_config()).unwrap();
    let id = fire_lead(&core);
    assert_eq!(settled(&core, &id).await, "succeeded");
    let hits = rx.hits();
    assert_eq!(hits.len(), 2);
    let gap = hits[1].at - hits[0].at;
    // Retry-After: 1 (seconds) beats the 20 ms backoff of the test config.
    assert!(gap >= Duration::from_millis(900), "retried after {gap:?}");
}

#[tokio::test]
async fn a_long_retry_after_is_cut_to_the_bound() {
    let (rx, _dir, core, actor) = receiver_and_owner().await;
    core.webhook_endpoints()
        .create(
            &actor,
            endpoint(&rx.url("/busy-long"), Policy::AtLeastOnce, Some(3)),
        )
        .unwrap();
    core.start_dispatcher(DispatcherConfig {
        retry_after_max: Duration::from_millis(300),
        ..test_config()
    })
    .unwrap();
    let id = fire_lead(&core);
    assert_eq!(settled(&core, &id).await, "succeeded");
    let hits = rx.hits();
    let gap = hits[1].at - hits[0].at;
    assert!(
        gap >= Duration::from_millis(250) && gap < Duration::from_secs(5),
        "{gap:?}"
    );
}

#[tokio::test]
async fn a_410_turns_the_endpoint_off_and_says_why() {
    let (rx, _dir, core, actor) = receiver_and_owner().await;
    let ep = core
        .webhook_endpoints()
        .create(
            &actor,
            endpoint(&rx.url("/gone"), Policy::AtLeastOnce, Some(5)),
        )
        .unwrap();
    core.start_dispatcher(test_config()).unwrap();
    let id = fire_lead(&core);
    assert_eq!(settled(&core, &id).await, "failed");
    assert_eq!(attempts_of(&core, &id), 1, "no retry after 410");
    let view = core.webhook_endpoints().get(&ep.id).unwrap();
    assert!(!view.active);
    assert!(view.disabled_reason.unwrap().contains("410 Gone"));
    // Turned off: new events are not sent to it.
    let again = core.outbox().fire(&lead()).unwrap();
    assert!(again.delivery_ids.is_empty());
}

#[tokio::test]
async fn dead_letter_after_the_last_attempt_then_replay_and_redeliver() {
    let (rx, _dir, core, actor) = receiver_and_owner().await;
    core.webhook_endpoints()
        .create(
            &actor,
            endpoint(&rx.url("/fail"), Policy::AtLeastOnce, Some(3)),
        )
        .unwrap();
    core.start_dispatcher(test_config()).unwrap();
    let before = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let id = fire_lead(&core);
    assert_eq!(settled(&core, &id).await, "dead");
    assert_eq!(attempts_of(&core, &id), 3);
    let ids: HashSet<String> = rx
        .hits()
        .iter()
        .map(|h| header(h, "x-pitchbar-delivery").to_owned())
        .collect();
    assert_eq!(ids, HashSet::from([id.clone()]));

    assert_eq!(
        core.webhook_deliveries()
            .count_failed_since(&before)
            .unwrap(),
        1
    );
    assert_eq!(
        core.webhook_deliveries()
            .replay_failed_since(&actor, &before)
            .unwrap(),
        1
    );
    assert_eq!(settled(&core, &id).await, "dead");
    assert_eq!(attempts_of(&core, &id), 6, "a replay runs the policy again");

    core.webhook_deliveries().redeliver(&actor, &id).unwrap();
    assert_eq!(settled(&core, &id).await, "dead");
    assert_eq!(attempts_of(&core, &id), 9);
    let page = core.delivery_log().list(&LogQuery::default()).unwrap();
    let triggers: HashSet<_> = page.attempts.iter().map(|a| a.trigger).collect();
    assert_eq!(
        triggers.len(),
        3,
        "event, replay and redeliver are told apart"
    );
    assert!(rx
        .hits()
        .iter()
        .all(|h| header(h, "x-pitchbar-delivery") == id));
}
