//! The delivery log over real deliveries to a real receiver: filters, keyset paging, one
//! attempt's bytes, copy as curl (run through a real shell), endpoint health.

mod support;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use pitchbar_core::webhooks::dispatcher::DispatcherConfig;
use pitchbar_core::webhooks::endpoints::{EndpointInput, Policy};
use pitchbar_core::webhooks::events::sample_data;
use pitchbar_core::webhooks::log::{LogQuery, StatusClass};
use pitchbar_core::webhooks::{EventType, Payload};
use pitchbar_core::Core;
use support::test_receiver::{Answer, TestReceiver};

/// The receiver: `/ok` answers 200 `fine`, `/fail` 400 `nope`.
async fn receiver() -> TestReceiver {
    TestReceiver::answering(|hit| match hit.path.as_str() {
        "/ok" => Answer::ok("fine"),
        "/fail" => Answer::status(400).body("nope"),
        _ => Answer::status(404),
    })
    .await
}

struct Fixture {
    _rx: TestReceiver,
    _dir: tempfile::TempDir,
    core: Core,
    ok_ep: String,
    fail_ep: String,
}

async fn fixture() -> Fixture {
    let rx = receiver().await;
    let (dir, core, actor) = support::workspace::owner_core();
    let make = |path: &str| EndpointInput {
        url: rx.url(path),
        events: vec!["lead.captured".into(), "conversation.started".into()],
        active: true,
        policy: Policy::Single,
        ..EndpointInput::default()
    };
    let ok_ep = core
        .webhook_endpoints()
        .create(&actor, make("/ok"))
        .unwrap()
        .id;
    let fail_ep = core
        .webhook_endpoints()
        .create(&actor, make("/fail"))
        .unwrap()
        .id;
    core.start_dispatcher(DispatcherConfig::default()).unwrap();
    let mut ids = Vec::new();
    for i in 0..30 {
        let ty = if i % 3 == 0 {
            EventType::ConversationStarted
        } else {
            EventType::LeadCaptured
        };
        ids.extend(
            core.outbox()
                .fire(&Payload::now(sample_data(ty)))
                .unwrap()
                .delivery_ids,
        );
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let n: i64 = core
            .store()
            .conn()
            .query_row("SELECT count(*) FROM webhook_attempt", [], |r| r.get(0))
            .unwrap();
        if n == 60 {
            break;
        }
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Fixture {
        _rx: rx,
        _dir: dir,
        core,
        ok_ep,
        fail_ep,
    }
}

#[tokio::test]
async fn filters_and_keyset_pages_cover_every_row_once_newest_first() {
    let f = fixture().await;
    let log = f.core.delivery_log();
    let mut seen = HashSet::new();
    let mut cursor = None;
    let mut last = None;
    loop {
        let page = log
            .list(&LogQuery {
                limit: Some(7),
                cursor: cursor.clone(),
                ..LogQuery::default()
            })
            .unwrap();
        for a in &page.attempts {
            assert!(seen.insert(a.id), "no row twice");
            let key = (a.attempted_at.clone(), a.id);
            if let Some(prev) = &last {
                assert!(&key < prev, "newest first");
            }
            last = Some(key);
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen.len(), 60);

    let q = |q: LogQuery| {
        log.list(&LogQuery {
            limit: Some(500),
            ..q
        })
        .unwrap()
        .attempts
    };
    let ok = q(LogQuery {
        status: Some(StatusClass::Ok),
        ..LogQuery::default()
    });
    assert_eq!(ok.len(), 30);
    assert!(ok.iter().all(|a| a.ok && a.endpoint_id == f.ok_ep));
    let failed = q(LogQuery {
        status: Some(StatusClass::Failed),
        endpoint_id: Some(f.fail_ep.clone()),
        ..LogQuery::default()
    });
    assert_eq!(failed.len(), 30);
    assert!(failed
        .iter()
        .all(|a| a.response_status == Some(400) && a.error_class.as_deref() == Some("non_2xx")));
    let started = q(LogQuery {
        event_type: Some(EventType::ConversationStarted),
        endpoint_id: Some(f.ok_ep.clone()),
        ..LogQuery::default()
    });
    assert_eq!(started.len(), 10);
    let future = q(LogQuery {
        since: Some("2999-01-01T00:00:00Z".into()),
        ..LogQuery::default()
    });
    assert!(future.is_empty());
    let past = q(LogQuery {
        until: Some("2999-01-01T00:00:00Z".into()),
        since: Some("2000-01-01T00:00:00+02:00".into()),
        ..LogQuery::default()
    });
    assert_eq!(past.len(), 60);

    assert!(matches!(
        log.list(&LogQuery {
            cursor: Some("garbage".into()),
            ..LogQuery::default()
        }),
        Err(pitchbar_core::Error::InvalidInput(_))
    ));
    assert!(matches!(
        log.list(&LogQuery {
            since: Some("yesterday".into()),
            ..LogQuery::default()
        }),
        Err(pitchbar_core::Error::InvalidInput(_))
    ));
}

#[tokio::test]
async fn health_counts_success_latency_and_consecutive_failures() {
    let f = fixture().await;
    let log = f.core.delivery_log();
    let good = log.health(&f.ok_ep, 100).unwrap();
    assert_eq!(good.attempts, 30);
    assert_eq!(good.success_rate, Some(1.0));
    assert_eq!(good.consecutive_failures, 0);
    assert!(good.p50_ms.unwrap() <= good.p95_ms.unwrap());
    let bad = log.health(&f.fail_ep, 10).unwrap();
    assert_eq!(bad.attempts, 10);
    assert_eq!(bad.success_rate, Some(0.0));
    assert_eq!(bad.consecutive_failures, 10);
    let none = log.health("01NOPE", 100).unwrap();
    assert_eq!(none.attempts, 0);
    assert_eq!(none.success_rate, None);
}

#[tokio::test]
async fn copy_as_curl_resends_the_exact_request_through_a_real_shell() {
    let f = fixture().await;
    let log = f.core.delivery_log();
    let page = log
        .list(&LogQuery {
            endpoint_id: Some(f.ok_ep.clone()),
            limit: Some(1),
            ..LogQuery::default()
        })
        .unwrap();
    let detail = log.get(page.attempts[0].id).unwrap();
    assert_eq!(detail.response_body_text().as_deref(), Some("fine"));
    let curl = log.curl(detail.summary.id).unwrap();
    assert!(curl.contains("--data-binary '"));
    assert!(curl.contains("-H 'X-Pitchbar-Signature: t="));

    // Run the command's words through sh with `curl` replaced by a function that prints its
    // arguments: the body and headers must come back byte for byte.
    let script = format!("curl() {{ for a in \"$@\"; do printf '%s\\0' \"$a\"; done; }}\n{curl}\n");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(&script)
        .output()
        .unwrap();
    assert!(out.status.success());
    let args: Vec<String> = out
        .stdout
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8(a.to_vec()).unwrap())
        .collect();
    let body_at = args.iter().position(|a| a == "--data-binary").unwrap() + 1;
    assert_eq!(args[body_at].as_bytes(), &detail.request_body[..]);
    assert_eq!(args[2], detail.summary.url);
    let sig = format!(
        "X-Pitchbar-Signature: {}",
        detail.request_header("x-pitchbar-signature").unwrap()
    );
    assert!(args.contains(&sig));
}

#[test]
fn curl_quotes_awkward_bytes() {
    use pitchbar_core::outbox::Trigger;
    use pitchbar_core::webhooks::log::{render_curl, AttemptDetail, AttemptSummary, Header};
    let detail = AttemptDetail {
        summary: AttemptSummary {
            id: 1,
            delivery_id: "d".into(),
            endpoint_id: "e".into(),
            event_type: "lead.captured".into(),
            trigger: Trigger::Event,
            attempt_no: 1,
            attempted_at: "2026-01-01T00:00:00Z".into(),
            url: "http://127.0.0.1:1/it's?a=1&b=$HOME".into(),
            response_status: None,
            ok: false,
            error_class: None,
            duration_us: 0,
            next_attempt_at: None,
        },
        request_headers: vec![Header {
            name: "X-Test".into(),
            value: "a'b $(rm -rf /) `x`".into(),
        }],
        request_body: br#"{"name":"O'Brien $USER \"q\""}"#.to_vec(),
        response_headers: vec![],
        response_body: None,
        response_truncated: false,
        error_message: None,
    };
    let curl = render_curl(&detail);
    let script = format!("curl() {{ for a in \"$@\"; do printf '%s\\0' \"$a\"; done; }}\n{curl}\n");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(&script)
        .output()
        .unwrap();
    let args: Vec<&[u8]> = out.stdout.split(|b| *b == 0).collect();
    assert!(args.contains(&detail.summary.url.as_bytes()));
    assert!(args.contains(&&b"X-Test: a'b $(rm -rf /) `x`"[..]));
    assert!(args.contains(&&detail.request_body[..]));
}

#[test]
fn a_row_logged_before_0007_still_reads_its_own_body_bytes() {
    // Rows written before migration 0007 carry their body; newer ones refer to the event's
    // payload. Both read back as the bytes sent.
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path()).unwrap();
    let body = br#"{"event":"lead.captured","data":{"name":"Ana"}}"#;
    let id: i64 = core
        .store()
        .write(|tx| {
            tx.execute(
                "INSERT INTO webhook_attempt (delivery_id, endpoint_id, event_type, trigger,
                     attempt_no, attempted_at, url, request_headers, request_body, duration_us, ok)
                 VALUES ('01D', '01E', 'lead.captured', 'event', 1, 1, 'http://127.0.0.1:9/',
                     '[[\"Content-Type\",\"application/json\"]]', ?1, 5, 1)",
                [&body[..]],
            )?;
            Ok(tx.last_insert_rowid())
        })
        .unwrap();
    let detail = core.delivery_log().get(id).unwrap();
    assert_eq!(detail.request_body, body);
    assert_eq!(
        detail.request_header("content-type"),
        Some("application/json")
    );
}
