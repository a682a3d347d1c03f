//! Verification (`webhooks::verify`) and its diagnosis (`webhooks::verify::diagnose`), on any
//! header, body and secrets. Input: line 1 the header (`-` alone: none), line 2 the secrets
//! (space-separated), line 3 now in unix seconds, the rest the body.
//!
//! Checked beyond "no panic": the strict verifier and the diagnosis always agree (valid, and
//! which failure); the prepared path gives the same verdict; a body signed with the secrets
//! always verifies, under the first secret, and is named valid; one byte more never verifies;
//! the same signature seen before is a replay; under retired secrets it is a rotated secret;
//! outside the tolerance it is too old, never a forgery.
#![no_main]

use std::sync::Arc;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use pitchbar_core::secret::Secret;
use pitchbar_core::webhooks::signing::{parse_signature_header, sign, verify, VerifyError};
use pitchbar_core::webhooks::verify::{
    diagnose, diagnose_prepared, Candidate, CandidateState, PreparedCandidates, VerdictCode,
};

const TOLERANCE: i64 = 300;
/// The clock stays in the years a receiver runs in (year 2100 at most).
const LATEST: i64 = 4_102_444_800;

fn split_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

fn candidates(secrets: &[Secret], state: CandidateState) -> Vec<Candidate> {
    secrets
        .iter()
        .enumerate()
        .map(|(i, s)| Candidate {
            label: format!("secret {i}"),
            secret: s.clone(),
            state,
        })
        .collect()
}

fn expected_code(
    result: &Result<pitchbar_core::webhooks::signing::Verified, VerifyError>,
) -> &'static [VerdictCode] {
    match result {
        Ok(_) => &[VerdictCode::Valid],
        Err(VerifyError::MissingHeader) => &[VerdictCode::HeaderMissing],
        Err(VerifyError::Malformed(_)) => &[VerdictCode::HeaderMalformed],
        Err(VerifyError::NoSecret) => &[VerdictCode::NoSecret],
        Err(VerifyError::TooOld { .. }) => &[VerdictCode::TimestampTooOld],
        Err(VerifyError::InFuture { .. }) => &[VerdictCode::TimestampInFuture],
        Err(VerifyError::NoMatch { .. }) => &[
            VerdictCode::BodyAlteredOrWrongSecret,
            VerdictCode::BodyReserialized,
        ],
    }
}

fuzz_target!(|data: &[u8]| {
    let (header, rest) = split_line(data);
    let (secrets, rest) = split_line(rest);
    let (now, body) = split_line(rest);
    let (Ok(header), Ok(secrets)) = (std::str::from_utf8(header), std::str::from_utf8(secrets))
    else {
        return;
    };
    let header = (header != "-").then_some(header);
    let secrets: Vec<Secret> = secrets
        .split(' ')
        .filter(|s| !s.is_empty())
        .take(4)
        .map(Secret::new)
        .collect();
    let refs: Vec<&Secret> = secrets.iter().collect();
    let now = std::str::from_utf8(now)
        .ok()
        .and_then(|n| n.trim().parse::<i64>().ok())
        .unwrap_or(1_778_155_200)
        .rem_euclid(LATEST);
    let tolerance = Duration::from_secs(TOLERANCE as u64);
    let current = candidates(&secrets, CandidateState::Current);

    // The fuzzed header: the verifier and the diagnosis agree.
    let strict = verify(header, body, &refs, now, tolerance);
    let verdict = diagnose(header, body, &current, now, TOLERANCE, false);
    assert!(
        expected_code(&strict).contains(&verdict.code),
        "verify said {strict:?}, the diagnosis {:?}",
        verdict.code
    );
    assert_eq!(verdict.valid, strict.is_ok());
    if let Ok(v) = &strict {
        assert_eq!(verdict.matched, Some(format!("secret {}", v.secret_index)));
        assert_eq!(verdict.timestamp, Some(v.timestamp));
    }
    assert!(!verdict.title.is_empty() && !verdict.detail.is_empty());
    let prepared = PreparedCandidates::new(Arc::new(current.clone()));
    let parsed = header.map(parse_signature_header);
    let same = diagnose_prepared(parsed.as_ref(), body, &prepared, now, TOLERANCE, false);
    assert_eq!(same, verdict);
    // Retired or previous secrets, and a replay: any verdict, no panic.
    let states = [
        CandidateState::Retired {
            retired_at_ms: now * 1000 - 3_600_000,
        },
        CandidateState::Previous {
            expires_at_ms: now * 1000 + 60_000,
        },
    ];
    for state in states {
        let _ = diagnose(
            header,
            body,
            &candidates(&secrets, state),
            now,
            TOLERANCE,
            true,
        );
    }

    if secrets.is_empty() {
        return;
    }
    // Signed here: always valid, under the first secret.
    let signed = sign(&refs, now, body);
    assert_eq!(
        verify(Some(&signed), body, &refs, now, tolerance).map(|v| (v.timestamp, v.secret_index)),
        Ok((now, 0))
    );
    let verdict = diagnose(Some(&signed), body, &current, now, TOLERANCE, false);
    assert_eq!(verdict.code, VerdictCode::Valid, "{verdict:?}");
    assert_eq!(verdict.matched.as_deref(), Some("secret 0"));
    assert_eq!(
        diagnose(Some(&signed), body, &current, now, TOLERANCE, true).code,
        VerdictCode::Replayed
    );
    // Only under the last secret: still valid, under that one.
    let last = secrets.len() - 1;
    let only_last = sign(&refs[last..], now, body);
    let found = verify(Some(&only_last), body, &refs, now, tolerance).expect("valid");
    // The same secret, or one HMAC cannot tell from it (keys that differ only in trailing
    // zero bytes, up to the block size, are the same HMAC key).
    assert_eq!(
        sign(&refs[found.secret_index..=found.secret_index], now, body),
        only_last
    );
    // One byte more is never the signed body.
    let mut altered = body.to_vec();
    altered.push(b'x');
    assert!(matches!(
        verify(Some(&signed), &altered, &refs, now, tolerance),
        Err(VerifyError::NoMatch { .. })
    ));
    assert!(!diagnose(Some(&signed), &altered, &current, now, TOLERANCE, false).valid);
    // Retired secrets: authentic, but rotated out.
    let retired = candidates(&secrets, states[0]);
    assert_eq!(
        diagnose(Some(&signed), body, &retired, now, TOLERANCE, false).code,
        VerdictCode::RotatedSecret
    );
    // Outside the window: authentic but too old, whichever check runs.
    let late = now + TOLERANCE + 1;
    assert!(matches!(
        verify(Some(&signed), body, &refs, late, tolerance),
        Err(VerifyError::TooOld { .. })
    ));
    assert_eq!(
        diagnose(Some(&signed), body, &current, late, TOLERANCE, false).code,
        VerdictCode::TimestampTooOld
    );
});
