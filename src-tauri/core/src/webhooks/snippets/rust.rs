// Pitchbar webhook verification for a Rust receiver.
// Cargo.toml: hmac = "0.12", sha2 = "0.10", hex = "0.4"
use hmac::{Hmac, Mac};
use sha2::Sha256;

// The endpoint's signing secret. The whole string, "whsec_" included, is the HMAC key.
const PITCHBAR_SECRET: &str = "__PITCHBAR_SECRET__";
// Older (or newer) signatures are refused, so a captured request cannot be replayed later.
const TOLERANCE_SECONDS: i64 = 300;

/// `Ok` when the request is authentic, else why not (answer 400 with it). `raw_body` must be
/// the exact bytes received, before any JSON parsing; `now` is the current unix time.
pub fn verify(header: Option<&str>, raw_body: &[u8], now: i64) -> Result<(), &'static str> {
    let header = header.ok_or("missing X-Pitchbar-Signature header")?;
    let mut t = None;
    let mut v1 = Vec::new();
    for part in header.split(',') {
        let Some((key, value)) = part.split_once('=') else {
            continue;
        };
        match key.trim() {
            "t" => t = Some(value.trim()),
            "v1" => v1.push(value.trim()),
            _ => {}
        }
    }
    let malformed = "malformed X-Pitchbar-Signature header";
    let t = t
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
        .ok_or(malformed)?;
    let timestamp: i64 = t.parse().map_err(|_| malformed)?;
    if v1.is_empty() {
        return Err(malformed);
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(PITCHBAR_SECRET.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(raw_body);
    // While a secret is being rotated there is one v1 per valid secret: any match will do.
    // `verify_slice` compares in constant time.
    let matches = v1.iter().any(|sig| {
        hex::decode(sig).is_ok_and(|sig| mac.clone().verify_slice(&sig).is_ok())
    });
    if !matches {
        return Err("signature mismatch");
    }
    if (now - timestamp).abs() > TOLERANCE_SECONDS {
        return Err("timestamp outside the 5-minute tolerance");
    }
    Ok(())
}

// Wiring it into axum: take the body as `Bytes` (the raw bytes, not `Json<…>`), verify, then parse.
//
// async fn pitchbar_webhook(headers: axum::http::HeaderMap, body: axum::body::Bytes)
//     -> (axum::http::StatusCode, &'static str) {
//     let header = headers.get("x-pitchbar-signature").and_then(|v| v.to_str().ok());
//     let now = std::time::SystemTime::now()
//         .duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
//     if let Err(reason) = verify(header, &body, now) {
//         return (axum::http::StatusCode::BAD_REQUEST, reason);
//     }
//     // serde_json::from_slice(&body) and handle the event; X-Pitchbar-Delivery dedupes retries.
//     (axum::http::StatusCode::OK, "ok")
// }
//
// let app = axum::Router::new().route("/webhooks/pitchbar", axum::routing::post(pitchbar_webhook));
// let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
// let listener = tokio::net::TcpListener::bind(format!("0.0.0.0:{port}")).await?;
// axum::serve(listener, app).await?;
