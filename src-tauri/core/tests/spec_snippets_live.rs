//! The spec's Node verification snippets (002/003 and 004), run with `node` exactly as printed,
//! against real deliveries: the running dispatcher sends to a real receiver on 127.0.0.1, which
//! keeps the exact body bytes and `X-Pitchbar-Signature`; the snippets must accept those, and
//! reject a tampered body and (004's) an old timestamp.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use pitchbar_core::webhooks::dispatcher::DispatcherConfig;
use pitchbar_core::webhooks::endpoints::{EndpointInput, Policy};
use pitchbar_core::webhooks::events::sample_data;
use pitchbar_core::webhooks::signing::{parse_signature_header, sign};
use pitchbar_core::webhooks::{EventType, Payload};
use pitchbar_core::Core;
use support::spec_snippets::{run_snippet, SNIPPETS};
use tokio::sync::Notify;

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// What the receiver got: the exact body bytes and the signature header.
#[derive(Clone, Debug)]
struct Capture {
    delivery: String,
    body: Bytes,
    signature: String,
}

#[derive(Clone, Default)]
struct Rx {
    captures: Arc<Mutex<Vec<Capture>>>,
    changed: Arc<Notify>,
}

async fn handler(State(rx): State<Rx>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    rx.captures.lock().unwrap().push(Capture {
        delivery: header("x-pitchbar-delivery"),
        body,
        signature: header("x-pitchbar-signature"),
    });
    rx.changed.notify_one();
    StatusCode::OK
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spec_snippets_accept_real_deliveries_and_reject_tampering_and_old_timestamps() {
    support::require::node();
    // A real receiver.
    let rx = Rx::default();
    let app = axum::Router::new().fallback(handler).with_state(rx.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    // A real Core on a real SQLite file, a single-attempt endpoint, the running dispatcher.
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path()).unwrap();
    let actor = support::workspace::set_up_owner(&core);
    let ep = core
        .webhook_endpoints()
        .create(
            &actor,
            EndpointInput {
                url: format!("http://{addr}/hook"),
                description: "spec snippets".into(),
                events: vec!["lead.captured".into(), "conversation.message".into()],
                active: true,
                policy: Policy::Single,
                max_attempts: None,
                timeout_ms: Some(10_000),
                standard_webhooks: false,
            },
        )
        .unwrap();
    let secret = core
        .webhook_endpoints()
        .reveal_secret(&actor, &ep.id)
        .unwrap();
    core.start_dispatcher(DispatcherConfig {
        backoff_base: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        retry_after_max: Duration::from_secs(2),
        ..DispatcherConfig::default()
    })
    .unwrap();

    let payloads = [
        Payload::now(sample_data(EventType::LeadCaptured)),
        Payload::now(sample_data(EventType::ConversationMessage)),
    ];
    let mut delivery_ids = Vec::new();
    for p in &payloads {
        let fired = core.webhook_dispatcher().fire(p).unwrap();
        assert_eq!(fired.delivery_ids.len(), 1);
        delivery_ids.push(fired.delivery_ids[0].clone());
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while rx.captures.lock().unwrap().len() < payloads.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "the deliveries never arrived");
        let _ = tokio::time::timeout(left, rx.changed.notified()).await;
    }
    core.stop_dispatcher().await;
    let captures = rx.captures.lock().unwrap().clone();
    assert_eq!(captures.len(), payloads.len(), "single attempt each");

    for (payload, delivery_id) in payloads.iter().zip(&delivery_ids) {
        let got = captures
            .iter()
            .find(|c| &c.delivery == delivery_id)
            .expect("the delivery was received");
        assert_eq!(&got.body[..], &payload.to_body()[..], "the exact bytes");
        let body = &got.body[..];
        let header = got.signature.as_str();
        assert!(header.starts_with("t="), "{header}");

        let mut tampered = body.to_vec();
        let at = tampered.len() - 3;
        tampered[at] = if tampered[at] == b'0' { b'1' } else { b'0' };

        for snippet in SNIPPETS {
            assert!(
                run_snippet(snippet, header, body, &secret),
                "{snippet} should accept the real delivery {header} over {}",
                String::from_utf8_lossy(body)
            );
            assert!(
                !run_snippet(snippet, header, &tampered, &secret),
                "{snippet} should reject a tampered body"
            );
        }

        // The one synthetic part: a delivery whose timestamp is old. The captured body is
        // re-signed with our signer at now - 600 s (the dispatcher always signs at "now").
        let sent_at = parse_signature_header(header).unwrap().timestamp;
        assert!((sent_at - now()).abs() < 120, "the real delivery is fresh");
        let old = sign(&[&secret], now() - 600, body);
        assert!(
            !run_snippet("spec-004-verify.js", &old, body, &secret),
            "004's snippet rejects an old timestamp"
        );
    }
}
