//! The spec's Node verification snippets (002/003 and 004), run with `node` exactly as printed:
//! against bodies our signer produced (accepted, and tampered ones, other secrets and old
//! timestamps rejected as we do), and against real deliveries — the running dispatcher sends to
//! a real receiver on 127.0.0.1, which keeps the exact body bytes and `X-Pitchbar-Signature`.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use pitchbar_core::webhooks::endpoints::{EndpointInput, Policy};
use pitchbar_core::webhooks::events::{
    sample_data, ConversationData, Direction, EventData, EventType, LeadData, MessageData, Payload,
    Visitor,
};
use pitchbar_core::webhooks::signing::{
    generate_secret, parse_signature_header, sign, verify, VerifyError, DEFAULT_TOLERANCE,
};
use support::dispatch::{endpoint, endpoint_with_secret, test_config};
use support::spec_snippets::{run_snippet, SNIPPETS};
use support::test_receiver::TestReceiver;
use support::workspace::owner_core;
use ulid::Ulid;

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

// ---------------------------------------------------------------------------------------------
// Bodies our signer produced

/// Real payloads, as the dispatcher will send them: a lead from the sample builder, and a
/// message whose text is not ASCII.
fn real_bodies() -> Vec<Vec<u8>> {
    let lead = Payload::now(sample_data(EventType::LeadCaptured)).to_body();
    let message = Payload::now(EventData::ConversationMessage(MessageData {
        conversation: ConversationData {
            conversation_id: Ulid::new(),
            agent_id: Ulid::new(),
            visitor: Visitor {
                id: Ulid::new(),
                name: Some("Zoë Ångström".into()),
                email: None,
                phone: None,
            },
        },
        message_id: Ulid::new(),
        direction: Direction::Inbound,
        text: "Grüße — 東京でも使えますか？ 🚀".into(),
    }))
    .to_body();
    let empty_fields = Payload::now(EventData::LeadCaptured(LeadData {
        lead_id: Ulid::new(),
        agent_id: Ulid::new(),
        conversation_id: None,
        name: None,
        email: None,
        phone: None,
        fields: BTreeMap::new(),
    }))
    .to_body();
    vec![lead, message, empty_fields]
}

#[test]
fn spec_snippets_accept_our_deliveries_and_reject_tampering() {
    support::require::node();
    let secret = generate_secret();
    for body in real_bodies() {
        let header = sign(&[&secret], now(), &body);
        let mut tampered = body.clone();
        let at = tampered.len() - 3;
        tampered[at] = if tampered[at] == b'0' { b'1' } else { b'0' };
        for snippet in SNIPPETS {
            assert!(
                run_snippet(snippet, &header, &body, &secret),
                "{snippet} should accept {header} over {}",
                String::from_utf8_lossy(&body)
            );
            assert!(
                !run_snippet(snippet, &header, &tampered, &secret),
                "{snippet} should reject a tampered body"
            );
            let wrong = generate_secret();
            assert!(
                !run_snippet(snippet, &header, &body, &wrong),
                "{snippet} should reject another secret"
            );
        }
    }
}

#[test]
fn spec_004_snippet_rejects_an_old_timestamp_as_we_do() {
    support::require::node();
    let secret = generate_secret();
    let body = Payload::now(sample_data(EventType::LeadCaptured)).to_body();
    let then = now() - 600;
    let header = sign(&[&secret], then, &body);
    assert!(
        !run_snippet("spec-004-verify.js", &header, &body, &secret),
        "004's snippet checks the 5-minute window"
    );
    assert!(matches!(
        verify(Some(&header), &body, &[&secret], now(), DEFAULT_TOLERANCE),
        Err(VerifyError::TooOld { .. })
    ));
    // Within the window it is accepted.
    let recent = sign(&[&secret], now() - 60, &body);
    assert!(run_snippet("spec-004-verify.js", &recent, &body, &secret));
}

/// Pins a limit of the snippets as printed, reported rather than worked around: during a
/// rotation the header carries two `v1=`, and each snippet reads only one of them — 002/003's
/// `Object.fromEntries` keeps the last, 004's destructuring takes the first. So whatever the
/// order, a snippet-based receiver verifies with only one of the two secrets; receivers that
/// check every `v1` (ours, Stripe's libraries) accept both.
#[test]
fn spec_snippets_each_see_only_one_v1_during_a_rotation() {
    support::require::node();
    let old = generate_secret();
    let new = generate_secret();
    let body = Payload::now(sample_data(EventType::LeadCaptured)).to_body();
    let header = sign(&[&new, &old], now(), &body);
    for snippet in ["spec-002-verify.js", "spec-003-verify.js"] {
        assert!(run_snippet(snippet, &header, &body, &old));
        assert!(!run_snippet(snippet, &header, &body, &new));
    }
    assert!(run_snippet("spec-004-verify.js", &header, &body, &new));
    assert!(!run_snippet("spec-004-verify.js", &header, &body, &old));
    for secret in [&old, &new] {
        assert!(verify(Some(&header), &body, &[secret], now(), DEFAULT_TOLERANCE).is_ok());
    }
}

// ---------------------------------------------------------------------------------------------
// Real deliveries

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spec_snippets_accept_real_deliveries_and_reject_tampering_and_old_timestamps() {
    support::require::node();
    // A real receiver, which keeps the exact body bytes and headers.
    let rx = TestReceiver::start().await;

    // A real Core on a real SQLite file, a single-attempt endpoint, the running dispatcher.
    let (_dir, core, actor) = owner_core();
    let (_, secret) = endpoint_with_secret(
        &core,
        &actor,
        EndpointInput {
            description: "spec snippets".into(),
            events: vec!["lead.captured".into(), "conversation.message".into()],
            timeout_ms: Some(10_000),
            ..endpoint(&rx.url("/hook"), Policy::Single, None)
        },
    );
    core.start_dispatcher(test_config()).unwrap();

    let payloads = [
        Payload::now(sample_data(EventType::LeadCaptured)),
        Payload::now(sample_data(EventType::ConversationMessage)),
    ];
    let mut delivery_ids = Vec::new();
    for p in &payloads {
        let fired = core.outbox().fire(p).unwrap();
        assert_eq!(fired.delivery_ids.len(), 1);
        delivery_ids.push(fired.delivery_ids[0].clone());
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while rx.hits().len() < payloads.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "the deliveries never arrived");
        let _ = tokio::time::timeout(left, rx.changed().notified()).await;
    }
    core.stop_dispatcher().await;
    let captures = rx.hits();
    assert_eq!(captures.len(), payloads.len(), "single attempt each");

    for (payload, delivery_id) in payloads.iter().zip(&delivery_ids) {
        let got = captures
            .iter()
            .find(|c| c.header("x-pitchbar-delivery") == delivery_id)
            .expect("the delivery was received");
        assert_eq!(&got.body[..], &payload.to_body()[..], "the exact bytes");
        let body = &got.body[..];
        let header = got.header("x-pitchbar-signature");
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
