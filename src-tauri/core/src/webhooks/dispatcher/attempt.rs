//! One attempt of one delivery: the signed POST, what came back (bytes, status, error class),
//! and the decision that follows (done, retry when, dead letter, disable on 410).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};

use super::run::{Ctx, EndpointRt, USER_AGENT};
use super::{Job, Trigger};
use crate::clock::{rfc3339_ms, unix_ms};
use crate::secret::Secret;
use crate::webhooks::endpoints::Policy;
use crate::webhooks::signing::{self, SIGNATURE_HEADER};
use crate::webhooks::{DELIVERY_HEADER, EVENT_HEADER};

/// Response bodies are kept up to this many bytes; the rest is cut and the row says so.
pub const MAX_RESPONSE_BODY: usize = 64 * 1024;

pub(crate) struct AttemptRecord {
    pub(super) job: Job,
    pub(super) attempted_at: i64,
    pub(super) url: Arc<str>,
    pub(super) request_headers: String,
    pub(super) status: Option<u16>,
    pub(super) response_headers: Option<String>,
    pub(super) response_body: Option<Vec<u8>>,
    pub(super) truncated: bool,
    pub(super) duration_us: i64,
    pub(super) ok: bool,
    pub(super) error_class: Option<&'static str>,
    pub(super) error_message: Option<String>,
    pub(super) next_attempt_at: Option<i64>,
    pub(super) delivery_status: &'static str,
    pub(super) disable_reason: Option<String>,
}

pub(super) async fn attempt(ctx: &Ctx, ep: &EndpointRt, job: Job) -> AttemptRecord {
    let attempted_at = unix_ms();
    let timestamp = attempted_at.div_euclid(1000);
    let secrets: Vec<&Secret> = ep
        .secrets
        .iter()
        .filter(|(_, exp)| exp.is_none_or(|e| e > attempted_at))
        .map(|(s, _)| s)
        .collect();
    let signature = signing::sign(&secrets, timestamp, &job.body);
    // Names and values as logged (the log keeps the case they are shown in); the fixed ones
    // go on the wire without being parsed or copied again.
    let mut sent: Vec<(&str, &str)> = vec![
        ("Content-Type", "application/json"),
        ("User-Agent", USER_AGENT),
        (SIGNATURE_HEADER, &signature),
        (EVENT_HEADER, &job.event_type),
        (DELIVERY_HEADER, &job.delivery_id),
    ];
    let mut headers = HeaderMap::with_capacity(8);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(
        reqwest::header::USER_AGENT,
        HeaderValue::from_static(USER_AGENT),
    );
    let mut early_error = None;
    let standard = if ep.standard_webhooks {
        match signing::standard_webhooks_headers(&job.delivery_id, timestamp, &job.body, &secrets) {
            Ok(headers) => Some(headers),
            Err(err) => {
                early_error = Some(err.to_string());
                None
            }
        }
    } else {
        None
    };
    if let Some(standard) = &standard {
        sent.extend(standard.iter().map(|(n, v)| (*n, v.as_str())));
    }
    for (name, value) in &sent[2..] {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(n, v);
        }
    }
    let request_headers = serde_json::to_string(&sent).unwrap_or_else(|_| "[]".into());
    let started = Instant::now();
    let mut rec = AttemptRecord {
        attempted_at,
        url: ep.url_text.clone(),
        request_headers,
        status: None,
        response_headers: None,
        response_body: None,
        truncated: false,
        duration_us: 0,
        ok: false,
        error_class: None,
        error_message: None,
        next_attempt_at: None,
        delivery_status: "failed",
        disable_reason: None,
        job,
    };
    let mut retry_after = None;
    if let Some(message) = early_error {
        rec.error_class = Some("other");
        rec.error_message = Some(message);
    } else {
        let sent = ctx
            .client
            .post(ep.url.clone())
            .headers(headers)
            .timeout(ep.timeout)
            .body(rec.job.body.clone())
            .send()
            .await;
        match sent {
            Ok(mut resp) => {
                let status = resp.status();
                rec.status = Some(status.as_u16());
                let pairs: Vec<(&str, String)> = resp
                    .headers()
                    .iter()
                    .map(|(n, v)| {
                        (
                            n.as_str(),
                            String::from_utf8_lossy(v.as_bytes()).into_owned(),
                        )
                    })
                    .collect();
                rec.response_headers = serde_json::to_string(&pairs).ok();
                retry_after = resp
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(parse_retry_after);
                let location = resp
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let mut body = Vec::new();
                loop {
                    match resp.chunk().await {
                        Ok(Some(chunk)) => {
                            let room = MAX_RESPONSE_BODY - body.len();
                            if chunk.len() > room {
                                body.extend_from_slice(&chunk[..room]);
                                rec.truncated = true;
                                break;
                            }
                            body.extend_from_slice(&chunk);
                        }
                        Ok(None) => break,
                        Err(err) => {
                            rec.error_message = Some(format!(
                                "Reading the response body failed: {}",
                                describe(&err)
                            ));
                            break;
                        }
                    }
                }
                rec.response_body = Some(body);
                if status.is_success() {
                    rec.ok = true;
                    rec.error_message = None;
                } else if status.is_redirection() {
                    rec.error_class = Some("redirect");
                    rec.error_message = Some(format!(
                        "The endpoint answered {status} (redirect{}). Webhook deliveries do not follow redirects: set the endpoint's URL to the final address.",
                        location.map(|l| format!(" to {l}")).unwrap_or_default()
                    ));
                } else {
                    rec.error_class = Some("non_2xx");
                    rec.error_message
                        .get_or_insert_with(|| format!("The endpoint answered {status}."));
                }
            }
            Err(err) => {
                let (class, message) = classify(&err, ep.timeout);
                rec.error_class = Some(class);
                rec.error_message = Some(message);
            }
        }
    }
    rec.duration_us = i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX);
    decide(ctx, ep, &mut rec, retry_after);
    rec
}

/// The delivery's next state after this attempt: done, retried later, dead-lettered, or the
/// endpoint turned off (410 Gone).
fn decide(ctx: &Ctx, ep: &EndpointRt, rec: &mut AttemptRecord, retry_after: Option<Duration>) {
    rec.job.attempts += 1;
    rec.job.run_attempts += 1;
    if rec.ok {
        rec.delivery_status = "succeeded";
        return;
    }
    if rec.status == Some(410) {
        rec.delivery_status = "failed";
        rec.disable_reason = Some(format!(
            "The endpoint answered 410 Gone on {}, saying it no longer accepts webhooks, so it was turned off. Turn it back on once the receiver is ready again.",
            rfc3339_ms(rec.attempted_at)
        ));
        return;
    }
    let retries = ep.policy == Policy::AtLeastOnce
        && rec.job.trigger != Trigger::Test
        && rec.job.run_attempts < ep.max_attempts;
    if !retries {
        rec.delivery_status =
            if ep.policy == Policy::AtLeastOnce && rec.job.trigger != Trigger::Test {
                "dead"
            } else {
                "failed"
            };
        return;
    }
    let backoff = ExponentialBuilder::default()
        .with_min_delay(ctx.config.backoff_base)
        .with_max_delay(ctx.config.backoff_max)
        .with_factor(2.0)
        .with_jitter()
        .with_max_times(usize::try_from(ep.max_attempts).unwrap_or(10))
        .build()
        .nth(usize::try_from(rec.job.run_attempts.saturating_sub(1)).unwrap_or(0))
        .unwrap_or(ctx.config.backoff_max);
    let delay = match retry_after {
        // The receiver knows its own load best: its Retry-After wins, within the bound.
        Some(ra) => ra.min(ctx.config.retry_after_max),
        None => backoff,
    };
    let due = rec.attempted_at + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2);
    rec.next_attempt_at = Some(due);
    rec.job.due_ms = due;
    rec.delivery_status = "pending";
}

/// `Retry-After`: delay-seconds or an HTTP-date.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

fn classify(err: &reqwest::Error, timeout: Duration) -> (&'static str, String) {
    if err.is_timeout() {
        return (
            "timeout",
            format!(
                "No answer within the endpoint's {} ms timeout.",
                timeout.as_millis()
            ),
        );
    }
    let chain = describe(err);
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return ("connection_refused", format!("The connection was refused: nothing listens at that address and port. ({chain})"));
            }
        }
        if e.downcast_ref::<rustls::Error>().is_some() {
            return ("tls", format!("The TLS handshake failed: {chain}"));
        }
        source = e.source();
    }
    let lower = chain.to_ascii_lowercase();
    if lower.contains("dns error")
        || lower.contains("failed to lookup address")
        || lower.contains("name or service not known")
    {
        (
            "dns",
            format!("The host name could not be resolved: {chain}"),
        )
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake")
    {
        ("tls", format!("The TLS handshake failed: {chain}"))
    } else if lower.contains("connection refused") {
        (
            "connection_refused",
            format!("The connection was refused: {chain}"),
        )
    } else {
        ("other", format!("The request failed: {chain}"))
    }
}

/// An error with its causes, for the log row (never secrets: URLs carry none, per the checks).
fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        let s = e.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        source = e.source();
    }
    out
}
