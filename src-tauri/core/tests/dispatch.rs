//! The webhook dispatcher against real receivers on 127.0.0.1 and a real SQLite file: every
//! policy path, signatures, rotation, and resuming after the app died mid-burst.

mod support;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use pitchbar_core::secret::Secret;
use pitchbar_core::vault::{Vault, VaultKey};
use pitchbar_core::webhooks::dispatcher::DispatcherConfig;
use pitchbar_core::webhooks::endpoints::{EndpointInput, Policy};
use pitchbar_core::webhooks::events::sample_data;
use pitchbar_core::webhooks::log::LogQuery;
use pitchbar_core::webhooks::{verify, EventType, Payload};
use pitchbar_core::Core;
use support::workspace::{member_actor, owner_core};

#[derive(Clone, Debug)]
struct Hit {
    path: String,
    headers: HeaderMap,
    body: Bytes,
    at: Instant,
}

#[derive(Clone, Default)]
struct Seen {
    hits: Arc<Mutex<Vec<Hit>>>,
    per_delivery: Arc<Mutex<HashMap<String, u32>>>,
}

async fn handler(State(seen): State<Seen>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path().to_owned();
    let delivery = headers
        .get("x-pitchbar-delivery")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let nth = {
        let mut map = seen.per_delivery.lock().unwrap();
        let n = map.entry(delivery).or_default();
        *n += 1;
        *n
    };
    seen.hits.lock().unwrap().push(Hit {
        path: path.clone(),
        headers,
        body,
        at: Instant::now(),
    });
    match path.as_str() {
        "/ok" => (StatusCode::OK, "thanks").into_response(),
        "/big" => (StatusCode::OK, "x".repeat(100_000)).into_response(),
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            StatusCode::OK.into_response()
        }
        "/flaky" if nth == 1 => (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response(),
        "/flaky" => StatusCode::OK.into_response(),
        "/busy" if nth == 1 => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1")],
            "slow down",
        )
            .into_response(),
        "/busy-long" if nth == 1 => (
            StatusCode::SERVICE_UNAVAILABLE,
            [("retry-after", "3600")],
            "later",
        )
            .into_response(),
        "/busy" | "/busy-long" => StatusCode::OK.into_response(),
        "/gone" => (StatusCode::GONE, "gone").into_response(),
        "/redirect" => (StatusCode::FOUND, [("location", "/ok")]).into_response(),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "always failing").into_response(),
    }
}

struct Receiver {
    base: String,
    seen: Seen,
}

impl Receiver {
    async fn start() -> Self {
        let seen = Seen::default();
        let app = axum::Router::new()
            .fallback(handler)
            .with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            base: format!("http://{addr}"),
            seen,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn hits(&self) -> Vec<Hit> {
        self.seen.hits.lock().unwrap().clone()
    }
}

fn test_config() -> DispatcherConfig {
    DispatcherConfig {
        backoff_base: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        retry_after_max: Duration::from_secs(2),
        ..DispatcherConfig::default()
    }
}

fn endpoint(url: &str, policy: Policy, max_attempts: Option<u32>) -> EndpointInput {
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

fn lead() -> Payload {
    Payload::now(sample_data(EventType::LeadCaptured))
}

fn status_of(core: &Core, delivery_id: &str) -> String {
    core.store()
        .conn()
        .query_row(
            "SELECT status FROM webhook_delivery WHERE id = ?1",
            [delivery_id],
            |r| r.get(0),
        )
        .unwrap()
}

fn attempts_of(core: &Core, delivery_id: &str) -> i64 {
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
async fn settled(core: &Core, delivery_id: &str) -> String {
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

fn header<'a>(hit: &'a Hit, name: &str) -> &'a str {
    hit.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn last_attempt(core: &Core, delivery_id: &str) -> pitchbar_core::webhooks::log::AttemptDetail {
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

#[tokio::test]
async fn a_200_is_delivered_signed_with_every_header_and_logged() {
    let rx = Receiver::start().await;
    let (_dir, core, actor) = owner_core();
    let ep = core
        .webhook_endpoints()
        .create(&actor, endpoint(&rx.url("/ok"), Policy::Single, None))
        .unwrap();
    let secret = core
        .webhook_endpoints()
        .reveal_secret(&actor, &ep.id)
        .unwrap();
    core.start_dispatcher(test_config()).unwrap();
    let mut changes = core.subscribe_deliveries();
    let payload = lead();
    let fired = core.webhook_dispatcher().fire(&payload).unwrap();
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
    let rx = Receiver::start().await;
    let (_dir, core, actor) = owner_core();
    core.webhook_endpoints()
        .create(&actor, endpoint(&rx.url("/big"), Policy::Single, None))
        .unwrap();
    core.start_dispatcher(test_config()).unwrap();
    let id = core
        .webhook_dispatcher()
        .fire(&lead())
        .unwrap()
        .delivery_ids[0]
        .clone();
    assert_eq!(settled(&core, &id).await, "succeeded");
    let detail = last_attempt(&core, &id);
    assert_eq!(detail.response_body.unwrap().len(), 64 * 1024);
    assert!(detail.response_truncated);
}

#[tokio::test]
async fn a_timeout_fails_a_single_attempt_endpoint_with_class_timeout() {
    let rx = Receiver::start().await;
    let (_dir, core, actor) = owner_core();
    core.webhook_endpoints()
        .create(&actor, endpoint(&rx.url("/slow"), Policy::Single, None))
        .unwrap();
    core.start_dispatcher(test_config()).unwrap();
    let id = core
        .webhook_dispatcher()
        .fire(&lead())
        .unwrap()
        .delivery_ids[0]
        .clone();
    assert_eq!(settled(&core, &id).await, "failed");
    let detail = last_attempt(&core, &id);
    assert_eq!(detail.summary.error_class.as_deref(), Some("timeout"));
    assert_eq!(detail.summary.response_status, None);
    assert!(detail.summary.duration_us >= 900_000);
    assert_eq!(attempts_of(&core, &id), 1, "single attempt: no retry");
}

#[tokio::test]
async fn connection_refused_is_classed_and_dead_lettered_after_the_last_attempt() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
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
    let id = core
        .webhook_dispatcher()
        .fire(&lead())
        .unwrap()
        .delivery_ids[0]
        .clone();
    assert_eq!(settled(&core, &id).await, "dead");
    assert_eq!(attempts_of(&core, &id), 2);
    let detail = last_attempt(&core, &id);
    assert_eq!(
        detail.summary.error_class.as_deref(),
        Some("connection_refused")
    );
}

#[tokio::test]
async fn a_500_then_200_is_retried_with_the_same_delivery_id_and_fresh_signatures() {
    let rx = Receiver::start().await;
    let (_dir, core, actor) = owner_core();
    let ep = core
        .webhook_endpoints()
        .create(
            &actor,
            endpoint(&rx.url("/flaky"), Policy::AtLeastOnce, Some(3)),
        )
        .unwrap();
    let secret = core
        .webhook_endpoints()
        .reveal_secret(&actor, &ep.id)
        .unwrap();
    core.start_dispatcher(test_config()).unwrap();
    let id = core
        .webhook_dispatcher()
        .fire(&lead())
        .unwrap()
        .delivery_ids[0]
        .clone();
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
    let rx = Receiver::start().await;
    let (_dir, core, actor) = owner_core();
    core.webhook_endpoints()
        .create(
            &actor,
            endpoint(&rx.url("/busy"), Policy::AtLeastOnce, Some(3)),
        )
        .unwrap();
    core.start_dispatcher(test_config()).unwrap();
    let id = core
        .webhook_dispatcher()
        .fire(&lead())
        .unwrap()
        .delivery_ids[0]
        .clone();
    assert_eq!(settled(&core, &id).await, "succeeded");
    let hits = rx.hits();
    assert_eq!(hits.len(), 2);
    let gap = hits[1].at - hits[0].at;
    // Retry-After: 1 (seconds) beats the 20 ms backoff of the test config.
    assert!(gap >= Duration::from_millis(900), "retried after {gap:?}");
}

#[tokio::test]
async fn a_long_retry_after_is_cut_to_the_bound() {
    let rx = Receiver::start().await;
    let (_dir, core, actor) = owner_core();
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
    let id = core
        .webhook_dispatcher()
        .fire(&lead())
        .unwrap()
        .delivery_ids[0]
        .clone();
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
    let rx = Receiver::start().await;
    let (_dir, core, actor) = owner_core();
    let ep = core
        .webhook_endpoints()
        .create(
            &actor,
            endpoint(&rx.url("/gone"), Policy::AtLeastOnce, Some(5)),
        )
        .unwrap();
    core.start_dispatcher(test_config()).unwrap();
    let id = core
        .webhook_dispatcher()
        .fire(&lead())
        .unwrap()
        .delivery_ids[0]
        .clone();
    assert_eq!(settled(&core, &id).await, "failed");
    assert_eq!(attempts_of(&core, &id), 1, "no retry after 410");
    let view = core.webhook_endpoints().get(&ep.id).unwrap();
    assert!(!view.active);
    assert!(view.disabled_reason.unwrap().contains("410 Gone"));
    // Turned off: new events are not sent to it.
    let again = core.webhook_dispatcher().fire(&lead()).unwrap();
    assert!(again.delivery_ids.is_empty());
}

#[tokio::test]
async fn a_302_is_not_followed_and_is_classed_redirect() {
    let rx = Receiver::start().await;
    let (_dir, core, actor) = owner_core();
    core.webhook_endpoints()
        .create(&actor, endpoint(&rx.url("/redirect"), Policy::Single, None))
        .unwrap();
    core.start_dispatcher(test_config()).unwrap();
    let id = core
        .webhook_dispatcher()
        .fire(&lead())
        .unwrap()
        .delivery_ids[0]
        .clone();
    assert_eq!(settled(&core, &id).await, "failed");
    let paths: Vec<String> = rx.hits().into_iter().map(|h| h.path).collect();
    assert_eq!(paths, vec!["/redirect"], "the Location was not followed");
    let detail = last_attempt(&core, &id);
    assert_eq!(detail.summary.response_status, Some(302));
    assert_eq!(detail.summary.error_class.as_deref(), Some("redirect"));
}

#[tokio::test]
async fn dead_letter_after_the_last_attempt_then_replay_and_redeliver() {
    let rx = Receiver::start().await;
    let (_dir, core, actor) = owner_core();
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
    let id = core
        .webhook_dispatcher()
        .fire(&lead())
        .unwrap()
        .delivery_ids[0]
        .clone();
    assert_eq!(settled(&core, &id).await, "dead");
    assert_eq!(attempts_of(&core, &id), 3);
    let ids: HashSet<String> = rx
        .hits()
        .iter()
        .map(|h| header(h, "x-pitchbar-delivery").to_owned())
        .collect();
    assert_eq!(ids, HashSet::from([id.clone()]));

    assert_eq!(
        core.webhook_dispatcher()
            .count_failed_since(&before)
            .unwrap(),
        1
    );
    assert_eq!(
        core.webhook_dispatcher()
            .replay_failed_since(&actor, &before)
            .unwrap(),
        1
    );
    assert_eq!(settled(&core, &id).await, "dead");
    assert_eq!(attempts_of(&core, &id), 6, "a replay runs the policy again");

    core.webhook_dispatcher().redeliver(&actor, &id).unwrap();
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

#[tokio::test]
async fn rotation_signs_with_both_secrets_during_the_overlap() {
    let rx = Receiver::start().await;
    let (_dir, core, actor) = owner_core();
    let mut input = endpoint(&rx.url("/ok"), Policy::Single, None);
    input.standard_webhooks = true;
    let ep = core.webhook_endpoints().create(&actor, input).unwrap();
    let old = core
        .webhook_endpoints()
        .reveal_secret(&actor, &ep.id)
        .unwrap();
    let view = core
        .webhook_endpoints()
        .rotate_secret(&actor, &ep.id, Duration::from_secs(3600))
        .unwrap();
    assert!(view.previous_secret_expires_at.is_some());
    let new = core
        .webhook_endpoints()
        .reveal_secret(&actor, &ep.id)
        .unwrap();
    assert_ne!(old.expose(), new.expose());
    core.start_dispatcher(test_config()).unwrap();
    let id = core
        .webhook_dispatcher()
        .fire(&lead())
        .unwrap()
        .delivery_ids[0]
        .clone();
    assert_eq!(settled(&core, &id).await, "succeeded");
    let hit = rx.hits().pop().unwrap();
    let sig = header(&hit, "x-pitchbar-signature");
    assert_eq!(sig.matches("v1=").count(), 2, "{sig}");
    for secret in [&old, &new] {
        verify(
            Some(sig),
            &hit.body,
            &[secret],
            now_secs(),
            Duration::from_secs(300),
        )
        .unwrap();
    }
    let wrong = Secret::new("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    assert!(verify(
        Some(sig),
        &hit.body,
        &[&wrong],
        now_secs(),
        Duration::from_secs(300)
    )
    .is_err());
    assert_eq!(header(&hit, "webhook-id"), id);
    assert_eq!(header(&hit, "webhook-signature").matches("v1,").count(), 2);

    // With no overlap the old secret stops at once.
    core.webhook_endpoints()
        .rotate_secret(&actor, &ep.id, Duration::ZERO)
        .unwrap();
    let id = core
        .webhook_dispatcher()
        .fire(&lead())
        .unwrap()
        .delivery_ids[0]
        .clone();
    assert_eq!(settled(&core, &id).await, "succeeded");
    let hit = rx.hits().pop().unwrap();
    assert_eq!(
        header(&hit, "x-pitchbar-signature").matches("v1=").count(),
        1
    );
}

#[tokio::test]
async fn a_secret_missing_from_the_keychain_sends_nothing_unsigned() {
    let rx = Receiver::start().await;
    let (dir, core, actor) = owner_core();
    let ep = core
        .webhook_endpoints()
        .create(&actor, endpoint(&rx.url("/ok"), Policy::Single, None))
        .unwrap();
    let keychain_ref: String = core
        .store()
        .conn()
        .query_row(
            "SELECT keychain_ref FROM webhook_endpoint_secret WHERE endpoint_id = ?1",
            [&ep.id],
            |r| r.get(0),
        )
        .unwrap();
    // Removed by hand while the app was closed: the next start has nothing in memory.
    drop(core);
    Vault::os()
        .delete(&VaultKey::from_account(&keychain_ref).unwrap())
        .unwrap();
    let core = Core::open(dir.path()).unwrap();
    core.start_dispatcher(test_config()).unwrap();
    let id = core
        .webhook_dispatcher()
        .fire(&lead())
        .unwrap()
        .delivery_ids[0]
        .clone();
    assert_eq!(settled(&core, &id).await, "failed");
    assert!(rx.hits().is_empty(), "nothing went out");
    let detail = last_attempt(&core, &id);
    let message = detail.error_message.unwrap_or_default();
    assert!(
        message.contains("unsigned") && message.contains("Rotate"),
        "{message}"
    );

    // A new secret puts the endpoint back to work.
    let actor = core.workspaces().actor().unwrap();
    core.webhook_endpoints()
        .rotate_secret(&actor, &ep.id, Duration::ZERO)
        .unwrap();
    let secret = core
        .webhook_endpoints()
        .reveal_secret(&actor, &ep.id)
        .unwrap();
    let id = core
        .webhook_dispatcher()
        .fire(&lead())
        .unwrap()
        .delivery_ids[0]
        .clone();
    assert_eq!(settled(&core, &id).await, "succeeded");
    let hit = rx.hits().pop().unwrap();
    verify(
        Some(header(&hit, "x-pitchbar-signature")),
        &hit.body,
        &[&secret],
        now_secs(),
        Duration::from_secs(300),
    )
    .unwrap();
}

#[tokio::test]
async fn send_test_uses_the_edited_payload_and_refuses_a_member() {
    let rx = Receiver::start().await;
    let (_dir, core, actor) = owner_core();
    let ep = core
        .webhook_endpoints()
        .create(&actor, endpoint(&rx.url("/ok"), Policy::Single, None))
        .unwrap();
    core.start_dispatcher(test_config()).unwrap();
    let mut payload = pitchbar_core::webhooks::events::sample(EventType::ConversationClosed);
    payload["data"]["reason"] = "edited".into();
    let id = core
        .webhook_dispatcher()
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
        .webhook_dispatcher()
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
        .webhook_dispatcher()
        .send_test(&member, &ep.id, EventType::LeadCaptured, None)
        .unwrap_err();
    assert!(matches!(err, pitchbar_core::Error::Forbidden(_)));
    let err = core
        .webhook_dispatcher()
        .redeliver(&member, &id)
        .unwrap_err();
    assert!(matches!(err, pitchbar_core::Error::Forbidden(_)));
    let err = core
        .webhook_dispatcher()
        .replay_failed_since(&member, "2020-01-01T00:00:00Z")
        .unwrap_err();
    assert!(matches!(err, pitchbar_core::Error::Forbidden(_)));
}

#[tokio::test]
async fn only_subscribed_active_endpoints_get_a_delivery() {
    let rx = Receiver::start().await;
    let (_dir, core, actor) = owner_core();
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
    let fired = core.webhook_dispatcher().fire(&lead()).unwrap();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_mid_burst_loses_nothing_and_duplicates_share_the_delivery_id() {
    let rx = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let n = 300;
    let fired_ids: HashSet<String>;
    {
        let core = Core::open(dir.path()).unwrap();
        let actor = support::workspace::set_up_owner(&core);
        // Flaky: every delivery's first attempt fails, so the crash catches retries too.
        core.webhook_endpoints()
            .create(
                &actor,
                endpoint(&rx.url("/flaky"), Policy::AtLeastOnce, Some(5)),
            )
            .unwrap();
        core.start_dispatcher(DispatcherConfig {
            concurrency: 4,
            per_endpoint_concurrency: 4,
            ..test_config()
        })
        .unwrap();
        let mut ids = HashSet::new();
        for _ in 0..n {
            ids.extend(
                core.webhook_dispatcher()
                    .fire(&lead())
                    .unwrap()
                    .delivery_ids,
            );
        }
        fired_ids = ids;
        let deadline = Instant::now() + Duration::from_secs(10);
        while rx.hits().len() < 40 {
            assert!(Instant::now() < deadline);
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        // The app dies here: tasks aborted, nothing stopped cleanly.
    }
    let delivered_before = rx.hits().len();
    assert!(delivered_before < 2 * n, "the crash came mid-burst");

    let core = Core::open(dir.path()).unwrap();
    core.start_dispatcher(test_config()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let pending: i64 = core
            .store()
            .conn()
            .query_row(
                "SELECT count(*) FROM webhook_delivery WHERE status != 'succeeded'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        if pending == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{pending} deliveries unfinished");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let hits = rx.hits();
    let ok_ids: HashSet<String> = {
        let per = rx.seen.per_delivery.lock().unwrap();
        per.iter()
            .filter(|(_, n)| **n >= 2)
            .map(|(id, _)| id.clone())
            .collect()
    };
    assert_eq!(ok_ids, fired_ids, "every accepted event reached a 200");
    assert!(hits
        .iter()
        .all(|h| fired_ids.contains(header(h, "x-pitchbar-delivery"))));
    core.stop_dispatcher().await;
}
