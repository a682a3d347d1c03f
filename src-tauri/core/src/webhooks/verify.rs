//! Signature verification with a diagnosis: not only "invalid" but why, and what to do — the
//! receiver, the `verify` command and the UI all show this. Pure: no clock, no I/O.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use specta::Type;
use subtle::ConstantTimeEq;

use super::signing::{
    parse_signature_header, ParsedSignature, SignatureError, V1Key, SIGNATURE_HEADER,
};
use crate::clock::rfc3339_ms;
use crate::secret::Secret;
use reserialized::body_variants;

/// A secret the request may have been signed with, and where it came from.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Shown when it matches: an endpoint URL, or "the secret you entered".
    pub label: String,
    pub secret: Secret,
    pub state: CandidateState,
}

/// Where a candidate secret is in its life: the endpoints' own notion, so the app passes it on
/// unchanged (a retired secret is never sent, so a request signed only with it is refused).
pub use super::endpoints::SecretState as CandidateState;

/// Bodies larger than this are checked as received only, not also re-serialized.
pub const MAX_VARIANT_BODY: usize = 1024 * 1024;

/// What the diagnosis found, as a stable name the UI can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum VerdictCode {
    Valid,
    HeaderMissing,
    HeaderMalformed,
    TimestampTooOld,
    TimestampInFuture,
    BodyReserialized,
    BodyAlteredOrWrongSecret,
    RotatedSecret,
    NoSecret,
    Replayed,
    /// Not checked: the receiver refused the request (sent by a web page, or to another host).
    Refused,
}

impl VerdictCode {
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictCode::Valid => "valid",
            VerdictCode::HeaderMissing => "header_missing",
            VerdictCode::HeaderMalformed => "header_malformed",
            VerdictCode::TimestampTooOld => "timestamp_too_old",
            VerdictCode::TimestampInFuture => "timestamp_in_future",
            VerdictCode::BodyReserialized => "body_reserialized",
            VerdictCode::BodyAlteredOrWrongSecret => "body_altered_or_wrong_secret",
            VerdictCode::RotatedSecret => "rotated_secret",
            VerdictCode::NoSecret => "no_secret",
            VerdictCode::Replayed => "replayed",
            VerdictCode::Refused => "refused",
        }
    }
}

/// The verdict on one request's signature, for people (title, detail) and the UI (code…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct Verdict {
    pub valid: bool,
    pub code: VerdictCode,
    /// One line: what happened.
    pub title: String,
    /// What exactly, and what to do about it.
    pub detail: String,
    /// The label of the candidate secret whose signature matched.
    pub matched: Option<String>,
    /// The header's `t=`, unix seconds.
    pub timestamp: Option<i64>,
    /// How far the timestamp lies outside the tolerance window, in seconds: negative when it is
    /// older than the window, positive when it is ahead of it (in the future). `None` inside.
    pub skew_secs: Option<i64>,
    /// How many `v1=` the header carried (several during a secret rotation).
    pub signatures_in_header: u32,
}

/// Diagnoses an `X-Pitchbar-Signature` header (`None` when the request had none) against the
/// raw body and the candidate secrets, at `now_unix` with `tolerance_secs` either way.
/// `seen_before`: the caller recorded this signature before (a replay).
///
/// Order of the checks: shape, then authenticity (every `v1=` against every candidate that
/// is still sent, in constant time), then the time window, then replay. Only when nothing
/// authentic matches are the costlier explanations tried: a retired secret, then the body's
/// re-serialized forms.
pub fn diagnose(
    header: Option<&str>,
    body: &[u8],
    candidates: &[Candidate],
    now_unix: i64,
    tolerance_secs: i64,
    seen_before: bool,
) -> Verdict {
    diagnose_keyed(
        header.map(parse_signature_header).as_ref(),
        body,
        candidates,
        None,
        now_unix,
        tolerance_secs,
        seen_before,
    )
}

/// Candidates with their keys already absorbed into HMAC states, for a caller (the receiver)
/// that verifies many requests against the same list.
pub struct PreparedCandidates {
    pub list: Arc<Vec<Candidate>>,
    keys: Vec<V1Key>,
}

impl PreparedCandidates {
    pub fn new(list: Arc<Vec<Candidate>>) -> Self {
        let keys = list.iter().map(|c| V1Key::new(&c.secret)).collect();
        Self { list, keys }
    }
}

/// [`diagnose`] with prepared candidates and the header already taken apart (`None`: no
/// header): the same verdict, without hashing the keys or parsing the header again.
pub fn diagnose_prepared(
    header: Option<&Result<ParsedSignature, SignatureError>>,
    body: &[u8],
    candidates: &PreparedCandidates,
    now_unix: i64,
    tolerance_secs: i64,
    seen_before: bool,
) -> Verdict {
    diagnose_keyed(
        header,
        body,
        &candidates.list,
        Some(&candidates.keys),
        now_unix,
        tolerance_secs,
        seen_before,
    )
}

/// `keys`: one per candidate, in the same order; made here when `None`.
fn diagnose_keyed(
    header: Option<&Result<ParsedSignature, SignatureError>>,
    body: &[u8],
    candidates: &[Candidate],
    keys: Option<&[V1Key]>,
    now_unix: i64,
    tolerance_secs: i64,
    seen_before: bool,
) -> Verdict {
    let Some(header) = header else {
        return verdict(
            VerdictCode::HeaderMissing,
            format!("No {SIGNATURE_HEADER} header"),
            format!(
                "The request carries no {SIGNATURE_HEADER} header, so nothing proves it came from \
                 Pitchbar. Check that the sender is a Pitchbar webhook endpoint, and that no proxy \
                 between it and this receiver strips custom headers."
            ),
        );
    };
    let parsed = match header {
        Ok(parsed) => parsed,
        Err(err) => {
            return verdict(
                VerdictCode::HeaderMalformed,
                format!("Malformed {SIGNATURE_HEADER} header"),
                format!(
                    "The {SIGNATURE_HEADER} header is malformed: {err}. It should look like \
                     t=<unix seconds>,v1=<64 hex digits>[,v1=…]."
                ),
            )
        }
    };
    let t = parsed.timestamp;
    let n_sigs = parsed.v1.len();
    let base = Verdict {
        timestamp: Some(t),
        skew_secs: skew(t, now_unix, tolerance_secs),
        signatures_in_header: u32::try_from(n_sigs).unwrap_or(u32::MAX),
        ..verdict(VerdictCode::NoSecret, String::new(), String::new())
    };
    if candidates.is_empty() {
        return Verdict {
            title: "No secret to verify with".into(),
            detail: format!(
                "The header carries {n_sigs} signature(s), but no signing secret is known here to \
                 check them. Choose the endpoint's secret (or paste it) and verify again."
            ),
            ..base
        };
    }
    let now_ms = now_unix.saturating_mul(1000);
    // A previous secret past its overlap is no longer sent: it counts as retired from then.
    let retired_at = |c: &Candidate| match c.state {
        CandidateState::Current => None,
        CandidateState::Previous { expires_at_ms } => {
            (expires_at_ms <= now_ms).then_some(expires_at_ms)
        }
        CandidateState::Retired { retired_at_ms } => Some(retired_at_ms),
    };
    let made: Vec<V1Key>;
    let keys = match keys {
        Some(keys) => keys,
        None => {
            made = candidates.iter().map(|c| V1Key::new(&c.secret)).collect();
            &made
        }
    };
    // Iterated where needed rather than collected: no allocation per request.
    let live = || {
        candidates
            .iter()
            .zip(keys)
            .filter(|(c, _)| retired_at(c).is_none())
    };
    let retired = || {
        candidates
            .iter()
            .zip(keys)
            .filter(|(c, _)| retired_at(c).is_some())
    };
    let sigs = &parsed.v1;

    if let Some(c) = first_match(live(), t, body, sigs) {
        let base = Verdict {
            matched: Some(c.label.clone()),
            ..base
        };
        let overlap_note = match c.state {
            CandidateState::Previous { expires_at_ms } => format!(
                " It was signed with the previous secret of {}, which is still valid during the \
                 rotation's overlap, until {}: switch your receiver to the new secret before then.",
                c.label,
                rfc3339_ms(expires_at_ms)
            ),
            _ => String::new(),
        };
        if let Some(v) = outside_window(&base, now_unix, tolerance_secs, seen_before) {
            return v;
        }
        if seen_before {
            return Verdict {
                code: VerdictCode::Replayed,
                title: "Replayed: this signature was received before".into(),
                detail: format!(
                    "The signature is authentic and recent, but exactly this signature was already \
                     received: a retry or redelivery sent again as it was, or someone replaying a \
                     captured request. Receivers should process each X-Pitchbar-Delivery once and \
                     refuse a signature they have already seen.{overlap_note}"
                ),
                ..base
            };
        }
        let title = match c.state {
            CandidateState::Previous { .. } => "Valid (signed with the previous secret)",
            _ => "Valid signature",
        };
        return Verdict {
            valid: true,
            code: VerdictCode::Valid,
            title: title.into(),
            detail: format!(
                "One of the {n_sigs} signature(s) matches the raw body under the secret of {}, and \
                 the timestamp is within the {tolerance_secs}-second tolerance.{overlap_note}",
                c.label
            ),
            ..base
        };
    }

    if let Some(c) = first_match(retired(), t, body, sigs) {
        let at = retired_at(c).unwrap_or_default();
        let ago = human_secs((now_ms - at).max(0) / 1000);
        return Verdict {
            code: VerdictCode::RotatedSecret,
            matched: Some(c.label.clone()),
            title: "Signed with a rotated-out secret".into(),
            detail: format!(
                "The signature matches a secret of {} that was retired on {} ({ago} ago). The \
                 sender still signs with the old secret, or this is an old request sent again. \
                 Deliveries sent now carry the current secret: check that the sender uses it, \
                 and update the secret your receiver verifies with.",
                c.label,
                rfc3339_ms(at)
            ),
            ..base
        };
    }

    // Re-serializing is for the JSON payloads webhooks carry: a larger body is not parsed and
    // hashed again under every candidate (a hostile sender's 4 MiB would cost seconds).
    let variants = if body.len() <= MAX_VARIANT_BODY {
        body_variants(body)
    } else {
        Vec::new()
    };
    for (variant, how) in variants {
        if let Some(c) = first_match(live(), t, &variant, sigs)
            .or_else(|| first_match(retired(), t, &variant, sigs))
        {
            return Verdict {
                code: VerdictCode::BodyReserialized,
                matched: Some(c.label.clone()),
                title: "Body re-serialized: verify the raw bytes".into(),
                detail: format!(
                    "The signature matches the same JSON {how}, not the bytes received: something \
                     between the sender and the check (often the web framework's JSON parser or a \
                     proxy) parsed and rewrote the body. Compute the signature over the raw request \
                     body exactly as received (e.g. express.raw(), request.get_data(), the unparsed \
                     stream), before any JSON parsing."
                ),
                ..base
            };
        }
    }

    let labels: Vec<&str> = candidates.iter().map(|c| c.label.as_str()).collect();
    Verdict {
        code: VerdictCode::BodyAlteredOrWrongSecret,
        title: "Signature does not match: body altered or wrong secret".into(),
        detail: format!(
            "None of the {n_sigs} signature(s) matches the body under any of the {} secret(s) \
             tried ({}). Either the body was changed after it was signed (compare it with the \
             delivery log), or it was signed with a secret not known here: copy the endpoint's \
             current secret again.{}",
            candidates.len(),
            labels.join(", "),
            if body.len() > MAX_VARIANT_BODY {
                " (The body is over 1 MiB, so it was not also checked as re-serialized JSON.)"
            } else {
                ""
            }
        ),
        ..base
    }
}

fn verdict(code: VerdictCode, title: String, detail: String) -> Verdict {
    Verdict {
        valid: false,
        code,
        title,
        detail,
        matched: None,
        timestamp: None,
        skew_secs: None,
        signatures_in_header: 0,
    }
}

/// Seconds outside the window: negative in the past, positive in the future.
fn skew(t: i64, now: i64, tolerance: i64) -> Option<i64> {
    let ahead = t.saturating_sub(now);
    if ahead > tolerance {
        Some(ahead - tolerance)
    } else if ahead < -tolerance {
        Some(ahead + tolerance)
    } else {
        None
    }
}

/// The verdict for an authentic signature whose timestamp is outside the window, if it is.
fn outside_window(base: &Verdict, now: i64, tolerance: i64, seen_before: bool) -> Option<Verdict> {
    let t = base.timestamp?;
    let skew = base.skew_secs?;
    let replay_note = if seen_before {
        " This exact signature was also received before."
    } else {
        ""
    };
    let (code, title, detail) = if skew < 0 {
        let age = now - t;
        (
            VerdictCode::TimestampTooOld,
            format!(
                "Timestamp too old: {} beyond the tolerance",
                human_secs(-skew)
            ),
            format!(
                "The signature is authentic, but it was made {} ago ({age} s), {} ({} s) more \
                 than the {tolerance}-second tolerance allows: a replayed or long-delayed request, \
                 or a sender clock that is behind. Send a fresh delivery; if this repeats, check \
                 both clocks.{replay_note}",
                human_secs(age),
                human_secs(-skew),
                -skew
            ),
        )
    } else {
        let ahead = t - now;
        (
            VerdictCode::TimestampInFuture,
            format!("Timestamp in the future: {} beyond the tolerance", human_secs(skew)),
            format!(
                "The signature is authentic, but its timestamp is {} ({ahead} s) ahead of this \
                 machine's clock, {} ({skew} s) more than the {tolerance}-second tolerance \
                 allows. The sender's clock or this machine's is wrong: sync both (NTP).{replay_note}",
                human_secs(ahead),
                human_secs(skew),
            ),
        )
    };
    Some(Verdict {
        code,
        title,
        detail,
        ..base.clone()
    })
}

/// The first candidate under which some `v1` in the header is the HMAC of `"{t}.{body}"`.
/// Every signature is compared with every candidate's MAC in constant time.
fn first_match<'a, 'k>(
    mut candidates: impl Iterator<Item = (&'a Candidate, &'k V1Key)>,
    t: i64,
    body: &[u8],
    sigs: &[[u8; 32]],
) -> Option<&'a Candidate> {
    candidates.find_map(|(c, key)| {
        let expected = key.signature(t, body);
        let matched: bool = sigs
            .iter()
            .fold(subtle::Choice::from(0), |any, sig| {
                any | expected[..].ct_eq(&sig[..])
            })
            .into();
        matched.then_some(c)
    })
}

/// "3 minutes 20 seconds", "2 hours 5 minutes", "4 days": the two largest units.
fn human_secs(secs: i64) -> String {
    let secs = secs.max(0);
    let units = [
        (86_400, "day"),
        (3_600, "hour"),
        (60, "minute"),
        (1, "second"),
    ];
    let mut parts = Vec::new();
    let mut rest = secs;
    for (size, name) in units {
        let n = rest / size;
        if n > 0 || (parts.is_empty() && size == 1) {
            parts.push(format!("{n} {name}{}", if n == 1 { "" } else { "s" }));
            rest -= n * size;
        }
        if parts.len() == 2 || (!parts.is_empty() && rest == 0) {
            break;
        }
    }
    parts.join(" ")
}

mod reserialized;
#[cfg(test)]
mod tests;
