//! The local receiver over real loopback HTTP and a real SQLite file: recording, every
//! diagnosis, persistence, and the dispatcher delivering to it. Replays are in
//! receiver_replay.rs, response control and forwarding in receiver_responses.rs.

mod support;

use std::sync::Arc;
use std::time::Duration;

use pitchbar_core::error::Error;
use pitchbar_core::receiver::{ReceiverQuery, VerifyWith};
use pitchbar_core::secret::Secret;
use pitchbar_core::webhooks::dispatcher::DispatcherConfig;
use pitchbar_core::webhooks::endpoints::{EndpointInput, Policy};
use pitchbar_core::webhooks::verify::{Candidate, CandidateState, VerdictCode};
use pitchbar_core::webhooks::EventType;
use pitchbar_core::Core;
use support::now_secs as now;
use support::receiver::{config, http, newest, post, recorded, signed, started, BODY, SECRET};

#[tokio::test]
async fn a_good_signed_request_is_recorded_whole_and_valid() {
    let (_dir, core, base) = started(VerifyWith::Secret(Secret::new(SECRET))).await;
    let mut changes = core.subscribe_receiver();
    let resp = http()
        .put(format!("{base}/hooks/lead?x=1&y=two"))
        .header(
            "X-Pitchbar-Signature",
            signed(SECRET, now(), BODY.as_bytes()),
        )
        .header("X-Custom", "first")
        .header("X-Custom", "second")
        .body(BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let d = newest(&core, 1).await;
    assert_eq!(d.summary.method, "PUT");
    assert_eq!(d.summary.path, "/hooks/lead");
    assert_eq!(d.summary.query.as_deref(), Some("x=1&y=two"));
    assert_eq!(d.body, BODY.as_bytes());
    assert_eq!(d.summary.body_size, BODY.len() as u64);
    let custom: Vec<&str> = d
        .headers
        .iter()
        .filter(|h| h.name == "x-custom")
        .map(|h| h.value.as_str())
        .collect();
    assert_eq!(custom, ["first", "second"]);
    assert!(d.verdict.valid, "{:?}", d.verdict);
    assert_eq!(d.summary.verdict_code, VerdictCode::Valid);
    assert_eq!(d.verdict.matched.as_deref(), Some("the secret you entered"));
    assert_eq!(d.summary.response_status, Some(200));
    assert!(!d.response_closed);
    let changed = tokio::time::timeout(Duration::from_secs(5), changes.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(changed.request_ids, vec![d.summary.id]);
    let status = core.receiver().status();
    assert!(status.running);
    assert_eq!(status.addr.as_deref(), base.strip_prefix("http://"));
    core.receiver().stop().await;
    assert!(!core.receiver().status().running);
}

#[tokio::test]
async fn each_bad_request_gets_its_diagnosis() {
    // The app's wiring: an endpoint's current secret and one retired an hour ago.
    let retired_at_ms = (now() - 3_600) * 1000;
    let provider: pitchbar_core::receiver::CandidatesFn = Arc::new(move || {
        Ok(Arc::new(vec![
            Candidate {
                label: "https://shop.test/hooks".into(),
                secret: Secret::new(SECRET),
                state: CandidateState::Current,
            },
            Candidate {
                label: "https://shop.test/hooks".into(),
                secret: Secret::new("whsec_retired_one"),
                state: CandidateState::Retired { retired_at_ms },
            },
        ]))
    });
    let (dir, core, base) = started(VerifyWith::Candidates(provider)).await;
    let body = BODY.as_bytes();
    let pretty =
        serde_json::to_vec_pretty(&serde_json::json!({"a": 1, "b": [true, null]})).unwrap();
    let pretty_signed = signed(SECRET, now(), br#"{"a":1,"b":[true,null]}"#);
    let good = signed(SECRET, now(), body);
    let cases: Vec<(Option<String>, Vec<u8>, VerdictCode)> = vec![
        (None, body.to_vec(), VerdictCode::HeaderMissing),
        (
            Some("t=abc,v1=zz".into()),
            body.to_vec(),
            VerdictCode::HeaderMalformed,
        ),
        (
            Some(signed(SECRET, now() - 900, body)),
            body.to_vec(),
            VerdictCode::TimestampTooOld,
        ),
        (
            Some(signed(SECRET, now() + 900, body)),
            body.to_vec(),
            VerdictCode::TimestampInFuture,
        ),
        (
            Some(good.clone()),
            BODY.replace("Ada", "Eve").into_bytes(),
            VerdictCode::BodyAlteredOrWrongSecret,
        ),
        (Some(pretty_signed), pretty, VerdictCode::BodyReserialized),
        (
            Some(signed("whsec_retired_one", now(), body)),
            body.to_vec(),
            VerdictCode::RotatedSecret,
        ),
        (Some(good.clone()), body.to_vec(), VerdictCode::Valid),
        (Some(good), body.to_vec(), VerdictCode::Replayed),
    ];
    for (i, (header, body, _)) in cases.iter().enumerate() {
        let resp = post(&base, &format!("/case/{i}"), header.as_deref(), body).await;
        // The default answer is given whatever the verdict: the sender sees a normal server.
        assert_eq!(resp.status(), 200);
    }
    let rows = recorded(&core, cases.len()).await;
    for (i, (_, _, code)) in cases.iter().enumerate() {
        let row = rows
            .iter()
            .find(|r| r.path == format!("/case/{i}"))
            .unwrap();
        assert_eq!(row.verdict_code, *code, "case {i}: {}", row.verdict_title);
        assert_eq!(row.valid, *code == VerdictCode::Valid);
    }
    let old = rows.iter().find(|r| r.path == "/case/2").unwrap();
    let old = core.receiver_log().get(old.id).unwrap();
    assert!(old.verdict.skew_secs.unwrap() <= -599, "{:?}", old.verdict);
    let future = rows.iter().find(|r| r.path == "/case/3").unwrap();
    assert!(
        core.receiver_log()
            .get(future.id)
            .unwrap()
            .verdict
            .skew_secs
            .unwrap()
            >= 599
    );

    // No secret at all: a receiver started without one.
    core.receiver().stop().await;
    let addr = core.receiver().start(config(VerifyWith::Nothing)).unwrap();
    post(
        &format!("http://{addr}"),
        "/none",
        Some(&signed(SECRET, now(), body)),
        body,
    )
    .await;
    let d = newest(&core, cases.len() + 1).await;
    assert_eq!(d.summary.path, "/none");
    assert_eq!(d.verdict.code, VerdictCode::NoSecret);
    core.receiver().stop().await;
    drop(dir);
}

/// Requests in flight together, answered, then an immediate stop: every answered one is in the
/// log after reopening, with its exact body bytes (not UTF-8 either) and its headers as received
/// (a value that is not UTF-8 recorded lossily), verified.
#[tokio::test]
async fn a_stop_right_after_many_answers_keeps_every_one_byte_exact() {
    let (dir, core, base) = started(VerifyWith::Secret(Secret::new(SECRET))).await;
    let client = http();
    let body_of = |i: u32| -> Vec<u8> {
        let mut b = vec![0u8, 0xff, 0xfe, b'"', b'\\', b'\n'];
        b.extend_from_slice(&i.to_be_bytes());
        b.extend(std::iter::repeat_n(b'x', (i % 7) as usize * 300));
        b
    };
    let sends = (0..200u32).map(|i| {
        let (client, base, body) = (client.clone(), base.clone(), body_of(i));
        tokio::spawn(async move {
            let signature = signed(SECRET, now(), &body);
            client
                .post(format!("{base}/n/{i}"))
                .header("X-Pitchbar-Signature", signature)
                .header(
                    "X-Latin1",
                    reqwest::header::HeaderValue::from_bytes(b"caf\xe9").unwrap(),
                )
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
        })
    });
    for send in sends.collect::<Vec<_>>() {
        assert_eq!(send.await.unwrap(), 200);
    }
    core.receiver().stop().await;
    drop(core);

    let core = Core::open(dir.path()).unwrap();
    let log = core.receiver_log();
    let rows = log
        .list(&ReceiverQuery {
            limit: Some(500),
            cursor: None,
        })
        .unwrap()
        .requests;
    assert_eq!(rows.len(), 200);
    for row in rows {
        let i: u32 = row.path.strip_prefix("/n/").unwrap().parse().unwrap();
        let d = log.get(row.id).unwrap();
        assert_eq!(d.body, body_of(i), "body of /n/{i}");
        assert_eq!(d.header("x-latin1"), Some("caf\u{fffd}"));
        assert_eq!(d.summary.method, "POST");
        assert!(d.verdict.valid, "{:?}", d.verdict);
    }
}

#[tokio::test]
async fn records_survive_reopening_and_clear_empties_the_log() {
    let (dir, core, base) = started(VerifyWith::Nothing).await;
    for i in 0..120 {
        post(
            &base,
            &format!("/r{i}"),
            None,
            format!("{{\"i\":{i}}}").as_bytes(),
        )
        .await;
    }
    core.receiver().stop().await;
    drop(core);
    let core = Core::open(dir.path()).unwrap();
    let owner = support::workspace::set_up_owner(&core);
    let log = core.receiver_log();
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = log
            .list(&ReceiverQuery {
                cursor,
                limit: Some(50),
            })
            .unwrap();
        seen.extend(page.requests.iter().map(|r| r.path.clone()));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let expected: Vec<String> = (0..120).rev().map(|i| format!("/r{i}")).collect();
    assert_eq!(seen, expected, "newest first, each once");
    assert!(log
        .list(&ReceiverQuery {
            cursor: Some("x".into()),
            limit: None
        })
        .is_err());
    let mut changes = core.subscribe_receiver();
    assert_eq!(log.clear(&owner).unwrap(), 120);
    // A Member may not.
    let member = support::workspace::member_actor(&core, &owner);
    assert!(log.clear(&member).is_err());
    assert!(log
        .list(&ReceiverQuery::default())
        .unwrap()
        .requests
        .is_empty());
    assert!(matches!(log.get(1), Err(Error::NotFound(_))));
    assert!(changes.try_recv().unwrap().request_ids.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dispatcher_delivers_to_the_receiver_and_it_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let core = Arc::new(Core::open(dir.path()).unwrap());
    let actor = support::workspace::set_up_owner(&core);
    // The app's wiring: every endpoint's secrets, refreshed when an endpoint is created.
    let provider = core.receiver().endpoint_candidates();
    let addr = core
        .receiver()
        .start(config(VerifyWith::Candidates(provider)))
        .unwrap();
    let ep = core
        .webhook_endpoints()
        .create(
            &actor,
            EndpointInput {
                url: format!("http://{addr}/webhooks"),
                events: vec!["lead.captured".into()],
                active: true,
                policy: Policy::Single,
                ..EndpointInput::default()
            },
        )
        .unwrap();
    core.start_dispatcher(DispatcherConfig::default()).unwrap();
    let delivery = core
        .webhook_deliveries()
        .send_test(&actor, &ep.id, EventType::LeadCaptured, None)
        .unwrap();
    let d = newest(&core, 1).await;
    assert_eq!(d.summary.path, "/webhooks");
    assert_eq!(d.header("x-pitchbar-delivery"), Some(delivery.as_str()));
    assert!(d.verdict.valid, "{:?}", d.verdict);
    assert_eq!(d.verdict.matched.as_deref(), Some(ep.url.as_str()));
    core.stop_dispatcher().await;
    core.receiver().stop().await;
}

/// Credentials a tester's client sends along (a bearer token, a session cookie) are masked in the
/// log by default — their kind, cookie names and sizes kept — and recorded as sent only when the
/// receiver was started to keep them.
#[tokio::test]
async fn credential_headers_are_masked_unless_kept() {
    let send = |base: String| async move {
        http()
            .post(format!("{base}/hooks"))
            .header("Authorization", "Bearer sk_live_abcdefghijklmnop")
            .header("Cookie", "session=s3cr3t; theme=dark")
            .header("X-Custom", "visible")
            .body(BODY)
            .send()
            .await
            .unwrap();
    };
    let value = |d: &pitchbar_core::receiver::ReceivedDetail, name: &str| {
        d.headers
            .iter()
            .find(|h| h.name == name)
            .map(|h| h.value.clone())
            .unwrap()
    };

    let (_dir, core, base) = started(VerifyWith::Nothing).await;
    send(base).await;
    let d = newest(&core, 1).await;
    assert_eq!(value(&d, "authorization"), "Bearer ••• (masked, 24 bytes)");
    assert_eq!(value(&d, "cookie"), "session=•••; theme=••• (masked)");
    assert_eq!(value(&d, "x-custom"), "visible");
    assert_eq!(core.receiver().status().keep_credentials, Some(false));
    core.receiver().stop().await;

    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path()).unwrap();
    let addr = core
        .receiver()
        .start(pitchbar_core::receiver::ReceiverConfig {
            keep_credentials: true,
            ..config(VerifyWith::Nothing)
        })
        .unwrap();
    send(format!("http://{addr}")).await;
    let d = newest(&core, 1).await;
    assert_eq!(
        value(&d, "authorization"),
        "Bearer sk_live_abcdefghijklmnop"
    );
    assert_eq!(value(&d, "cookie"), "session=s3cr3t; theme=dark");
    core.receiver().stop().await;
}
