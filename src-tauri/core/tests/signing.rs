//! Webhook signing: the committed test vectors, every verification failure kind, and `v1` for
//! any timestamp. The spec's own Node snippets are run in spec_snippets.rs.

use std::path::PathBuf;
use std::time::Duration;

use pitchbar_core::secret::Secret;
use pitchbar_core::webhooks::signing::{
    generate_secret, parse_signature_header, sign, signature_v1, standard_webhooks_headers, verify,
    SignatureError, Verified, VerifyError, DEFAULT_TOLERANCE, SECRET_PREFIX,
};
use pitchbar_core::Error;
use serde::Deserialize;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

// ---------------------------------------------------------------------------------------------
// Test vectors

#[derive(Deserialize)]
struct VectorFile {
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    name: String,
    secrets: Vec<String>,
    timestamp: i64,
    body: String,
    header: String,
    msg_id: String,
    webhook_signature: Option<String>,
}

fn vectors() -> Vec<Vector> {
    let path = repo_root().join("tests/vectors/signatures.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let file: VectorFile = serde_json::from_str(&text).expect("signatures.json parses");
    file.vectors
}

#[test]
fn vector_file_covers_the_required_cases() {
    let vectors = vectors();
    assert!(vectors.len() >= 6, "at least six vectors");
    assert!(
        vectors.iter().any(|v| v.secrets.len() == 2),
        "a rotation case"
    );
    assert!(
        vectors.iter().any(|v| !v.body.is_ascii()),
        "a non-ASCII body"
    );
    assert!(
        vectors.iter().any(|v| v.body == "{}"),
        "an empty-object body"
    );
}

#[test]
fn sign_reproduces_every_vector() {
    for v in vectors() {
        let secrets: Vec<Secret> = v.secrets.iter().map(|s| Secret::new(s.as_str())).collect();
        let refs: Vec<&Secret> = secrets.iter().collect();
        assert_eq!(
            sign(&refs, v.timestamp, v.body.as_bytes()),
            v.header,
            "vector {:?}",
            v.name
        );
    }
}

#[test]
fn verify_accepts_every_vector_with_each_of_its_secrets() {
    for v in vectors() {
        let secrets: Vec<Secret> = v.secrets.iter().map(|s| Secret::new(s.as_str())).collect();
        for (i, secret) in secrets.iter().enumerate() {
            let got = verify(
                Some(&v.header),
                v.body.as_bytes(),
                &[secret],
                v.timestamp + 10,
                DEFAULT_TOLERANCE,
            );
            assert_eq!(
                got,
                Ok(Verified {
                    timestamp: v.timestamp,
                    secret_index: 0
                }),
                "vector {:?}, secret {i}",
                v.name
            );
        }
        // And with all of them at once, the first one matches.
        let refs: Vec<&Secret> = secrets.iter().collect();
        let got = verify(
            Some(&v.header),
            v.body.as_bytes(),
            &refs,
            v.timestamp,
            DEFAULT_TOLERANCE,
        )
        .expect("verifies");
        assert_eq!(got.secret_index, 0);
    }
}

#[test]
fn standard_webhooks_headers_reproduce_every_vector() {
    for v in vectors() {
        let secrets: Vec<Secret> = v.secrets.iter().map(|s| Secret::new(s.as_str())).collect();
        let refs: Vec<&Secret> = secrets.iter().collect();
        let got = standard_webhooks_headers(&v.msg_id, v.timestamp, v.body.as_bytes(), &refs);
        match &v.webhook_signature {
            Some(expected) => {
                let headers = got.unwrap_or_else(|e| panic!("vector {:?}: {e}", v.name));
                assert_eq!(
                    headers,
                    [
                        ("webhook-id", v.msg_id.clone()),
                        ("webhook-timestamp", v.timestamp.to_string()),
                        ("webhook-signature", expected.clone()),
                    ],
                    "vector {:?}",
                    v.name
                );
            }
            None => {
                let err = got.expect_err("a secret that is not base64 cannot sign them");
                assert!(
                    matches!(&err, Error::InvalidInput(m) if m.contains("base64")),
                    "{err:?}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Secrets

#[test]
fn generated_secrets_serve_both_schemes() {
    let secret = generate_secret();
    assert!(secret.expose().starts_with(SECRET_PREFIX));
    assert_eq!(secret.expose().len(), SECRET_PREFIX.len() + 32);
    assert_eq!(format!("{secret:?}"), "<redacted>");
    assert!(secret.redacted().starts_with("whsec_") && secret.redacted().ends_with('…'));
    assert_eq!(secret.redacted().chars().count(), "whsec_".len() + 4 + 1);

    let body = br#"{"event":"lead.captured"}"#;
    let header = sign(&[&secret], 1_700_000_000, body);
    assert!(verify(
        Some(&header),
        body,
        &[&secret],
        1_700_000_000,
        DEFAULT_TOLERANCE
    )
    .is_ok());
    let headers = standard_webhooks_headers("msg_1", 1_700_000_000, body, &[&secret])
        .expect("a generated secret is base64 after the prefix");
    assert!(headers[2].1.starts_with("v1,"));

    let many: std::collections::HashSet<String> = (0..200)
        .map(|_| generate_secret().expose().to_owned())
        .collect();
    assert_eq!(many.len(), 200, "secrets do not repeat");
}

#[test]
fn sign_with_no_secret_carries_no_signature() {
    assert_eq!(sign(&[], 42, b"{}"), "t=42");
    assert_eq!(
        parse_signature_header("t=42"),
        Err(SignatureError::MissingV1 {
            other_schemes: vec![]
        })
    );
}

// ---------------------------------------------------------------------------------------------
// Parsing and verification failures, each its own kind

const T: i64 = 1_778_155_200;
const BODY: &[u8] = br#"{"event":"lead.captured","data":{"name":"Alex"}}"#;

fn secret_a() -> Secret {
    Secret::new("whsec_1b2QgzQ4tRutiTtKc2wV4surkCnWTmty")
}

fn secret_b() -> Secret {
    Secret::new("whsec_9yJ2m+Qx/0aLwTq3vN5cR8eH1kZpUsDf")
}

fn check(header: Option<&str>, body: &[u8], now: i64) -> Result<Verified, VerifyError> {
    verify(header, body, &[&secret_a()], now, DEFAULT_TOLERANCE)
}

#[test]
fn parse_takes_the_header_apart() {
    let a = secret_a();
    let b = secret_b();
    let header = sign(&[&a, &b], T, BODY);
    let parsed = parse_signature_header(&header).expect("parses");
    assert_eq!(parsed.timestamp, T);
    assert_eq!(
        parsed.v1,
        vec![signature_v1(&a, T, BODY), signature_v1(&b, T, BODY)]
    );

    // Spaces, upper-case hex and unknown schemes are tolerated.
    let sig = hex_upper(&signature_v1(&a, T, BODY));
    let loose = format!(" t={T} , v0=abc, v1={sig} ");
    assert_eq!(
        parse_signature_header(&loose).expect("parses").v1,
        vec![signature_v1(&a, T, BODY)]
    );
    assert!(check(Some(&loose), BODY, T).is_ok());
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

#[test]
fn malformed_headers_say_what_is_wrong() {
    let good = hex_upper(&[7u8; 32]).to_lowercase();
    let cases: Vec<(String, SignatureError)> = vec![
        ("".into(), SignatureError::Empty),
        ("   ".into(), SignatureError::Empty),
        (
            "sha256=abc".into(),
            SignatureError::MissingTimestamp, // a key=value pair, but no t=
        ),
        (
            format!("t={T};v1={good}"),
            SignatureError::BadTimestamp(format!("{T};v1={}…", &good[..26])),
        ),
        (
            "garbage".into(),
            SignatureError::NotKeyValue("garbage".into()),
        ),
        (format!("v1={good}"), SignatureError::MissingTimestamp),
        (
            format!("t=yesterday,v1={good}"),
            SignatureError::BadTimestamp("yesterday".into()),
        ),
        (
            format!("t=-5,v1={good}"),
            SignatureError::BadTimestamp("-5".into()),
        ),
        (
            format!("t=99999999999999999999,v1={good}"),
            SignatureError::BadTimestamp("99999999999999999999".into()),
        ),
        (
            format!("t=1,t=2,v1={good}"),
            SignatureError::DuplicateTimestamp,
        ),
        (
            format!("t={T}"),
            SignatureError::MissingV1 {
                other_schemes: vec![],
            },
        ),
        (
            format!("t={T},v0=abc,v0=def"),
            SignatureError::MissingV1 {
                other_schemes: vec!["v0".into()],
            },
        ),
        (format!("t={T},v1=zz"), SignatureError::BadV1("zz".into())),
        (
            format!("t={T},v1={}", &good[..62]),
            SignatureError::BadV1(good[..40].to_string() + "…"),
        ),
    ];
    for (header, expected) in cases {
        assert_eq!(
            parse_signature_header(&header),
            Err(expected.clone()),
            "header {header:?}"
        );
        let err = check(Some(&header), BODY, T).expect_err("malformed");
        assert_eq!(err, VerifyError::Malformed(expected), "header {header:?}");
        assert_eq!(err.code(), "malformed_header");
        assert!(
            err.to_string()
                .starts_with("The X-Pitchbar-Signature header is malformed: "),
            "{err}"
        );
    }
    let msg = VerifyError::Malformed(SignatureError::MissingV1 {
        other_schemes: vec!["v0".into()],
    })
    .to_string();
    assert!(msg.contains("no v1= signature (it only has: v0)"), "{msg}");
}

#[test]
fn a_missing_header_is_not_a_malformed_one() {
    let err = check(None, BODY, T).expect_err("missing");
    assert_eq!(err, VerifyError::MissingHeader);
    assert_eq!(err.code(), "missing_header");
    assert!(err.to_string().contains("no X-Pitchbar-Signature header"));
}

#[test]
fn no_secret_to_check_with() {
    let header = sign(&[&secret_a()], T, BODY);
    let err = verify(Some(&header), BODY, &[], T, DEFAULT_TOLERANCE).expect_err("no secret");
    assert_eq!(err, VerifyError::NoSecret);
}

#[test]
fn timestamps_outside_the_tolerance_say_by_how_much() {
    let header = sign(&[&secret_a()], T, BODY);
    // At the edges of the window: accepted.
    assert!(check(Some(&header), BODY, T + 300).is_ok());
    assert!(check(Some(&header), BODY, T - 300).is_ok());

    let err = check(Some(&header), BODY, T + 301).expect_err("old");
    assert_eq!(
        err,
        VerifyError::TooOld {
            age_secs: 301,
            tolerance_secs: 300
        }
    );
    assert_eq!(err.code(), "timestamp_too_old");
    assert!(err.to_string().contains("301 seconds old"), "{err}");

    let err = check(Some(&header), BODY, T - 3600).expect_err("future");
    assert_eq!(
        err,
        VerifyError::InFuture {
            ahead_secs: 3600,
            tolerance_secs: 300
        }
    );
    assert_eq!(err.code(), "timestamp_in_future");
    assert!(
        err.to_string().contains("3600 seconds in the future"),
        "{err}"
    );

    // A custom tolerance is honoured.
    let wide = Duration::from_secs(86_400);
    assert!(verify(Some(&header), BODY, &[&secret_a()], T + 3600, wide).is_ok());
    // Extreme values do not overflow.
    let huge = sign(&[&secret_a()], i64::MAX, BODY);
    assert!(matches!(
        check(Some(&huge), BODY, i64::MIN),
        Err(VerifyError::InFuture { .. })
    ));
}

#[test]
fn a_changed_body_or_another_secret_matches_nothing() {
    let header = sign(&[&secret_a()], T, BODY);
    let mut tampered = BODY.to_vec();
    tampered[30] ^= 0x01;
    let err = check(Some(&header), &tampered, T).expect_err("tampered");
    assert_eq!(
        err,
        VerifyError::NoMatch {
            signatures: 1,
            secrets: 1
        }
    );
    assert_eq!(err.code(), "no_matching_signature");

    let err = verify(Some(&header), BODY, &[&secret_b()], T, DEFAULT_TOLERANCE)
        .expect_err("wrong secret");
    assert!(matches!(err, VerifyError::NoMatch { .. }));

    // A signature moved to another timestamp no longer matches.
    let moved = header.replace(&format!("t={T}"), &format!("t={}", T + 1));
    assert!(matches!(
        check(Some(&moved), BODY, T),
        Err(VerifyError::NoMatch { .. })
    ));

    // The signature is checked before the time: a forged, stale request is a mismatch, never
    // reported as merely "too old".
    assert!(matches!(
        check(Some(&header), &tampered, T + 10_000),
        Err(VerifyError::NoMatch { .. })
    ));
}

#[test]
fn rotation_either_secret_verifies_and_says_which() {
    let old = secret_a();
    let new = secret_b();
    let header = sign(&[&new, &old], T, BODY);
    assert_eq!(header.matches(",v1=").count(), 2);
    let third = generate_secret();
    for (secrets, index) in [
        (vec![&old], 0),
        (vec![&new], 0),
        (vec![&old, &new], 0),
        (vec![&third, &old], 1),
    ] {
        let got = verify(Some(&header), BODY, &secrets, T, DEFAULT_TOLERANCE).expect("verifies");
        assert_eq!(
            got.secret_index, index,
            "the first given secret that matches"
        );
    }
    assert_eq!(
        verify(Some(&header), BODY, &[&third], T, DEFAULT_TOLERANCE),
        Err(VerifyError::NoMatch {
            signatures: 2,
            secrets: 1
        })
    );
}

#[test]
fn verify_errors_become_invalid_input_for_the_ui() {
    let err: Error = VerifyError::MissingHeader.into();
    assert!(matches!(err, Error::InvalidInput(_)));
}

/// `v1` is HMAC-SHA256 of `"{t}.{body}"` for any timestamp, including the extremes whose
/// decimal form is longest, with a key absorbed once (`V1Key`) or per call.
#[test]
fn v1_covers_the_decimal_timestamp_of_any_length() {
    use hmac::{Hmac, Mac};
    use pitchbar_core::webhooks::signing::V1Key;
    let secret = Secret::new("whsec_timestamp_forms");
    let key = V1Key::new(&secret);
    for t in [0, 7, -1, 1_800_000_000, i64::MAX, i64::MIN] {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.expose().as_bytes()).unwrap();
        mac.update(format!("{t}.").as_bytes());
        mac.update(b"{\"a\":1}");
        let expected: [u8; 32] = mac.finalize().into_bytes().into();
        assert_eq!(signature_v1(&secret, t, b"{\"a\":1}"), expected, "t={t}");
        assert_eq!(key.signature(t, b"{\"a\":1}"), expected, "t={t}");
    }
}
