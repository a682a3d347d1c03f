//! The receiver as the app uses it: started by an Owner with every endpoint's secrets,
//! "Send test events here" (an endpoint made once, then reused; still verified after a
//! rotation), and the verify tool on a pasted header and body. Real loopback HTTP, real SQLite
//! and a real Secret Service: run through `scripts/with-keychain.sh`.

mod support;

use std::time::{Duration, Instant};

use pitchbar_core::receiver::{
    ReceivedDetail, ReceiverStart, ResponseSpec, VerifyChoice, VerifyInput,
};
use pitchbar_core::webhooks::dispatcher::DispatcherConfig;
use pitchbar_core::webhooks::verify::VerdictCode;
use pitchbar_core::{Core, Error};

use support::workspace::{member_actor, owner_core};

fn start(verify: VerifyChoice) -> ReceiverStart {
    ReceiverStart {
        port: 0,
        verify,
        response: ResponseSpec::default(),
        forward_to: None,
        keep_credentials: false,
    }
}

/// Waits until the receiver has recorded `n` requests; returns the newest in full.
async fn nth(core: &Core, n: usize) -> ReceivedDetail {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let page = core.receiver_log().list(&Default::default()).unwrap();
        if page.requests.len() >= n {
            return core.receiver_log().get(page.requests[0].id).unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "the receiver recorded {} of {n}",
            page.requests.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_test_events_here_is_verified_at_once_and_after_a_rotation() {
    let (_dir, core, owner) = owner_core();
    core.start_dispatcher(DispatcherConfig::default()).unwrap();

    // Nothing to send to before the receiver runs.
    let err = core.receiver().send_test_events_here(&owner).unwrap_err();
    assert!(
        matches!(&err, Error::Conflict(m) if m.contains("not running")),
        "{err:?}"
    );

    core.receiver()
        .start_as(&owner, start(VerifyChoice::Endpoints))
        .unwrap();
    let first = core.receiver().send_test_events_here(&owner).unwrap();
    assert!(first.created);
    let got = nth(&core, 1).await;
    assert_eq!(got.verdict.code, VerdictCode::Valid, "{:?}", got.verdict);
    assert_eq!(
        got.header("x-pitchbar-delivery"),
        Some(first.delivery_id.as_str())
    );

    let again = core.receiver().send_test_events_here(&owner).unwrap();
    assert!(!again.created, "the endpoint made before is reused");
    assert_eq!(again.endpoint_id, first.endpoint_id);
    assert_eq!(core.webhook_endpoints().list().unwrap().len(), 1);
    assert_eq!(nth(&core, 2).await.verdict.code, VerdictCode::Valid);

    // A rotation without overlap: the next delivery is verified with the new secret at once.
    core.webhook_endpoints()
        .rotate_secret(&owner, &first.endpoint_id, Duration::ZERO)
        .unwrap();
    core.receiver().send_test_events_here(&owner).unwrap();
    let rotated = nth(&core, 3).await;
    assert_eq!(
        rotated.verdict.code,
        VerdictCode::Valid,
        "{:?}",
        rotated.verdict
    );

    // The verify tool on what arrived: the bytes verify; a changed byte does not; a request
    // signed before the rotation names the retired secret.
    let header = rotated.header("x-pitchbar-signature").unwrap().to_owned();
    let body = String::from_utf8(rotated.body.clone()).unwrap();
    let check = |header: &str, body: &str, secret: Option<&str>| {
        core.receiver()
            .verify_pasted(&VerifyInput {
                header: Some(header.into()),
                body: body.into(),
                secret: secret.map(Into::into),
            })
            .unwrap()
    };
    assert_eq!(check(&header, &body, None).code, VerdictCode::Valid);
    let tampered = body.replacen("lead.captured", "lead.updated", 1);
    assert_eq!(
        check(&header, &tampered, None).code,
        VerdictCode::BodyAlteredOrWrongSecret
    );
    let page = core.receiver_log().list(&Default::default()).unwrap();
    let before = core
        .receiver_log()
        .get(page.requests.last().unwrap().id)
        .unwrap();
    let verdict = check(
        before.header("x-pitchbar-signature").unwrap(),
        &String::from_utf8(before.body.clone()).unwrap(),
        None,
    );
    assert_eq!(verdict.code, VerdictCode::RotatedSecret, "{verdict:?}");

    let err = core
        .receiver()
        .verify_pasted(&VerifyInput {
            header: Some(header.clone()),
            body: body.clone(),
            secret: Some("not-a-secret".into()),
        })
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");

    core.receiver().stop().await;
    core.stop_dispatcher().await;
}

#[tokio::test]
async fn a_member_cannot_start_the_receiver_or_send_to_it() {
    let (_dir, core, owner) = owner_core();
    let actor = member_actor(&core, &owner);
    let err = core
        .receiver()
        .start_as(&actor, start(VerifyChoice::Nothing))
        .unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
    assert!(!core.receiver().status().running);
    assert!(matches!(
        core.receiver().send_test_events_here(&actor),
        Err(Error::Forbidden(_))
    ));
}

/// The endpoint "Send test events here" makes gets test events only — a lead captured while it
/// is on is not sent to it — and is turned off when the receiver stops, then reused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_receivers_endpoint_gets_test_events_only_and_stops_with_it() {
    let (_dir, core, owner) = owner_core();
    core.start_dispatcher(DispatcherConfig::default()).unwrap();
    let port = support::free_port();
    let on_port = || ReceiverStart {
        port,
        ..start(VerifyChoice::Endpoints)
    };
    core.receiver().start_as(&owner, on_port()).unwrap();
    let sent = core.receiver().send_test_events_here(&owner).unwrap();
    let endpoint = core.webhook_endpoints().get(&sent.endpoint_id).unwrap();
    assert!(endpoint.test_only && endpoint.active);
    nth(&core, 1).await;

    core.leads()
        .capture(pitchbar_core::leads::LeadInput {
            name: Some("Real Lead".into()),
            email: Some("real@lead.test".into()),
            ..Default::default()
        })
        .unwrap();
    let deliveries: i64 = core
        .store()
        .conn()
        .query_row(
            "SELECT count(*) FROM webhook_delivery WHERE endpoint_id = ?1",
            [&sent.endpoint_id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        deliveries, 1,
        "only the test event goes to the receiver's endpoint"
    );

    core.receiver().stop_as(&owner).await.unwrap();
    let off = core.webhook_endpoints().get(&sent.endpoint_id).unwrap();
    assert!(!off.active);
    assert!(
        off.disabled_reason
            .as_deref()
            .is_some_and(|r| r.contains("receiver stopped")),
        "{off:?}"
    );

    core.receiver().start_as(&owner, on_port()).unwrap();
    let again = core.receiver().send_test_events_here(&owner).unwrap();
    assert_eq!(
        (again.endpoint_id.as_str(), again.created),
        (sent.endpoint_id.as_str(), false)
    );
    assert!(
        core.webhook_endpoints()
            .get(&again.endpoint_id)
            .unwrap()
            .active
    );
    assert_eq!(nth(&core, 2).await.verdict.code, VerdictCode::Valid);
    core.receiver().stop().await;
    core.stop_dispatcher().await;
}

/// Waits until the delivery log holds `n` attempts; returns them, newest first.
async fn attempts(core: &Core, n: usize) -> Vec<pitchbar_core::webhooks::log::AttemptSummary> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let page = core.delivery_log().list(&Default::default()).unwrap();
        if page.attempts.len() >= n {
            return page.attempts;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {n} attempts logged",
            page.attempts.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The receiver's answers drive each of the dispatcher's paths: 429 with Retry-After schedules
/// the retry that far ahead, a delay past the endpoint's timeout is a timeout, 410 turns the
/// endpoint off and says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failure_injection_drives_each_dispatcher_policy_path() {
    use pitchbar_core::webhooks::endpoints::{EndpointInput, Policy};
    use pitchbar_core::webhooks::events::sample_data;
    use pitchbar_core::webhooks::{EventType, Payload};

    let (_dir, core, owner) = owner_core();
    core.start_dispatcher(DispatcherConfig::default()).unwrap();
    let addr = core
        .receiver()
        .start_as(&owner, start(VerifyChoice::Endpoints))
        .unwrap();
    let endpoint = core
        .webhook_endpoints()
        .create(
            &owner,
            EndpointInput {
                url: format!("http://{addr}/webhooks"),
                events: vec!["lead.captured".into()],
                active: true,
                policy: Policy::AtLeastOnce,
                max_attempts: Some(3),
                timeout_ms: Some(1_000),
                standard_webhooks: false,
                ..EndpointInput::default()
            },
        )
        .unwrap();
    // Real events: a test send is always a single attempt, whatever the policy.
    let send = || {
        let payload = Payload::now(sample_data(EventType::LeadCaptured));
        core.outbox().fire(&payload).unwrap();
    };

    // 429 with Retry-After: 120 → failed, the next attempt two minutes out (not the 10 s backoff).
    core.receiver()
        .set_response(ResponseSpec {
            retry_after_secs: Some(120),
            ..ResponseSpec::status(429)
        })
        .unwrap();
    send();
    let first = &attempts(&core, 1).await[0];
    assert_eq!(first.response_status, Some(429));
    let next = time::OffsetDateTime::parse(
        first
            .next_attempt_at
            .as_deref()
            .expect("a retry is scheduled"),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let wait = next - time::OffsetDateTime::now_utc();
    assert!(
        wait > time::Duration::seconds(100) && wait <= time::Duration::seconds(121),
        "Retry-After 120 s honoured, next attempt in {wait}"
    );

    // A delay past the endpoint's 1 s timeout: the attempt is a timeout.
    core.receiver()
        .set_response(ResponseSpec {
            delay_ms: 2_500,
            ..ResponseSpec::status(200)
        })
        .unwrap();
    send();
    let timed_out = &attempts(&core, 2).await[0];
    assert_eq!(
        timed_out.error_class.as_deref(),
        Some("timeout"),
        "{timed_out:?}"
    );
    assert_eq!(timed_out.response_status, None);

    // 410 Gone: the endpoint is turned off, and its card says why.
    core.receiver()
        .set_response(ResponseSpec::status(410))
        .unwrap();
    send();
    assert_eq!(attempts(&core, 3).await[0].response_status, Some(410));
    let deadline = Instant::now() + Duration::from_secs(5);
    let view = loop {
        let view = core.webhook_endpoints().get(&endpoint.id).unwrap();
        if !view.active || Instant::now() > deadline {
            break view;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(!view.active, "410 turns the endpoint off");
    assert!(view.disabled_reason.unwrap().contains("410"));

    core.receiver().stop().await;
    core.stop_dispatcher().await;
}
