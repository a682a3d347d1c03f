//! The listener: hyper HTTP/1 connections on 127.0.0.1, and the per-request path — read the
//! body, verify, queue the record, start the forward, then answer as configured.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch, OwnedSemaphorePermit, Semaphore};

use super::forward;
use super::hub::Hub;
use super::seen::{in_log, in_memory_window};
use super::settings::TOLERANCE_SECS;
use super::settings::{Answer, Live, ReceiverConfig, VerifyWith};
use super::writer::{Record, RowText, WriteMsg};
use crate::clock::unix_ms;
use crate::error::Result;
use crate::loopback::{self, Limits, OnStop};
use crate::net::ClientSpec;
use crate::store::Store;
use crate::webhooks::signing::{parse_signature_header, ParsedSignature, SIGNATURE_HEADER};
use crate::webhooks::verify::{
    diagnose_prepared, Candidate, CandidateState, PreparedCandidates, Verdict, VerdictCode,
};

/// Bodies are recorded up to this size; a larger one is cut, answered 413 and not forwarded.
pub const MAX_BODY: usize = 4 * 1024 * 1024;
/// Request bodies held in memory at once, across connections: being read, waiting to be
/// written to the log, or being forwarded. A request beyond it waits for room (its sender's TCP
/// window fills) instead of growing memory.
pub const BODY_BUDGET: usize = 64 * 1024 * 1024;
/// A body that sends nothing for this long is given up (the connection is closed).
const BODY_IDLE: Duration = Duration::from_secs(30);
/// Bodies larger than this are diagnosed on a blocking thread, away from the threads that
/// answer requests (and the local API).
const DIAGNOSE_INLINE: usize = 64 * 1024;

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
    /// The port it listens on: the only one a request's `Host` may name.
    port: u16,
    limits: Limits,
    budget: Arc<Semaphore>,
}

impl Shared {
    /// `config`'s verification, credential masking and limits; `port` is where it listens.
    pub(super) fn new(
        store: Arc<Store>,
        hub: Arc<Hub>,
        config: &ReceiverConfig,
        live: Live,
        writer: mpsc::Sender<WriteMsg>,
        shutdown: watch::Receiver<bool>,
        port: u16,
    ) -> Result<Self> {
        let (verify, keep_credentials, limits) = (
            config.verify_with.clone(),
            config.keep_credentials,
            config.limits,
        );
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
            port,
            limits,
            budget: Arc::new(Semaphore::new(BODY_BUDGET)),
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

/// Serves connections until the stop signal; each connection ends at it too.
pub(super) async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    shutdown: watch::Receiver<bool>,
) {
    let limits = shared.limits;
    loopback::serve(listener, limits, OnStop::Cut, shutdown, move || {
        let shared = shared.clone();
        service_fn(move |req| handle(shared.clone(), req))
    })
    .await;
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
    if let Some(verdict) = refusal(&parts.headers, shared.port) {
        discard(body).await;
        return Ok(refuse(&shared, &parts, received_at, verdict).await);
    }
    let Ok((body, body_truncated, budget)) = read_body(body, &shared.budget).await else {
        // The sender went away mid-body (or stalled): there is no one to answer, and nothing
        // whole to keep.
        return Err(NoAnswer);
    };
    // Taken apart once: for the verdict and, when authentic, for replay detection.
    let header = parts
        .headers
        .get(SIGNATURE_HEADER)
        .map(|v| parse_signature_header(&String::from_utf8_lossy(v.as_bytes())));
    let candidates = shared.candidates();
    let now = received_at.div_euclid(1000);
    let (header, mut verdict) =
        diagnose(header, body.clone(), candidates.clone(), now, false).await;
    let parsed = header.as_ref().and_then(|h| h.as_ref().ok());
    // Only signatures that matched a secret are remembered: a forged request carrying a copied
    // signature must not make the genuine one look like a replay.
    let authentic = parsed.filter(|_| verdict.matched.is_some()).cloned();
    if let Some(p) = &authentic {
        if shared.seen_before(p, received_at).await {
            verdict = diagnose(header, body.clone(), candidates, now, true)
                .await
                .1;
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
        _budget: budget,
    };
    // Queued before the answer goes out: a stop writes it, so every answer is on record.
    let _ = shared.writer.send(WriteMsg::Record(record)).await;
    if let Some((seq, request)) = forward {
        // The forward holds the body read until it is sent: its own share of the budget.
        let share = take_budget(&shared.budget, request.body.len()).await;
        tokio::spawn(forward::run(
            shared.client.clone(),
            shared.writer.clone(),
            shared.shutdown(),
            seq,
            request,
            share,
        ));
    }
    if answer.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(u64::from(answer.delay_ms))).await;
    }
    let Some(status) = answer.status else {
        return Err(NoAnswer);
    };
    Ok(response(status, &answer))
}

fn response(status: u16, answer: &Answer) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(answer.body.clone()));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    *response.headers_mut() = answer.header_map.clone();
    response
}

/// The verdict on a request the receiver does not take: to another host than this machine
/// (DNS rebinding), or sent by a web page in the user's browser.
fn refusal(headers: &hyper::HeaderMap, port: u16) -> Option<Verdict> {
    let (title, detail) = if !loopback::host_is_local(headers, port) {
        (
            "Refused: not addressed to this machine".to_owned(),
            loopback::host_refusal(headers, port),
        )
    } else {
        let why = loopback::from_web_page(headers)?;
        (
            "Refused: sent by a web page".to_owned(),
            format!(
                "A web page open in a browser sent this request ({why}). Webhook senders send no \
                 Origin or Sec-Fetch-Site header, so the receiver refuses such requests: a page \
                 you visit cannot fill this log or reach your forward target. Send webhooks from \
                 a server, a script or `pitchbar-admin trigger`."
            ),
        )
    };
    Some(Verdict {
        valid: false,
        code: VerdictCode::Refused,
        title,
        detail,
        matched: None,
        timestamp: None,
        skew_secs: None,
        signatures_in_header: 0,
    })
}

/// Records a refused request (its headers, no body) and answers it 403 with the reason.
async fn refuse(
    shared: &Shared,
    parts: &hyper::http::request::Parts,
    received_at: i64,
    verdict: Verdict,
) -> Response<Full<Bytes>> {
    let answer = Arc::new(Answer::refused(&verdict.detail));
    let record = Record {
        forward_seq: None,
        received_at,
        valid: false,
        code: verdict.code,
        signature: None,
        body_truncated: false,
        answer: answer.clone(),
        text: RowText::new(
            !shared.keep_credentials,
            &parts.method,
            &parts.uri,
            &parts.headers,
            &verdict,
            None,
        ),
        body: Bytes::new(),
        _budget: None,
    };
    let _ = shared.writer.send(WriteMsg::Record(record)).await;
    let mut response = response(403, &answer);
    response.headers_mut().insert(
        hyper::header::CONNECTION,
        hyper::header::HeaderValue::from_static("close"),
    );
    response
}

type Header =
    Option<std::result::Result<ParsedSignature, crate::webhooks::signing::SignatureError>>;

/// The verdict on the body's signature; a large body's on a blocking thread (each candidate
/// secret hashes the whole body), so the threads that answer requests keep answering.
async fn diagnose(
    header: Header,
    body: Bytes,
    candidates: Arc<PreparedCandidates>,
    now: i64,
    seen_before: bool,
) -> (Header, Verdict) {
    let inline = body.len() <= DIAGNOSE_INLINE;
    let run = move || {
        let verdict = diagnose_prepared(
            header.as_ref(),
            &body,
            &candidates,
            now,
            TOLERANCE_SECS,
            seen_before,
        );
        (header, verdict)
    };
    if inline {
        return run();
    }
    tokio::task::spawn_blocking(run)
        .await
        .expect("the signature diagnosis does not panic")
}

/// Reads a refused request's body and throws it away (up to [`MAX_BODY`], for a few seconds),
/// so its sender can read the answer instead of a reset connection; nothing of it is kept.
async fn discard(mut body: Incoming) {
    let drain = async {
        let mut read = 0;
        while let Some(Ok(frame)) = body.frame().await {
            read += frame.data_ref().map_or(0, Bytes::len);
            if read > MAX_BODY {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(5), drain).await;
}

/// `n` bytes of the memory budget (at most all of it), waited for.
async fn take_budget(budget: &Arc<Semaphore>, n: usize) -> Option<OwnedSemaphorePermit> {
    if n == 0 {
        return None;
    }
    let n = u32::try_from(n.min(BODY_BUDGET)).unwrap_or(u32::MAX);
    budget.clone().acquire_many_owned(n).await.ok()
}

/// The body, up to [`MAX_BODY`] bytes, whether it was longer, and its share of the memory
/// budget (taken before it is read, or as it arrives when its length is not announced).
async fn read_body(
    body: Incoming,
    budget: &Arc<Semaphore>,
) -> std::result::Result<(Bytes, bool, Option<OwnedSemaphorePermit>), ()> {
    if let Some(n) = body.size_hint().upper().filter(|n| *n <= MAX_BODY as u64) {
        // The usual case: a Content-Length within bounds, often one chunk (no copy).
        let share = take_budget(budget, n as usize).await;
        let read = tokio::time::timeout(BODY_IDLE.max(Duration::from_secs(1)), body.collect());
        return match read.await {
            Ok(Ok(collected)) => Ok((collected.to_bytes(), false, share)),
            _ => Err(()),
        };
    }
    let mut body = body;
    let mut buf = Vec::new();
    let mut share: Option<OwnedSemaphorePermit> = None;
    loop {
        let frame = match tokio::time::timeout(BODY_IDLE, body.frame()).await {
            Ok(Some(Ok(frame))) => frame,
            Ok(None) => break,
            Ok(Some(Err(_))) | Err(_) => return Err(()),
        };
        if let Ok(data) = frame.into_data() {
            let room = MAX_BODY - buf.len();
            let take = data.len().min(room);
            if let Some(more) = take_budget(budget, take).await {
                match &mut share {
                    Some(s) => s.merge(more),
                    None => share = Some(more),
                }
            }
            buf.extend_from_slice(&data[..take]);
            if data.len() > room {
                return Ok((Bytes::from(buf), true, share));
            }
        }
    }
    Ok((Bytes::from(buf), false, share))
}
