//! The dispatcher as the delivery tests drive it: the one fast [`test_config`], endpoints,
//! events fired, and the delivery's row and log read back; the test receiver's answers by path.

use std::time::{Duration, Instant};

use pitchbar_core::secret::Secret;
use pitchbar_core::webhooks::dispatcher::DispatcherConfig;
use pitchbar_core::webhooks::endpoints::{EndpointInput, EndpointView, Policy};
use pitchbar_core::webhooks::events::sample_data;
use pitchbar_core::webhooks::log::{AttemptDetail, LogQuery};
use pitchbar_core::webhooks::{EventType, Payload};
use pitchbar_core::workspace::Actor;
use pitchbar_core::Core;

use super::test_receiver::{Answer, Hit, TestReceiver};
use super::workspace::owner_core;

/// Retries in milliseconds, not minutes, so a test sees every attempt of a policy.
pub fn test_config() -> DispatcherConfig {
    DispatcherConfig {
        backoff_base: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        retry_after_max: Duration::from_secs(2),
        ..DispatcherConfig::default()
    }
}

/// What the dispatch tests' receiver answers, by path: `/ok` 200 `thanks`, `/big` 100 kB,
/// `/slow` after 3 s, `/flaky` 500 the first time, `/busy` 429 (`Retry-After: 1`) and
/// `/busy-long` 503 (`Retry-After: 3600`) the first time, `/gone` 410, `/redirect` 302 to
/// `/ok`, anything else 500.
pub fn answers(hit: &Hit) -> Answer {
    match hit.path.as_str() {
        "/ok" => Answer::ok("thanks"),
        "/big" => Answer::ok("x".repeat(100_000)),
        "/slow" => Answer::status(200).after(Duration::from_secs(3)),
        "/flaky" if hit.nth == 1 => Answer::status(500).body("boom"),
        "/flaky" => Answer::status(200),
        "/busy" if hit.nth == 1 => Answer::status(429)
            .header("retry-after", "1")
            .body("slow down"),
        "/busy-long" if hit.nth == 1 => Answer::status(503)
            .header("retry-after", "3600")
            .body("later"),
        "/busy" | "/busy-long" => Answer::status(200),
        "/gone" => Answer::status(410).body("gone"),
        "/redirect" => Answer::status(302).header("location", "/ok"),
        _ => Answer::status(500).body("always failing"),
    }
}

/// Where a dispatch test starts: a test receiver answering by path ([`answers`]) and a Core on a
/// fresh temp dir with its Owner.
pub async fn receiver_and_owner() -> (TestReceiver, tempfile::TempDir, Core, Actor) {
    let rx = TestReceiver::answering(answers).await;
    let (dir, core, actor) = owner_core();
    (rx, dir, core, actor)
}

/// An endpoint for `lead.captured` with a 1 s timeout.
pub fn endpoint(url: &str, policy: Policy, max_attempts: Option<u32>) -> EndpointInput {
    EndpointInput {
        url: url.into(),
        description: "test".into(),
        events: vec!["lead.captured".into()],
        active: true,
        policy,
        max_attempts,
        timeout_ms: Some(1_000),
        standard_webhooks: false,
    }
}

/// Creates the endpoint and reveals its signing secret.
pub fn endpoint_with_secret(
    core: &Core,
    actor: &Actor,
    input: EndpointInput,
) -> (EndpointView, Secret) {
    let ep = core.webhook_endpoints().create(actor, input).unwrap();
    let secret = core
        .webhook_endpoints()
        .reveal_secret(actor, &ep.id)
        .unwrap();
    (ep, secret)
}

pub fn lead() -> Payload {
    Payload::now(sample_data(EventType::LeadCaptured))
}

/// Fires a `lead.captured` that exactly one endpoint takes; its delivery's id.
pub fn fire_lead(core: &Core) -> String {
    core.outbox().fire(&lead()).unwrap().delivery_ids[0].clone()
}

pub fn status_of(core: &Core, delivery_id: &str) -> String {
    core.store()
        .conn()
        .query_row(
            "SELECT status FROM webhook_delivery WHERE id = ?1",
            [delivery_id],
            |r| r.get(0),
        )
        .unwrap()
}

pub fn attempts_of(core: &Core, delivery_id: &str) -> i64 {
    core.store()
        .conn()
        .query_row(
            "SELECT count(*) FROM webhook_attempt WHERE delivery_id = ?1",
            [delivery_id],
            |r| r.get(0),
        )
        .unwrap()
}

/// Waits (up to 15 s) until the delivery leaves `pending` and its log rows are written.
pub async fn settled(core: &Core, delivery_id: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let status = status_of(core, delivery_id);
        if status != "pending" {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "delivery {delivery_id} still pending"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The newest logged attempt of the delivery, in full.
pub fn last_attempt(core: &Core, delivery_id: &str) -> AttemptDetail {
    let page = core
        .delivery_log()
        .list(&LogQuery {
            limit: Some(500),
            ..LogQuery::default()
        })
        .unwrap();
    let id = page
        .attempts
        .iter()
        .find(|a| a.delivery_id == delivery_id)
        .expect("an attempt is logged")
        .id;
    core.delivery_log().get(id).unwrap()
}
