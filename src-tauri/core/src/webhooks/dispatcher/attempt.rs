//! One attempt of one delivery: the signed POST, what came back (bytes, status, error class),
//! and the decision that follows (done, retry when, dead letter, disable on 410).

use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder};

use super::config::DispatcherConfig;
use super::endpoint::EndpointRt;
use crate::clock::rfc3339_ms;
use crate::net::{classify, header_map, read_capped, retry_after as retry_after_of};
use crate::outbox::{Job, Trigger};
use crate::secret::Secret;
use crate::webhooks::endpoints::Policy;
use crate::webhooks::{delivery_headers, signing};

pub(crate) struct AttemptRecord {
    pub(super) job: Job,
    pub(super) attempted_at: i64,
    pub(super) url: String,
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

pub(super) async fn attempt(
    client: &reqwest::Client,
    config: &DispatcherConfig,
    ep: &EndpointRt,
    job: Job,
) -> AttemptRecord {
    let attempted_at = config.clock.now_ms();
    let timestamp = attempted_at.div_euclid(1000);
    let secrets: Vec<&Secret> = ep
        .secrets
        .iter()
        .filter(|(_, exp)| exp.is_none_or(|e| e > attempted_at))
        .map(|(s, _)| s)
        .collect();
    let mut sent = delivery_headers(
        &job.event_type,
        &job.delivery_id,
        &secrets,
        timestamp,
        &job.body,
    );
    let mut early_error = ep.secret_error.clone();
    if ep.standard_webhooks && early_error.is_none() {
        match signing::standard_webhooks_headers(&job.delivery_id, timestamp, &job.body, &secrets) {
            Ok(headers) => sent.extend(headers.map(|(n, v)| (n, v))),
            Err(err) => early_error = Some(err.to_string()),
        }
    }
    let headers = header_map(&sent);
    let request_headers = serde_json::to_string(&sent).unwrap_or_else(|_| "[]".into());
    let started = Instant::now();
    let mut rec = AttemptRecord {
        attempted_at,
        url: ep.url.to_string(),
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
        let sent = client
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
                retry_after = retry_after_of(resp.headers());
                let location = resp
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let (body, truncated, read_error) = read_capped(&mut resp).await;
                rec.truncated = truncated;
                rec.error_message = read_error;
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
                let (class, message) = classify(err, ep.timeout);
                rec.error_class = Some(class);
                rec.error_message = Some(message);
            }
        }
    }
    rec.duration_us = i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX);
    decide(config, ep, &mut rec, retry_after);
    rec
}

/// The delivery's next state after this attempt: done, retried later, dead-lettered, or the
/// endpoint turned off (410 Gone).
fn decide(
    config: &DispatcherConfig,
    ep: &EndpointRt,
    rec: &mut AttemptRecord,
    retry_after: Option<Duration>,
) {
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
        .with_min_delay(config.backoff_base)
        .with_max_delay(config.backoff_max)
        .with_factor(2.0)
        .with_jitter()
        .with_max_times(usize::try_from(ep.max_attempts).unwrap_or(10))
        .build()
        .nth(usize::try_from(rec.job.run_attempts.saturating_sub(1)).unwrap_or(0))
        .unwrap_or(config.backoff_max);
    let delay = match retry_after {
        // The receiver knows its own load best: its Retry-After wins, within the bound.
        Some(ra) => ra.min(config.retry_after_max),
        None => backoff,
    };
    let due = rec.attempted_at + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2);
    rec.next_attempt_at = Some(due);
    rec.job.due_ms = due;
    rec.delivery_status = "pending";
}
