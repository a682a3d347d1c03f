//! The local receiver over real loopback HTTP and a real SQLite file: recording, every
//! diagnosis, response control, forwarding, persistence, and the dispatcher delivering to it.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::HeaderMap;
use pitchbar_core::error::Error;
use pitchbar_core::receiver::{
    ReceivedDetail, ReceivedSummary, ReceiverConfig, ReceiverQuery, ResponseSpec, VerifyWith,
};
use pitchbar_core::secret::Secret;
use pitchbar_core::webhooks::dispatcher::DispatcherConfig;
use pitchbar_core::webhooks::endpoints::{EndpointInput, Policy};
use pitchbar_core::webhooks::sign;
use pitchbar_core::webhooks::verify::{Candidate, CandidateState, VerdictCode};
use pitchbar_core::webhooks::EventType;
use pitchbar_core::Core;

const SECRET: &str = "whsec_receiver_test_secret_0123456789";
const BODY: &str = r#"{"event":"lead.captured","occurred_at":"2027-01-15T08:00:00Z","data":{"lead_id":"01J","name":"Ada"}}"#;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn signed(secret: &str, t: i64, body: &[u8]) -> String {
    sign(&[&Secret::new(secret)], t, body)
}

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn config(verify_with: VerifyWith) -> ReceiverConfig {
    ReceiverConfig {
        port: 0,
        verify_with,
        ..ReceiverConfig::default()
    }
}

async fn started(verify_with: VerifyWith) -> (tempfile::TempDir, Core, String) {
    let dir = tempfile::tempdir().unwrap();
    let (core, base) = reopened(dir.path(), verify_with);
    (dir, core, base)
}

/// The app started again on `dir`, its receiver running.
fn reopened(dir: &std::path::Path, verify_with: VerifyWith) -> (Core, String) {
    let core = Core::open(dir).unwrap();
    let addr = core.start_receiver(config(verify_with)).unwrap();
    (core, format!("http://{addr}"))
}

async fn post(base: &str, path: &str, signature: Option<&str>, body: &[u8]) -> reqwest::Response {
    let mut req = http()
        .post(format!("{base}{path}"))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(s) = signature {
        req = req.header("X-Pitchbar-Signature", s);
    }
    req.send().await.unwrap()
}

/// Waits until `n` requests are recorded (records are committed just after the answer).
async fn recorded(core: &Core, n: usize) -> Vec<ReceivedSummary> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let page = core
            .receiver_log()
            .list(&ReceiverQuery {
                limit: Some(500),
                ..ReceiverQuery::default()
            })
            .unwrap();
        if page.requests.len() >= n {
            return page.requests;
        }
        assert!(
            Instant::now() < deadline,
            "only {} of {n} recorded",
            page.requests.len()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn newest(core: &Core, n: usize) -> ReceivedDetail {
    let id = recorded(core, n).await[0].id;
    core.receiver_log().get(id).unwrap()
}

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
    let status = core.receiver_status();
    assert!(status.running);
    assert_eq!(status.addr.as_deref(), base.strip_prefix("http://"));
    core.stop_receiver().await;
    assert!(!core.receiver_status().running);
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
    core.stop_receiver().await;
    let addr = core.start_receiver(config(VerifyWith::Nothing)).unwrap();
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
    core.stop_receiver().await;
    drop(dir);
}

#[tokio::test]
async fn a_replay_after_a_restart_is_still_recognised() {
    let (dir, core, base) = started(VerifyWith::Secret(Secret::new(SECRET))).await;
    let header = signed(SECRET, now(), BODY.as_bytes());
    post(&base, "/a", Some(&header), BODY.as_bytes()).await;
    recorded(&core, 1).await;
    core.stop_receiver().await;
    drop(core);
    let (core, base) = reopened(dir.path(), VerifyWith::Secret(Secret::new(SECRET)));
    post(&base, "/b", Some(&header), BODY.as_bytes()).await;
    assert_eq!(newest(&core, 2).await.verdict.code, VerdictCode::Replayed);
    // An old signature sent again: too old first, and the replay is said too.
    let old = signed(SECRET, now() - 1_000, BODY.as_bytes());
    post(&base, "/c", Some(&old), BODY.as_bytes()).await;
    recorded(&core, 3).await;
    core.stop_receiver().await;
    let addr = core
        .start_receiver(config(VerifyWith::Secret(Secret::new(SECRET))))
        .unwrap();
    post(&format!("http://{addr}"), "/d", Some(&old), BODY.as_bytes()).await;
    let d = newest(&core, 4).await;
    assert_eq!(d.verdict.code, VerdictCode::TimestampTooOld);
    assert!(
        d.verdict.detail.contains("received before"),
        "{}",
        d.verdict.detail
    );
    core.stop_receiver().await;
}

/// Pushes every logged request an hour into the past, as if received in an earlier run: the
/// in-memory replay set loaded at start leaves them out, so only the log's index knows them.
fn age_the_log(core: &Core) {
    core.store()
        .write(|tx| {
            tx.execute(
                "UPDATE receiver_request SET received_at = received_at - 3600000",
                [],
            )?;
            Ok(())
        })
        .unwrap();
}

#[tokio::test]
async fn an_old_signature_received_in_an_earlier_run_is_found_in_the_log() {
    let (dir, core, base) = started(VerifyWith::Secret(Secret::new(SECRET))).await;
    let old = signed(SECRET, now() - 1_000, BODY.as_bytes());
    let other = signed(SECRET, now() - 1_001, BODY.as_bytes());
    post(&base, "/first", Some(&old), BODY.as_bytes()).await;
    recorded(&core, 1).await;
    core.stop_receiver().await;
    age_the_log(&core);
    drop(core);

    let (core, base) = reopened(dir.path(), VerifyWith::Secret(Secret::new(SECRET)));
    post(&base, "/other", Some(&other), BODY.as_bytes()).await;
    let fresh = newest(&core, 2).await;
    assert_eq!(fresh.verdict.code, VerdictCode::TimestampTooOld);
    assert!(
        !fresh.verdict.detail.contains("received before"),
        "{}",
        fresh.verdict.detail
    );
    post(&base, "/again", Some(&old), BODY.as_bytes()).await;
    let again = newest(&core, 3).await;
    assert_eq!(again.summary.path, "/again");
    assert!(
        again.verdict.detail.contains("received before"),
        "{}",
        again.verdict.detail
    );
    // The lookup, and the load at start, seek the replay index and read nothing else: not a
    // scan of the log, not its rows.
    let plan = |sql: &str| -> String {
        core.store()
            .conn()
            .query_row(&format!("EXPLAIN QUERY PLAN {sql}"), [], |r| r.get(3))
            .unwrap()
    };
    assert_eq!(
        plan("SELECT 1 FROM receiver_request WHERE signed_at = 1 AND signature = x'00' LIMIT 1"),
        "SEARCH receiver_request USING COVERING INDEX receiver_request_replay (signed_at=?)"
    );
    assert_eq!(
        plan(
            "SELECT signed_at, signature FROM receiver_request
             WHERE signature IS NOT NULL AND signed_at >= 1"
        ),
        "SEARCH receiver_request USING COVERING INDEX receiver_request_replay (signed_at>?)"
    );
    core.stop_receiver().await;
}

#[tokio::test]
async fn requests_logged_before_the_replay_index_are_still_known_after_the_upgrade() {
    // A log written by a build before migration 0008: no signed_at column, the signed
    // timestamp only inside the verdict's JSON, received an hour ago (outside the window
    // loaded into memory at start).
    let dir = tempfile::tempdir().unwrap();
    pitchbar_core::store::create_at_version(dir.path(), 7).unwrap();
    let t = now() - 1_000;
    let old = signed(SECRET, t, BODY.as_bytes());
    let sig = pitchbar_core::webhooks::signing::parse_signature_header(&old)
        .unwrap()
        .v1[0];
    let conn = rusqlite::Connection::open(dir.path().join("pitchbar.db")).unwrap();
    conn.execute(
        "INSERT INTO receiver_request (received_at, method, path, body_size, valid, verdict_code,
             verdict_title, response_status, response_closed, response_delay_ms, signature,
             verdict, headers, body)
         VALUES (?1, 'POST', '/first', ?2, 0, 'timestamp_too_old', 'Timestamp too old', 200, 0,
             0, ?3, ?4, '[]', ?5)",
        rusqlite::params![
            (now() - 3_600) * 1000,
            BODY.len() as i64,
            &sig[..],
            // The whole verdict, as rows were written then.
            format!(
                r#"{{"valid":false,"code":"timestamp_too_old","title":"Timestamp too old","detail":"Made 16 min ago.","matched":"the secret you entered","timestamp":{t},"skew_secs":-700,"signatures_in_header":1}}"#
            ),
            BODY.as_bytes(),
        ],
    )
    .unwrap();
    drop(conn);

    let (core, base) = reopened(dir.path(), VerifyWith::Secret(Secret::new(SECRET)));
    // The old row still reads as it was written.
    let first = core.receiver_log().get(1).unwrap();
    assert_eq!(
        (first.verdict.code, first.verdict.title.as_str()),
        (VerdictCode::TimestampTooOld, "Timestamp too old")
    );
    assert_eq!(first.verdict.detail, "Made 16 min ago.");
    assert_eq!(
        first.verdict.matched.as_deref(),
        Some("the secret you entered")
    );
    assert_eq!(
        (first.verdict.timestamp, first.verdict.skew_secs),
        (Some(t), Some(-700))
    );
    post(&base, "/again", Some(&old), BODY.as_bytes()).await;
    let again = newest(&core, 2).await;
    assert_eq!(again.summary.path, "/again");
    assert_eq!(again.verdict.code, VerdictCode::TimestampTooOld);
    assert!(
        again.verdict.detail.contains("received before"),
        "{}",
        again.verdict.detail
    );
    core.stop_receiver().await;
}

#[tokio::test]
async fn response_presets_retry_after_and_custom_body_change_while_running() {
    let (_dir, core, base) = started(VerifyWith::Nothing).await;
    core.set_receiver_response(ResponseSpec {
        retry_after_secs: Some(30),
        ..ResponseSpec::status(429)
    })
    .unwrap();
    let resp = post(&base, "/", None, b"{}").await;
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "30");
    core.set_receiver_response(ResponseSpec {
        body: r#"{"ok":false}"#.into(),
        content_type: Some("application/json".into()),
        ..ResponseSpec::status(503)
    })
    .unwrap();
    let resp = post(&base, "/", None, b"{}").await;
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.headers()["content-type"], "application/json");
    assert_eq!(resp.text().await.unwrap(), r#"{"ok":false}"#);
    for status in [200, 400, 404, 410, 500] {
        core.set_receiver_response(ResponseSpec::status(status))
            .unwrap();
        assert_eq!(post(&base, "/", None, b"{}").await.status(), status);
    }
    let rows = recorded(&core, 7).await;
    let answered: Vec<Option<u16>> = rows.iter().rev().map(|r| r.response_status).collect();
    let expected = [429, 503, 200, 400, 404, 410, 500].map(Some);
    assert_eq!(answered, expected);
    let d = core.receiver_log().get(rows[5].id).unwrap();
    assert_eq!(d.response_body.as_deref(), Some(&br#"{"ok":false}"#[..]));
    assert!(d
        .response_headers
        .iter()
        .any(|h| h.name == "content-type" && h.value == "application/json"));
    assert_eq!(
        core.receiver_status().response,
        Some(ResponseSpec::status(500))
    );
    core.stop_receiver().await;
}

#[tokio::test]
async fn a_delay_holds_the_answer_even_past_the_senders_timeout() {
    let (_dir, core, base) = started(VerifyWith::Nothing).await;
    core.set_receiver_response(ResponseSpec {
        delay_ms: 400,
        ..ResponseSpec::status(200)
    })
    .unwrap();
    let t0 = Instant::now();
    assert_eq!(post(&base, "/slow", None, b"{}").await.status(), 200);
    assert!(t0.elapsed() >= Duration::from_millis(400));
    // A sender with a shorter timeout gives up; the request is recorded all the same.
    let err = http()
        .post(format!("{base}/slower"))
        .timeout(Duration::from_millis(100))
        .body("{}")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    let rows = recorded(&core, 2).await;
    assert_eq!(rows[0].path, "/slower");
    assert_eq!(rows[0].response_delay_ms, 400);
    core.stop_receiver().await;
}

#[tokio::test]
async fn close_without_answer_gives_the_sender_a_connection_error() {
    let (_dir, core, base) = started(VerifyWith::Nothing).await;
    core.set_receiver_response(ResponseSpec {
        close_without_answer: true,
        ..ResponseSpec::status(200)
    })
    .unwrap();
    let err = http()
        .post(format!("{base}/crash"))
        .body("{}")
        .send()
        .await
        .unwrap_err();
    assert!(!err.is_timeout() && err.status().is_none(), "{err:?}");
    assert!(err.is_request() || err.is_connect(), "{err:?}");
    let d = newest(&core, 1).await;
    assert_eq!(d.summary.response_status, None);
    assert!(d.response_closed);
    core.stop_receiver().await;
}

type Captured = Arc<Mutex<Vec<(String, HeaderMap, Bytes)>>>;

async fn target() -> (String, Captured) {
    let captured: Captured = Arc::default();
    let c = captured.clone();
    let app = axum::Router::new().fallback(
        move |uri: axum::http::Uri, headers: HeaderMap, body: Bytes| {
            let c = c.clone();
            async move {
                c.lock().unwrap().push((uri.to_string(), headers, body));
                (
                    axum::http::StatusCode::ACCEPTED,
                    [("x-target", "yes")],
                    "taken",
                )
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), captured)
}

async fn forwarded(core: &Core, id: i64) -> ReceivedDetail {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let d = core.receiver_log().get(id).unwrap();
        if d.forward.as_ref().is_some_and(|f| f.done) {
            return d;
        }
        assert!(Instant::now() < deadline, "the forward never finished");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn forwarding_sends_the_same_bytes_and_records_the_answer() {
    let (target_base, captured) = target().await;
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path()).unwrap();
    let addr = core
        .start_receiver(ReceiverConfig {
            forward_to: Some(format!("{target_base}/local/hook?k=v")),
            ..config(VerifyWith::Secret(Secret::new(SECRET)))
        })
        .unwrap();
    let base = format!("http://{addr}");
    let mut changes = core.subscribe_receiver();
    let body = "{ \"spaced\" :  true }\r\n";
    let header = signed(SECRET, now(), body.as_bytes());
    let resp = post(&base, "/original/path?z=1", Some(&header), body.as_bytes()).await;
    assert_eq!(
        resp.status(),
        200,
        "the sender gets the receiver's own answer"
    );
    let id = recorded(&core, 1).await[0].id;
    let d = forwarded(&core, id).await;
    let f = d.forward.unwrap();
    assert_eq!(f.status, Some(202));
    assert_eq!(f.body.as_deref(), Some(&b"taken"[..]));
    assert!(f
        .headers
        .iter()
        .any(|h| h.name == "x-target" && h.value == "yes"));
    assert!(f.duration_us.unwrap() > 0);
    let hits = captured.lock().unwrap().clone();
    assert_eq!(hits.len(), 1);
    let (uri, headers, got) = &hits[0];
    assert_eq!(uri, "/local/hook?k=v", "exactly the forward URL");
    assert_eq!(&got[..], body.as_bytes(), "bytes unchanged");
    assert_eq!(headers["x-pitchbar-signature"], header.as_str());
    assert_eq!(
        headers["host"],
        target_base.strip_prefix("http://").unwrap()
    );
    // Announced when recorded, and again when the forward's answer was (unless both went
    // into one batch): every announcement names this request.
    let c = tokio::time::timeout(Duration::from_secs(5), changes.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.request_ids, vec![id]);

    // Forwarding to a dead port: the error is recorded, the sender still gets its answer.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = dead.local_addr().unwrap().port();
    drop(dead);
    core.set_receiver_forward(Some(format!("http://127.0.0.1:{dead_port}/hook")))
        .unwrap();
    assert_eq!(post(&base, "/x", None, b"{}").await.status(), 200);
    let id = recorded(&core, 2).await[0].id;
    let f = forwarded(&core, id).await.forward.unwrap();
    assert_eq!(f.status, None);
    assert_eq!(f.error_class.as_deref(), Some("connection_refused"));
    assert!(f.error_message.unwrap().contains("refused"));

    // Forwarding off: nothing more is sent.
    core.set_receiver_forward(None).unwrap();
    post(&base, "/y", None, b"{}").await;
    assert!(core
        .receiver_log()
        .get(recorded(&core, 3).await[0].id)
        .unwrap()
        .forward
        .is_none());
    core.stop_receiver().await;
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
    core.stop_receiver().await;
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
    core.stop_receiver().await;
    drop(core);
    let core = Core::open(dir.path()).unwrap();
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
    assert_eq!(log.clear().unwrap(), 120);
    assert!(log
        .list(&ReceiverQuery::default())
        .unwrap()
        .requests
        .is_empty());
    assert!(matches!(log.get(1), Err(Error::NotFound(_))));
    assert!(changes.try_recv().unwrap().request_ids.is_empty());
}

#[tokio::test]
async fn user_errors_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path()).unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let err = core
        .start_receiver(ReceiverConfig {
            port,
            ..ReceiverConfig::default()
        })
        .unwrap_err();
    match err {
        Error::Conflict(m) => assert!(m.contains(&port.to_string()) && m.contains(" 0 "), "{m}"),
        other => panic!("{other:?}"),
    }
    let bad = |spec: ResponseSpec| {
        core.start_receiver(ReceiverConfig {
            response: spec,
            ..config(VerifyWith::Nothing)
        })
    };
    assert!(
        matches!(bad(ResponseSpec::status(99)), Err(Error::InvalidInput(m)) if m.contains("200–599"))
    );
    assert!(matches!(
        bad(ResponseSpec::status(600)),
        Err(Error::InvalidInput(_))
    ));
    assert!(matches!(
        bad(ResponseSpec { delay_ms: 120_001, ..ResponseSpec::status(200) }),
        Err(Error::InvalidInput(m)) if m.contains("120000 ms")
    ));
    let err = core
        .start_receiver(ReceiverConfig {
            forward_to: Some("ftp://example.test/x".into()),
            ..config(VerifyWith::Nothing)
        })
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput(m) if m.contains("forward URL")),
        "{err:?}"
    );
    assert!(!core.receiver_status().running, "nothing half-started");
    assert!(matches!(
        core.set_receiver_response(ResponseSpec::status(200)),
        Err(Error::Conflict(_))
    ));

    let addr = core.start_receiver(config(VerifyWith::Nothing)).unwrap();
    assert!(matches!(
        core.start_receiver(config(VerifyWith::Nothing)),
        Err(Error::Conflict(_))
    ));
    let own = format!("http://127.0.0.1:{}/loop", addr.port());
    assert!(
        matches!(core.set_receiver_forward(Some(own)), Err(Error::InvalidInput(m)) if m.contains("itself"))
    );
    // A refused change leaves the running settings as they were.
    assert!(core
        .set_receiver_response(ResponseSpec::status(1000))
        .is_err());
    assert_eq!(
        core.receiver_status().response,
        Some(ResponseSpec::status(200))
    );
    core.stop_receiver().await;
    // Stopped: the port is free again.
    std::net::TcpListener::bind(addr).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dispatcher_delivers_to_the_receiver_and_it_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let core = Arc::new(Core::open(dir.path()).unwrap());
    let actor = support::workspace::set_up_owner(&core);
    // The app's wiring: every endpoint's secrets, refreshed when an endpoint is created.
    let provider = core.endpoint_candidates();
    let addr = core
        .start_receiver(config(VerifyWith::Candidates(provider)))
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
        .webhook_dispatcher()
        .send_test(&actor, &ep.id, EventType::LeadCaptured, None)
        .unwrap();
    let d = newest(&core, 1).await;
    assert_eq!(d.summary.path, "/webhooks");
    assert_eq!(d.header("x-pitchbar-delivery"), Some(delivery.as_str()));
    assert!(d.verdict.valid, "{:?}", d.verdict);
    assert_eq!(d.verdict.matched.as_deref(), Some(ep.url.as_str()));
    core.stop_dispatcher().await;
    core.stop_receiver().await;
}
