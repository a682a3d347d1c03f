//! How deliveries are signed and verified: our `X-Pitchbar-Signature` (Stripe-style, as the spec
//! prints it) and, per endpoint, the Standard Webhooks headers beside it.
//!
//! One secret serves both schemes. It is `whsec_` followed by standard base64 of random bytes:
//! - `X-Pitchbar-Signature` keys HMAC-SHA256 with the **whole string**, prefix included, because
//!   that is what the spec's Node snippets and Stripe's verifier libraries do with it;
//! - Standard Webhooks keys HMAC-SHA256 with the **base64-decoded bytes after `whsec_`**, because
//!   that is what its official verifiers do with the same string.
//!
//! So the user copies one secret and either kind of verifier accepts the delivery.

use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, STANDARD_PAD_INDIFFERENT};
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::Error;
use crate::secret::Secret;

type HmacSha256 = Hmac<Sha256>;

/// Our signature header: `t=<unix seconds>,v1=<hex>[,v1=<hex>…]`.
pub const SIGNATURE_HEADER: &str = "X-Pitchbar-Signature";
/// Standard Webhooks: the message ID (our delivery ID, the same on every retry).
pub const WEBHOOK_ID_HEADER: &str = "webhook-id";
/// Standard Webhooks: unix seconds, the same value our `t=` carries.
pub const WEBHOOK_TIMESTAMP_HEADER: &str = "webhook-timestamp";
/// Standard Webhooks: `v1,<base64>` per secret, space-separated.
pub const WEBHOOK_SIGNATURE_HEADER: &str = "webhook-signature";

/// The prefix of every signing secret, shared with Stripe and Standard Webhooks.
pub const SECRET_PREFIX: &str = "whsec_";

/// 24 bytes is the design's floor, what Svix (the authors of Standard Webhooks) generate, and a
/// multiple of 3, so the base64 has no `=` padding for any decoder to stumble on.
const SECRET_BYTES: usize = 24;

/// Replay window the spec tells receivers to use ("older than ~5 minutes").
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// A fresh signing secret: `whsec_` + standard base64 of 24 random bytes (192 bits), e.g.
/// `whsec_9yJ2…` (38 characters in all).
pub fn generate_secret() -> Secret {
    let mut bytes = Zeroizing::new([0u8; SECRET_BYTES]);
    // The thread RNG is a CSPRNG seeded from the OS, fit for keys.
    rand::rng().fill_bytes(bytes.as_mut());
    let mut secret = String::with_capacity(SECRET_PREFIX.len() + SECRET_BYTES.div_ceil(3) * 4);
    secret.push_str(SECRET_PREFIX);
    STANDARD.encode_string(bytes.as_ref(), &mut secret);
    Secret::new(secret)
}

/// The `X-Pitchbar-Signature` value: `t=<timestamp>` then one `v1=<hex HMAC-SHA256 of
/// "{timestamp}.{body}">` per secret, in the order given (during a rotation's overlap, the
/// endpoint's valid secrets). With no secret there is no `v1=`, which any verifier rejects.
pub fn sign(secrets: &[&Secret], timestamp: i64, body: &[u8]) -> String {
    let mut header = String::with_capacity(24 + secrets.len() * 68);
    header.push_str("t=");
    header.push_str(&timestamp.to_string());
    for secret in secrets {
        header.push_str(",v1=");
        let mut hex = [0u8; 64];
        // Cannot fail: 64 bytes is exactly the hex of 32.
        if hex::encode_to_slice(signature_v1(secret, timestamp, body), &mut hex).is_ok() {
            header.extend(hex.iter().map(|&b| char::from(b)));
        }
    }
    header
}

/// The raw `v1` HMAC-SHA256 of `"{timestamp}.{body}"`, keyed with the whole secret string.
pub fn signature_v1(secret: &Secret, timestamp: i64, body: &[u8]) -> [u8; 32] {
    V1Key::new(secret).signature(timestamp, body)
}

/// A secret's `v1` HMAC with the key already absorbed: a verifier that checks many requests
/// against the same secrets keeps these instead of hashing each key for every request (two
/// SHA-256 blocks per secret). Like the secret itself, it is never printed.
#[derive(Clone)]
pub struct V1Key(HmacSha256);

impl V1Key {
    pub fn new(secret: &Secret) -> Self {
        Self(hmac_with_key(secret.expose().as_bytes()))
    }

    /// [`signature_v1`] under this key.
    pub fn signature(&self, timestamp: i64, body: &[u8]) -> [u8; 32] {
        self.mac(timestamp, body).finalize().into_bytes().into()
    }

    fn mac(&self, timestamp: i64, body: &[u8]) -> HmacSha256 {
        use std::io::Write as _;
        let mut mac = self.0.clone();
        // The decimal timestamp written on the stack: this runs per candidate per request.
        let mut digits = [0u8; 20];
        let mut rest = &mut digits[..];
        // Cannot fail: an i64 takes at most 20 characters.
        let _ = write!(rest, "{timestamp}");
        let len = 20 - rest.len();
        mac.update(&digits[..len]);
        mac.update(b".");
        mac.update(body);
        mac
    }
}

fn mac_v1(secret: &Secret, timestamp: i64, body: &[u8]) -> HmacSha256 {
    V1Key::new(secret).mac(timestamp, body)
}

impl std::fmt::Debug for V1Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("V1Key(<redacted>)")
    }
}

fn hmac_with_key(key: &[u8]) -> HmacSha256 {
    // HMAC hashes over-long keys and pads short ones: no key length is invalid.
    HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length")
}

/// The Standard Webhooks headers for one delivery, to send beside ours:
/// `webhook-id: <msg_id>`, `webhook-timestamp: <timestamp>` and
/// `webhook-signature: v1,<base64 HMAC-SHA256 of "{msg_id}.{timestamp}.{body}">` (one entry per
/// secret, space-separated, as the Standard Webhooks spec has it for rotations).
///
/// The key is what the official verifiers derive from the same secret string: `whsec_` stripped,
/// the rest base64-decoded. A secret whose rest is not base64 (one typed in by hand, not
/// generated here) cannot be used this way, and the error says so.
pub fn standard_webhooks_headers(
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
    secrets: &[&Secret],
) -> Result<[(&'static str, String); 3], Error> {
    let mut signature = String::new();
    for secret in secrets {
        let key = standard_webhooks_key(secret)?;
        let mut mac = hmac_with_key(&key);
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        if !signature.is_empty() {
            signature.push(' ');
        }
        signature.push_str("v1,");
        STANDARD.encode_string(mac.finalize().into_bytes(), &mut signature);
    }
    Ok([
        (WEBHOOK_ID_HEADER, msg_id.to_owned()),
        (WEBHOOK_TIMESTAMP_HEADER, timestamp.to_string()),
        (WEBHOOK_SIGNATURE_HEADER, signature),
    ])
}

/// Standard Webhooks' key for a secret: the bytes base64-encoded after the optional `whsec_`.
fn standard_webhooks_key(secret: &Secret) -> Result<Zeroizing<Vec<u8>>, Error> {
    let encoded = secret.expose();
    let encoded = encoded.strip_prefix(SECRET_PREFIX).unwrap_or(encoded);
    match STANDARD_PAD_INDIFFERENT.decode(encoded) {
        Ok(key) if !key.is_empty() => Ok(Zeroizing::new(key)),
        _ => Err(Error::invalid(
            "This signing secret cannot sign Standard Webhooks headers: after \"whsec_\" it must \
             be base64, as every secret generated here is. Generate a new secret for the endpoint, \
             or turn its Standard Webhooks headers off.",
        )),
    }
}

/// An `X-Pitchbar-Signature` value taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedSignature {
    /// The `t=` value, unix seconds.
    pub timestamp: i64,
    /// Every `v1=` value, in header order.
    pub v1: Vec<[u8; 32]>,
}

/// What is wrong with a signature header's shape. Each message completes the sentence
/// "The X-Pitchbar-Signature header is malformed: …".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("it is empty")]
    Empty,
    #[error("\"{0}\" is not a key=value pair")]
    NotKeyValue(String),
    #[error("it has no t= timestamp")]
    MissingTimestamp,
    #[error("it has more than one t= timestamp")]
    DuplicateTimestamp,
    #[error("t={0} is not a whole number of unix seconds")]
    BadTimestamp(String),
    /// No `v1=`; `other_schemes` lists what keys it did carry (`v0`, …), as a hint.
    #[error("it has no v1= signature{}", others_hint(.other_schemes))]
    MissingV1 { other_schemes: Vec<String> },
    #[error("v1={0} is not 64 hexadecimal digits (a hex HMAC-SHA256)")]
    BadV1(String),
    #[error("it is {0} bytes long, more than the {MAX_HEADER_BYTES} a signature header can need")]
    TooLong(usize),
    #[error("it has more than {MAX_HEADER_PARTS} parts")]
    TooManyParts,
}

/// The longest signature header read: a timestamp and a few dozen signatures fit many times
/// over; anything longer is refused before it is taken apart (a hostile header of hundreds of
/// kilobytes must cost nothing).
pub const MAX_HEADER_BYTES: usize = 4096;
/// The most comma-separated parts read (a rotation overlap sends two or three `v1`s).
pub const MAX_HEADER_PARTS: usize = 64;
/// Unknown keys named in the "it only has" hint.
const MAX_OTHER_SCHEMES: usize = 5;

fn others_hint(others: &[String]) -> String {
    if others.is_empty() {
        String::new()
    } else {
        format!(" (it only has: {})", others.join(", "))
    }
}

/// Keeps an echoed fragment of a bad header short enough for a message.
fn excerpt(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        s.to_owned()
    } else {
        let mut cut: String = s.chars().take(MAX).collect();
        cut.push('…');
        cut
    }
}

/// Takes `t=<unix>,v1=<hex>[,v1=<hex>…]` apart. Spaces around parts are tolerated; keys other
/// than `t` and `v1` are ignored (as Stripe's verifiers do, so a future `v2` does not break old
/// receivers), but a `v1` that is not a 32-byte hex HMAC is an error, not silently skipped.
/// Linear in the header, and refused past [`MAX_HEADER_BYTES`] or [`MAX_HEADER_PARTS`].
pub fn parse_signature_header(header: &str) -> Result<ParsedSignature, SignatureError> {
    let header = header.trim();
    if header.is_empty() {
        return Err(SignatureError::Empty);
    }
    if header.len() > MAX_HEADER_BYTES {
        return Err(SignatureError::TooLong(header.len()));
    }
    if header.split(',').nth(MAX_HEADER_PARTS).is_some() {
        return Err(SignatureError::TooManyParts);
    }
    let mut timestamp = None;
    let mut v1 = Vec::new();
    let mut other_schemes: Vec<String> = Vec::new();
    for part in header.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((key, value)) = part.split_once('=') else {
            return Err(SignatureError::NotKeyValue(excerpt(part)));
        };
        let (key, value) = (key.trim(), value.trim());
        match key {
            "t" => {
                if timestamp.is_some() {
                    return Err(SignatureError::DuplicateTimestamp);
                }
                let parsed = value
                    .bytes()
                    .all(|b| b.is_ascii_digit())
                    .then(|| value.parse::<i64>().ok())
                    .flatten()
                    .ok_or_else(|| SignatureError::BadTimestamp(excerpt(value)))?;
                timestamp = Some(parsed);
            }
            "v1" => {
                let mut sig = [0u8; 32];
                hex::decode_to_slice(value, &mut sig)
                    .map_err(|_| SignatureError::BadV1(excerpt(value)))?;
                v1.push(sig);
            }
            other => {
                let other = excerpt(other);
                if other_schemes.len() < MAX_OTHER_SCHEMES && !other_schemes.contains(&other) {
                    other_schemes.push(other);
                }
            }
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::MissingTimestamp)?;
    if v1.is_empty() {
        return Err(SignatureError::MissingV1 { other_schemes });
    }
    Ok(ParsedSignature { timestamp, v1 })
}

/// Why a delivery did not verify. Kept precise: the receiver shows it as the diagnosis.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error(
        "The request has no X-Pitchbar-Signature header, so it cannot be verified. Check that \
         it was sent by Pitchbar to this endpoint."
    )]
    MissingHeader,
    #[error(
        "The X-Pitchbar-Signature header is malformed: {0}. It should look like \
         t=<unix seconds>,v1=<64 hex digits>."
    )]
    Malformed(SignatureError),
    #[error("There is no signing secret to check the signature with. Add the endpoint's secret.")]
    NoSecret,
    /// The signature is authentic but its timestamp is older than the tolerance: a replay, a
    /// delivery held up too long, or a slow clock at the sender.
    #[error(
        "The signature is valid but its timestamp is {age_secs} seconds old, beyond the \
         {tolerance_secs}-second tolerance: a replayed or late delivery, or a clock that is off."
    )]
    TooOld { age_secs: i64, tolerance_secs: u64 },
    /// The signature is authentic but its timestamp is ahead of this machine's clock.
    #[error(
        "The signature is valid but its timestamp is {ahead_secs} seconds in the future, beyond \
         the {tolerance_secs}-second tolerance: the sender's clock or this machine's is off."
    )]
    InFuture {
        ahead_secs: i64,
        tolerance_secs: u64,
    },
    #[error(
        "None of the {signatures} v1 signature(s) matches the body under the {secrets} \
         secret(s) tried: the body was changed after signing, or the secret is not the \
         endpoint's current one."
    )]
    NoMatch { signatures: usize, secrets: usize },
}

impl VerifyError {
    /// A stable name for the kind, for logs and the receiver's records.
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::MissingHeader => "missing_header",
            VerifyError::Malformed(_) => "malformed_header",
            VerifyError::NoSecret => "no_secret",
            VerifyError::TooOld { .. } => "timestamp_too_old",
            VerifyError::InFuture { .. } => "timestamp_in_future",
            VerifyError::NoMatch { .. } => "no_matching_signature",
        }
    }
}

impl From<VerifyError> for Error {
    fn from(err: VerifyError) -> Self {
        Error::InvalidInput(err.to_string())
    }
}

/// What a successful verification found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub timestamp: i64,
    /// Which of the given secrets matched: during a rotation this tells old from new.
    pub secret_index: usize,
}

/// Checks an `X-Pitchbar-Signature` header (`None` when the request had none) against the raw
/// body and the endpoint's valid secrets, with `now` in unix seconds and the same tolerance in
/// both directions of time.
///
/// The signature is checked before the timestamp (as Stripe's verifiers do), so a timestamp
/// error always means an authentic delivery that arrived outside the window: a replay or a
/// clock problem, never a forgery. Comparisons are constant-time.
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    secrets: &[&Secret],
    now: i64,
    tolerance: Duration,
) -> Result<Verified, VerifyError> {
    let header = header.ok_or(VerifyError::MissingHeader)?;
    let parsed = parse_signature_header(header).map_err(VerifyError::Malformed)?;
    if secrets.is_empty() {
        return Err(VerifyError::NoSecret);
    }
    let secret_index = secrets
        .iter()
        .position(|secret| {
            let mac = mac_v1(secret, parsed.timestamp, body);
            parsed
                .v1
                .iter()
                .any(|sig| mac.clone().verify_slice(sig).is_ok())
        })
        .ok_or(VerifyError::NoMatch {
            signatures: parsed.v1.len(),
            secrets: secrets.len(),
        })?;

    let tolerance_secs = tolerance.as_secs();
    let window = i64::try_from(tolerance_secs).unwrap_or(i64::MAX);
    let age = now.saturating_sub(parsed.timestamp);
    if age > window {
        return Err(VerifyError::TooOld {
            age_secs: age,
            tolerance_secs,
        });
    }
    if age < 0 && age.saturating_neg() > window {
        return Err(VerifyError::InFuture {
            ahead_secs: age.saturating_neg(),
            tolerance_secs,
        });
    }
    Ok(Verified {
        timestamp: parsed.timestamp,
        secret_index,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn hostile_headers_are_refused_before_they_are_taken_apart() {
        // 60,000 parts, 480 KB: refused by its length at once.
        let huge: String = (0..60_000)
            .map(|i| format!("k{i:05}=x"))
            .collect::<Vec<_>>()
            .join(",");
        let started = std::time::Instant::now();
        assert_eq!(
            parse_signature_header(&huge),
            Err(SignatureError::TooLong(huge.len()))
        );
        assert!(started.elapsed() < std::time::Duration::from_millis(50));
        // Under the length, too many parts.
        let many = vec!["a=1"; MAX_HEADER_PARTS + 1].join(",");
        assert_eq!(
            parse_signature_header(&many),
            Err(SignatureError::TooManyParts)
        );
        // The hint names a few unknown keys, not all of them.
        let others: String = (0..40).map(|i| format!("x{i}=1,")).collect::<String>() + "t=1";
        match parse_signature_header(&others) {
            Err(SignatureError::MissingV1 { other_schemes }) => {
                assert_eq!(other_schemes.len(), MAX_OTHER_SCHEMES)
            }
            other => panic!("{other:?}"),
        }
    }

    use super::*;

    #[test]
    fn generated_secrets_have_the_prefix_and_decode_to_24_bytes() {
        let a = generate_secret();
        let b = generate_secret();
        assert_ne!(a.expose(), b.expose());
        let rest = a.expose().strip_prefix(SECRET_PREFIX).expect("prefix");
        assert_eq!(rest.len(), 32);
        assert_eq!(STANDARD.decode(rest).expect("base64").len(), SECRET_BYTES);
    }

    #[test]
    fn excerpt_cuts_long_fragments() {
        assert_eq!(excerpt("abc"), "abc");
        assert_eq!(excerpt(&"x".repeat(100)).chars().count(), 41);
    }
}
