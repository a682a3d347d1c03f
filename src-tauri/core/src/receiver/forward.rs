//! Forwarding, as `stripe listen --forward-to` does: each received request is sent to exactly
//! the forward URL with its method, end-to-end headers and unchanged body bytes (so its
//! signature still verifies there). The result is written to the request's record.

use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::header::{self, HeaderMap};
use hyper::Method;
use tokio::sync::{mpsc, watch};

use super::writer::{ForwardResult, WriteMsg};
use crate::net::{classify, read_capped};

/// Long enough for a server stopped at a breakpoint; the sender's answer never waits for it.
pub const FORWARD_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) struct Outgoing {
    pub method: Method,
    pub url: reqwest::Url,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// The request's headers minus those that describe this one connection (RFC 9110 §7.6.1),
/// `Host` (the forward URL's own is sent) and `Content-Length` (recomputed for the same bytes).
pub(crate) fn keep_end_to_end(headers: &HeaderMap) -> HeaderMap {
    let named_by_connection: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|n| n.trim().to_ascii_lowercase())
        .collect();
    let mut out = headers.clone();
    for name in [
        header::CONNECTION,
        header::HOST,
        header::CONTENT_LENGTH,
        header::TE,
        header::TRAILER,
        header::TRANSFER_ENCODING,
        header::UPGRADE,
        header::PROXY_AUTHORIZATION,
        header::PROXY_AUTHENTICATE,
    ] {
        out.remove(name);
    }
    out.remove("keep-alive");
    out.remove("proxy-connection");
    for name in named_by_connection {
        out.remove(name.as_str());
    }
    out
}

/// Sends the request and hands the result to the writer, unless the receiver stops first.
pub(crate) async fn run(
    client: reqwest::Client,
    writer: mpsc::Sender<WriteMsg>,
    mut stop: watch::Receiver<bool>,
    seq: u64,
    request: Outgoing,
    // The body's share of the receiver's memory budget, given back when this ends.
    _budget: Option<tokio::sync::OwnedSemaphorePermit>,
) {
    let result = tokio::select! {
        result = send(&client, request) => result,
        // The writer marks it as cut by the stop.
        _ = stop.changed() => return,
    };
    let result = ForwardResult { seq, ..result };
    let _ = writer.send(WriteMsg::Forwarded(Box::new(result))).await;
}

async fn send(client: &reqwest::Client, request: Outgoing) -> ForwardResult {
    let started = Instant::now();
    let sent = client
        .request(request.method, request.url)
        .headers(request.headers)
        .timeout(FORWARD_TIMEOUT)
        .body(request.body)
        .send()
        .await;
    let mut result = ForwardResult {
        seq: 0,
        status: None,
        headers: None,
        body: None,
        truncated: false,
        duration_us: 0,
        error_class: None,
        error_message: None,
    };
    match sent {
        Ok(mut resp) => {
            result.status = Some(resp.status().as_u16());
            result.headers = Some(
                resp.headers()
                    .iter()
                    .map(|(n, v)| {
                        let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
                        (n.as_str().to_owned(), value)
                    })
                    .collect(),
            );
            let (body, truncated, error) = read_capped(&mut resp).await;
            result.body = Some(body);
            result.truncated = truncated;
            result.error_message = error;
        }
        Err(err) => {
            let (class, message) = classify(err, FORWARD_TIMEOUT);
            result.error_class = Some(class);
            result.error_message = Some(message);
        }
    }
    result.duration_us = i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX);
    result
}
