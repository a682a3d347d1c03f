//! What the local receiver answers and where it forwards, over real loopback HTTP and a real
//! SQLite file: response presets, delays and closed connections changed while running,
//! forwarding the same bytes to a test receiver, and clear errors for bad settings.

mod support;

use std::time::{Duration, Instant};

use pitchbar_core::error::Error;
use pitchbar_core::receiver::{ReceivedDetail, ReceiverConfig, ResponseSpec, VerifyWith};
use pitchbar_core::secret::Secret;
use pitchbar_core::Core;
use support::now_secs as now;
use support::receiver::{config, http, newest, post, recorded, signed, started, SECRET};
use support::test_receiver::{Answer, Hit, TestReceiver};

#[tokio::test]
async fn response_presets_retry_after_and_custom_body_change_while_running() {
    let (_dir, core, base) = started(VerifyWith::Nothing).await;
    core.receiver()
        .set_response(ResponseSpec {
            retry_after_secs: Some(30),
            ..ResponseSpec::status(429)
        })
        .unwrap();
    let resp = post(&base, "/", None, b"{}").await;
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "30");
    core.receiver()
        .set_response(ResponseSpec {
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
        core.receiver()
            .set_response(ResponseSpec::status(status))
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
        core.receiver().status().response,
        Some(ResponseSpec::status(500))
    );
    core.receiver().stop().await;
}

#[tokio::test]
async fn a_delay_holds_the_answer_even_past_the_senders_timeout() {
    let (_dir, core, base) = started(VerifyWith::Nothing).await;
    core.receiver()
        .set_response(ResponseSpec {
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
    core.receiver().stop().await;
}

#[tokio::test]
async fn close_without_answer_gives_the_sender_a_connection_error() {
    let (_dir, core, base) = started(VerifyWith::Nothing).await;
    core.receiver()
        .set_response(ResponseSpec {
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
    core.receiver().stop().await;
}

/// Where the receiver forwards to: answers 202 `taken` with `X-Target: yes`.
async fn target() -> TestReceiver {
    TestReceiver::answering(|_| Answer::status(202).header("x-target", "yes").body("taken")).await
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
    let target = target().await;
    let target_base = target.url("");
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path()).unwrap();
    let addr = core
        .receiver()
        .start(ReceiverConfig {
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
    let hits = target.hits();
    assert_eq!(hits.len(), 1);
    let Hit {
        uri,
        headers,
        body: got,
        ..
    } = &hits[0];
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
    let dead_port = support::free_port();
    core.receiver()
        .set_forward(Some(format!("http://127.0.0.1:{dead_port}/hook")))
        .unwrap();
    assert_eq!(post(&base, "/x", None, b"{}").await.status(), 200);
    let id = recorded(&core, 2).await[0].id;
    let f = forwarded(&core, id).await.forward.unwrap();
    assert_eq!(f.status, None);
    assert_eq!(f.error_class.as_deref(), Some("connection_refused"));
    assert!(f.error_message.unwrap().contains("refused"));

    // Forwarding off: nothing more is sent.
    core.receiver().set_forward(None).unwrap();
    post(&base, "/y", None, b"{}").await;
    assert!(core
        .receiver_log()
        .get(recorded(&core, 3).await[0].id)
        .unwrap()
        .forward
        .is_none());
    core.receiver().stop().await;
}

#[tokio::test]
async fn user_errors_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path()).unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let err = core
        .receiver()
        .start(ReceiverConfig {
            port,
            ..ReceiverConfig::default()
        })
        .unwrap_err();
    match err {
        Error::Conflict(m) => assert!(m.contains(&port.to_string()) && m.contains(" 0 "), "{m}"),
        other => panic!("{other:?}"),
    }
    let bad = |spec: ResponseSpec| {
        core.receiver().start(ReceiverConfig {
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
        .receiver()
        .start(ReceiverConfig {
            forward_to: Some("ftp://example.test/x".into()),
            ..config(VerifyWith::Nothing)
        })
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput(m) if m.contains("forward URL")),
        "{err:?}"
    );
    assert!(!core.receiver().status().running, "nothing half-started");
    assert!(matches!(
        core.receiver().set_response(ResponseSpec::status(200)),
        Err(Error::Conflict(_))
    ));

    let addr = core.receiver().start(config(VerifyWith::Nothing)).unwrap();
    assert!(matches!(
        core.receiver().start(config(VerifyWith::Nothing)),
        Err(Error::Conflict(_))
    ));
    let own = format!("http://127.0.0.1:{}/loop", addr.port());
    assert!(
        matches!(core.receiver().set_forward(Some(own)), Err(Error::InvalidInput(m)) if m.contains("itself"))
    );
    // A refused change leaves the running settings as they were.
    assert!(core
        .receiver()
        .set_response(ResponseSpec::status(1000))
        .is_err());
    assert_eq!(
        core.receiver().status().response,
        Some(ResponseSpec::status(200))
    );
    core.receiver().stop().await;
    // Stopped: the port is free again.
    std::net::TcpListener::bind(addr).unwrap();
}
