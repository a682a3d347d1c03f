//! The listener: hyper HTTP/1 connections on 127.0.0.1, and the per-request path — read the
//! body, verify, queue the record, start the forward, then answer as configured.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use super::forward;
use super::hub::Hub;
use super::seen::{in_log, in_memory_window};
use super::settings::TOLERANCE_SECS;
use super::settings::{Answer, Live, VerifyWith};
use super::writer::{Record, RowText, WriteMsg};
use crate::clock::unix_ms;
use crate::error::Result;
use crate::net::ClientSpec;
use crate::store::Store;
use crate::webhooks::signing::{parse_signature_header, ParsedSignature, SIGNATURE_HEADER};
use crate::webhooks::verify::{diagnose_prepared, Candidate, CandidateState, PreparedCandidates};

/// Bodies are recorded up to this size; a larger one is cut, answered 413 and not forwarded.
pub const MAX_BODY: usize = 4 * 1024 * 1024;

/// What every connection of one running receiver shares.
pub(crate) struct Shared {
    store: Arc<Store>,
    hub: Arc<Hub>,
    pub(super) verify: VerifyWith,
    /// Credential headers are recorded as sent, not masked.
    pub(super) keep_credentials: bool,
    /// The candidates of `Nothing` and `Secret`, fixed for the run.
    fixed: Arc<PreparedCandidates>,
    /// The provider's list last seen, with its keys prepared: the list stays the same `Arc`
    /// until an endpoint or secret changes, so each key is hashed once, not per request.
    prepared: Mutex<Option<Arc<PreparedCandidates>>>,
    live: RwLock<Arc<Live>>,
    pub(super) writer: mpsc::Sender<WriteMsg>,
    pub(super) client: reqwest::Client,
    seq: AtomicU64,
    shutdown: watch::Receiver<bool>,
}

impl Shared {
    pub(super) fn new(
        store: Arc<Store>,
        hub: Arc<Hub>,
        verify: VerifyWith,
        keep_credentials: bool,
        live: Live,
        writer: mpsc::Sender<WriteMsg>,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Self> {
        let fixed = match &verify {
            VerifyWith::Secret(secret) => vec![Candidate {
                label: "the secret you entered".into(),
                secret: secret.clone(),
                state: CandidateState::Current,
            }],
            VerifyWith::Nothing | VerifyWith::Candidates(_) => Vec::new(),
        };
        Ok(Self {
            store,
            hub,
            verify,
            keep_credentials,
            fixed: Arc::new(PreparedCandidates::new(Arc::new(fixed))),
            prepared: Mutex::new(None),
            live: RwLock::new(Arc::new(live)),
            writer,
            client: ClientSpec::new("receiver forwarding")
                .user_agent(crate::webhooks::USER_AGENT)
                .build(&[])?,
            seq: AtomicU64::new(0),
            shutdown,
        })
    }

    pub(super) fn live(&self) -> Arc<Live> {
        crate::sync::read(&self.live).clone()
    }

    /// Replaces the settings with `change(current)`, or leaves them if it fails.
    pub(super) fn update(&self, change: impl FnOnce(&Live) -> Result<Live>) -> Result<()> {
        let mut slot = crate::sync::write(&self.live);
        *slot = Arc::new(change(&slot)?);
        Ok(())
    }

    pub(super) fn shutdown(&self) -> watch::Receiver<bool> {
        self.shutdown.clone()
    }

    fn candidates(&self) -> Arc<PreparedCandidates> {
        let VerifyWith::Candidates(provider) = &self.verify else {
            return self.fixed.clone();
        };
        let list = provider().unwrap_or_else(|err| {
            tracing::warn!(error = %err, "the receiver's secrets could not be loaded");
            Arc::default()
        });
        let mut slot = crate::sync::lock(&self.prepared);
        match &*slot {
            Some(prepared) if Arc::ptr_eq(&prepared.list, &list) => prepared.clone(),
            _ => {
                let prepared = Arc::new(PreparedCandidates::new(list));
                *slot = Some(prepared.clone());
                prepared
            }
        }
    }

    /// Whether any of the header's signatures was received before (and remembers them).
    async fn seen_before(&self, parsed: &ParsedSignature, received_ms: i64) -> bool {
        let now = received_ms.div_euclid(1000);
        if self
            .hub
            .seen
            .check_and_insert(parsed.timestamp, &parsed.v1, now)
        {
            return true;
        }
        if in_memory_window(parsed.timestamp, now) {
            return false;
        }
        let store = self.store.clone();
        let (signed_at, sigs) = (parsed.timestamp, parsed.v1.clone());
        tokio::task::spawn_blocking(move || in_log(&store, signed_at, &sigs).unwrap_or(false))
            .await
            .unwrap_or(false)
    }
}

/// Accepts connections until the stop signal; each connection ends at it too.
pub(super) async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let stream = tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(err) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    tracing::warn!(error = %err, "the receiver could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let mut stop = shutdown.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| handle(shared.clone(), req));
            let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = conn => {}
                _ = stop.changed() => {}
            }
        });
    }
}

/// The service's error: hyper closes the connection without writing any answer.
#[derive(Debug)]
struct NoAnswer;

impl std::fmt::Display for NoAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("closed without an answer, as configured")
    }
}

impl std::error::Error for NoAnswer {}

async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, NoAnswer> {
    let received_at = unix_ms();
    let (parts, body) = req.into_parts();
    let Ok((body, body_truncated)) = read_body(body).await else {
        // The sender went away mid-body: there is no one to answer, and nothing whole to keep.
        return Err(NoAnswer);
    };
    // Taken apart once: for the verdict and, when authentic, for replay detection.
    let header = parts
        .headers
        .get(SIGNATURE_HEADER)
        .map(|v| parse_signature_header(&String::from_utf8_lossy(v.as_bytes())));
    let parsed = header.as_ref().and_then(|h| h.as_ref().ok());
    let candidates = shared.candidates();
    let now = received_at.div_euclid(1000);
    let mut verdict = diagnose_prepared(
        header.as_ref(),
        &body,
        &candidates,
        now,
        TOLERANCE_SECS,
        false,
    );
    // Only signatures that matched a secret are remembered: a forged request carrying a copied
    // signature must not make the genuine one look like a replay.
    let authentic = parsed.filter(|_| verdict.matched.is_some());
    if let Some(p) = authentic {
        if shared.seen_before(p, received_at).await {
            verdict = diagnose_prepared(
                header.as_ref(),
                &body,
                &candidates,
                now,
                TOLERANCE_SECS,
                true,
            );
        }
    }
    let signature = authentic.and_then(|p| p.v1.first().map(|s| (*s, p.timestamp)));
    let live = shared.live();
    let answer = if body_truncated {
        Arc::new(Answer::too_large(MAX_BODY))
    } else {
        live.answer.clone()
    };
    let forward_to = live.forward.clone().filter(|_| !body_truncated);
    let forward_seq = forward_to
        .as_ref()
        .map(|_| shared.seq.fetch_add(1, Ordering::Relaxed));
    let forward = match (forward_to, forward_seq) {
        (Some(url), Some(seq)) => Some((
            seq,
            forward::Outgoing {
                method: parts.method.clone(),
                url,
                headers: forward::keep_end_to_end(&parts.headers),
                body: body.clone(),
            },
        )),
        _ => None,
    };
    let record = Record {
        forward_seq,
        received_at,
        valid: verdict.valid,
        code: verdict.code,
        signature,
        body_truncated,
        answer: answer.clone(),
        text: RowText::new(
            !shared.keep_credentials,
            &parts.method,
            &parts.uri,
            &parts.headers,
            &verdict,
            forward.as_ref().map(|(_, f)| f.url.as_str()),
        ),
        // A copy (a kilobyte, typically): the body read is a view into the connection's read
        // buffer, which hyper can only reuse for the next request once no record holds it.
        body: Bytes::copy_from_slice(&body),
    };
    // Queued before the answer goes out: a stop writes it, so every answer is on record.
    let _ = shared.writer.send(WriteMsg::Record(record)).await;
    if let Some((seq, request)) = forward {
        tokio::spawn(forward::run(
            shared.client.clone(),
            shared.writer.clone(),
            shared.shutdown(),
            seq,
            request,
        ));
    }
    if answer.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(u64::from(answer.delay_ms))).await;
    }
    let Some(status) = answer.status else {
        return Err(NoAnswer);
    };
    let mut response = Response::new(Full::new(answer.body.clone()));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    *response.headers_mut() = answer.header_map.clone();
    Ok(response)
}

/// The body, up to [`MAX_BODY`] bytes, and whether it was longer.
async fn read_body(body: Incoming) -> Result<(Bytes, bool), hyper::Error> {
    if body
        .size_hint()
        .upper()
        .is_some_and(|n| n <= MAX_BODY as u64)
    {
        // The usual case: a Content-Length within bounds, often one chunk (no copy).
        return Ok((body.collect().await?.to_bytes(), false));
    }
    let mut body = body;
    let mut buf = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            let room = MAX_BODY - buf.len();
            if data.len() > room {
                buf.extend_from_slice(&data[..room]);
                return Ok((Bytes::from(buf), true));
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok((Bytes::from(buf), false))
}
