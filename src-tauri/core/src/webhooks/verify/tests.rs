use super::reserialized::strip_json_whitespace;
use super::*;
use crate::webhooks::signing::{parse_signature_header, sign};

const NOW: i64 = 1_800_000_000;
const TOL: i64 = 300;
const BODY: &[u8] = br#"{"event":"lead.captured","occurred_at":"2027-01-15T08:00:00Z","data":{"name":"Ada \"A\" L","n":1}}"#;

fn cand(label: &str, secret: &str, state: CandidateState) -> Candidate {
    Candidate {
        label: label.into(),
        secret: Secret::new(secret),
        state,
    }
}

fn current() -> Candidate {
    cand(
        "https://a.test/hook",
        "whsec_current",
        CandidateState::Current,
    )
}

fn signed(secrets: &[&str], t: i64, body: &[u8]) -> String {
    let secrets: Vec<Secret> = secrets.iter().map(|s| Secret::new(*s)).collect();
    let refs: Vec<&Secret> = secrets.iter().collect();
    sign(&refs, t, body)
}

/// Every case is diagnosed both ways: the receiver's prepared keys must give the same verdict.
fn check(header: Option<&str>, body: &[u8], cands: &[Candidate], seen: bool) -> Verdict {
    let verdict = diagnose(header, body, cands, NOW, TOL, seen);
    let prepared = PreparedCandidates::new(Arc::new(cands.to_vec()));
    assert_eq!(
        diagnose_prepared(
            header.map(parse_signature_header).as_ref(),
            body,
            &prepared,
            NOW,
            TOL,
            seen
        ),
        verdict
    );
    verdict
}

#[test]
fn valid_signature() {
    let h = signed(&["whsec_current"], NOW - 10, BODY);
    let v = check(Some(&h), BODY, &[current()], false);
    assert!(v.valid, "{v:?}");
    assert_eq!(v.code, VerdictCode::Valid);
    assert_eq!(v.matched.as_deref(), Some("https://a.test/hook"));
    assert_eq!(v.timestamp, Some(NOW - 10));
    assert_eq!(v.skew_secs, None);
    assert_eq!(v.signatures_in_header, 1);
}

#[test]
fn every_v1_is_checked_and_every_candidate() {
    // A rotation's header: the first v1 is under a secret unknown here, the second matches the
    // third candidate.
    let h = signed(&["whsec_unknown", "whsec_third"], NOW, BODY);
    let cands = [
        current(),
        cand("b", "whsec_b", CandidateState::Current),
        cand("third", "whsec_third", CandidateState::Current),
    ];
    let v = check(Some(&h), BODY, &cands, false);
    assert!(v.valid);
    assert_eq!(v.matched.as_deref(), Some("third"));
    assert_eq!(v.signatures_in_header, 2);
}

#[test]
fn header_missing() {
    let v = check(None, BODY, &[current()], false);
    assert!(!v.valid);
    assert_eq!(v.code, VerdictCode::HeaderMissing);
    assert!(v.detail.contains("X-Pitchbar-Signature"));
}

#[test]
fn header_malformed_says_which_part() {
    for (header, part) in [
        ("v1=abc", "v1=abc is not 64 hexadecimal digits"),
        ("t=12x,v1=00", "t=12x is not a whole number"),
        (
            &format!("t={NOW},v0={}", "0".repeat(64)) as &str,
            "no v1= signature (it only has: v0)",
        ),
        ("garbage", "\"garbage\" is not a key=value pair"),
        ("", "it is empty"),
    ] {
        let v = check(Some(header), BODY, &[current()], false);
        assert_eq!(v.code, VerdictCode::HeaderMalformed, "{header}");
        assert!(v.detail.contains(part), "{header}: {}", v.detail);
    }
}

#[test]
fn timestamp_too_old_says_how_much() {
    let h = signed(&["whsec_current"], NOW - 500, BODY);
    let v = check(Some(&h), BODY, &[current()], false);
    assert!(!v.valid);
    assert_eq!(v.code, VerdictCode::TimestampTooOld);
    assert_eq!(v.skew_secs, Some(-200));
    assert!(v.title.contains("3 minutes 20 seconds"), "{}", v.title);
    assert!(
        v.detail.contains("8 minutes 20 seconds ago"),
        "{}",
        v.detail
    );
}

#[test]
fn timestamp_in_future_says_how_much() {
    let h = signed(&["whsec_current"], NOW + 3_900, BODY);
    let v = check(Some(&h), BODY, &[current()], false);
    assert_eq!(v.code, VerdictCode::TimestampInFuture);
    assert_eq!(v.skew_secs, Some(3_600));
    assert!(v.title.contains("1 hour"), "{}", v.title);
    assert!(v.detail.contains("ahead"));
}

#[test]
fn tampered_body_or_wrong_secret() {
    let h = signed(&["whsec_current"], NOW, BODY);
    let tampered = String::from_utf8_lossy(BODY).replace("Ada", "Eve");
    let v = check(Some(&h), tampered.as_bytes(), &[current()], false);
    assert_eq!(v.code, VerdictCode::BodyAlteredOrWrongSecret);
    assert!(v.detail.contains("https://a.test/hook"));
    let wrong = check(
        Some(&h),
        BODY,
        &[cand("x", "whsec_other", CandidateState::Current)],
        false,
    );
    assert_eq!(wrong.code, VerdictCode::BodyAlteredOrWrongSecret);
    assert!(wrong.matched.is_none());
}

#[test]
fn reserialized_pretty_json_is_recognised() {
    let h = signed(&["whsec_current"], NOW, BODY);
    // What JSON.stringify(JSON.parse(raw), null, 2) gives: same keys, same order, new bytes.
    let pretty = br#"{
  "event": "lead.captured",
  "occurred_at": "2027-01-15T08:00:00Z",
  "data": {
    "name": "Ada \"A\" L",
    "n": 1
  }
}"#;
    let v = check(Some(&h), pretty, &[current()], false);
    assert_eq!(v.code, VerdictCode::BodyReserialized, "{v:?}");
    assert!(v.detail.contains("raw request"));
    assert_eq!(v.matched.as_deref(), Some("https://a.test/hook"));
}

#[test]
fn reserialized_with_spaces_keeps_strings_intact() {
    // Spaces inside strings must survive the whitespace pass.
    let original = br#"{"a":"x y","b":[1,2]}"#;
    let spaced = br#"{ "a" : "x y", "b" : [ 1, 2 ] }"#;
    let h = signed(&["whsec_current"], NOW, original);
    assert_eq!(strip_json_whitespace(spaced), original.to_vec());
    let v = check(Some(&h), spaced, &[current()], false);
    assert_eq!(v.code, VerdictCode::BodyReserialized);
    assert!(v.detail.contains("without its whitespace"));
}

#[test]
fn reserialized_with_sorted_keys_and_newlines() {
    let sorted = br#"{"a":1,"b":2}"#;
    let h = signed(&["whsec_current"], NOW, sorted);
    let v = check(Some(&h), br#"{"b":2,"a":1}"#, &[current()], false);
    assert_eq!(v.code, VerdictCode::BodyReserialized);
    assert!(v.detail.contains("sorted"), "{}", v.detail);

    let v = check(Some(&h), b"{\"a\":1,\"b\":2}\n", &[current()], false);
    assert_eq!(v.code, VerdictCode::BodyReserialized);

    let text = b"line one\nline two";
    let h = signed(&["whsec_current"], NOW, text);
    let v = check(Some(&h), b"line one\r\nline two", &[current()], false);
    assert_eq!(v.code, VerdictCode::BodyReserialized);
    assert!(v.detail.contains("LF line endings"), "{}", v.detail);
}

#[test]
fn rotated_secret_says_when_it_was_retired() {
    let h = signed(&["whsec_old"], NOW, BODY);
    let retired_at_ms = (NOW - 7_200) * 1000;
    let cands = [
        current(),
        cand(
            "https://a.test/hook",
            "whsec_old",
            CandidateState::Retired { retired_at_ms },
        ),
    ];
    let v = check(Some(&h), BODY, &cands, false);
    assert!(!v.valid);
    assert_eq!(v.code, VerdictCode::RotatedSecret);
    assert!(
        v.detail.contains(&rfc3339_ms(retired_at_ms)),
        "{}",
        v.detail
    );
    assert!(v.detail.contains("2 hours ago"), "{}", v.detail);
}

#[test]
fn previous_secret_within_overlap_is_valid_but_mentioned() {
    let h = signed(&["whsec_prev"], NOW, BODY);
    let expires_at_ms = (NOW + 3_600) * 1000;
    let cands = [
        current(),
        cand(
            "ep",
            "whsec_prev",
            CandidateState::Previous { expires_at_ms },
        ),
    ];
    let v = check(Some(&h), BODY, &cands, false);
    assert!(v.valid);
    assert!(v.title.contains("previous secret"));
    assert!(v.detail.contains(&rfc3339_ms(expires_at_ms)));

    // Past its overlap, the same secret is a rotated-out one.
    let expired = [cand(
        "ep",
        "whsec_prev",
        CandidateState::Previous {
            expires_at_ms: (NOW - 60) * 1000,
        },
    )];
    assert_eq!(
        check(Some(&h), BODY, &expired, false).code,
        VerdictCode::RotatedSecret
    );
}

#[test]
fn no_secret() {
    let h = signed(&["whsec_current"], NOW, BODY);
    let v = check(Some(&h), BODY, &[], false);
    assert_eq!(v.code, VerdictCode::NoSecret);
    assert_eq!(v.signatures_in_header, 1);
}

#[test]
fn replayed_is_not_valid() {
    let h = signed(&["whsec_current"], NOW, BODY);
    let v = check(Some(&h), BODY, &[current()], true);
    assert!(!v.valid);
    assert_eq!(v.code, VerdictCode::Replayed);
    assert_eq!(v.matched.as_deref(), Some("https://a.test/hook"));
    // An old replay is reported by its age first, and the replay is mentioned.
    let old = signed(&["whsec_current"], NOW - 1_000, BODY);
    let v = check(Some(&old), BODY, &[current()], true);
    assert_eq!(v.code, VerdictCode::TimestampTooOld);
    assert!(v.detail.contains("received before"));
}

#[test]
fn codes_serialize_snake_case() {
    assert_eq!(
        serde_json::to_value(VerdictCode::BodyAlteredOrWrongSecret).unwrap(),
        "body_altered_or_wrong_secret"
    );
    assert_eq!(VerdictCode::HeaderMissing.as_str(), "header_missing");
}

#[test]
fn human_durations() {
    assert_eq!(human_secs(0), "0 seconds");
    assert_eq!(human_secs(1), "1 second");
    assert_eq!(human_secs(200), "3 minutes 20 seconds");
    assert_eq!(human_secs(3_600), "1 hour");
    assert_eq!(human_secs(90_061), "1 day 1 hour");
}
