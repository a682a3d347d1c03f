//! The receiver's group-commit writer: one thread that writes queued records in batches (one
//! transaction each), fills in forward results as they arrive, and announces each batch.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::header::HeaderMap;
use hyper::{Method, Uri};
use rusqlite::params;
use tokio::sync::mpsc;

use super::hub::Hub;
use super::json::{header_text, json_pairs, pairs_json, write_verdict_json};
use super::retention::{prune, Held};
use super::settings::Answer;
use crate::error::{Error, Result};
use crate::store::Store;
use crate::webhooks::verify::{Verdict, VerdictCode};

/// Records per transaction at most: large enough to amortize a commit, small enough that a
/// page of the log shows new requests within tens of milliseconds. A batch only grows this
/// large when requests arrive faster than they are written, and then size pays: each commit
/// rewrites every page its rows touched, so 4096 rows per commit write fewer pages per row than
/// 1024 (measured with the index on the signature alone, before migration 0008: +17 % answered,
/// +21 % recorded in the receiver bench).
const BATCH: usize = 4096;
/// How long the writer waits, once woken, for more records before it commits a batch that is
/// not full. Without it, a writer that keeps up commits every few records, and each commit
/// rewrites its partly filled pages whole (16 KB each, WAL frame and checkpoint copy): 8 rows
/// per commit at 50,000 requests/s. Waiting 2 ms makes that ~200 and costs 9 % less CPU per
/// request (receiver_count, median of 7); the UI sees a row 2 ms later.
const LINGER: Duration = Duration::from_millis(2);
/// Records queued at most: beyond it, request handlers wait (backpressure) instead of
/// growing memory without bound when the disk cannot keep up.
const QUEUE: usize = 16 * 1024;

/// One received request and what it was answered.
pub(crate) struct Record {
    /// Set when the request is being forwarded: the forward's result names it.
    pub forward_seq: Option<u64>,
    pub received_at: i64,
    pub valid: bool,
    pub code: VerdictCode,
    /// The header's first v1 value when a secret matched, and the time it was signed at.
    pub signature: Option<([u8; 32], i64)>,
    pub body_truncated: bool,
    pub answer: Arc<Answer>,
    pub text: RowText,
    pub body: Bytes,
    /// The body's share of the receiver's memory budget, given back once it is written.
    pub _budget: Option<tokio::sync::OwnedSemaphorePermit>,
}

/// A request's text columns, written into one string on the request's own thread: the writer
/// then frees one block per request instead of each string, header map and verdict the request
/// made (glibc frees another thread's allocations on its slow path, and the request handlers'
/// next allocations miss their thread cache).
pub(crate) struct RowText {
    text: String,
    method: Range<usize>,
    path: Range<usize>,
    query: Option<Range<usize>>,
    title: Range<usize>,
    forward_url: Option<Range<usize>>,
    verdict: Range<usize>,
    headers: Range<usize>,
}

impl RowText {
    /// `mask`: credential headers are recorded masked (see [`masked`]).
    pub(crate) fn new(
        mask: bool,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        verdict: &Verdict,
        forward_url: Option<&str>,
    ) -> Self {
        let headers_len: usize = headers
            .iter()
            .map(|(n, v)| n.as_str().len() + v.len() + 8)
            .sum();
        // Room for everything unless escapes lengthen it; the verdict's JSON repeats the title.
        let mut text = String::with_capacity(
            256 + uri.path().len()
                + uri.query().map_or(0, str::len)
                + forward_url.map_or(0, str::len)
                + 2 * verdict.title.len()
                + verdict.detail.len()
                + headers_len,
        );
        let t = &mut text;
        let method = span(t, |t| t.push_str(method.as_str()));
        let path = span(t, |t| t.push_str(uri.path()));
        let query = uri.query().map(|q| span(t, |t| t.push_str(q)));
        let title = span(t, |t| t.push_str(&verdict.title));
        let forward_url = forward_url.map(|u| span(t, |t| t.push_str(u)));
        let verdict = span(t, |t| write_verdict_json(t, verdict));
        let headers = span(t, |t| {
            json_pairs(
                t,
                headers.iter().map(|(n, v)| {
                    let text = header_text(v);
                    (
                        n.as_str(),
                        if mask { masked(n.as_str(), text) } else { text },
                    )
                }),
            )
        });
        Self {
            text,
            method,
            path,
            query,
            title,
            forward_url,
            verdict,
            headers,
        }
    }

    fn get(&self, range: &Range<usize>) -> &str {
        &self.text[range.clone()]
    }

    pub(crate) fn forward_url(&self) -> Option<&str> {
        self.forward_url.as_ref().map(|r| self.get(r))
    }
}

/// A credential header's value as the log keeps it: the scheme of an `Authorization` (the kind
/// of credential is what a tester checks), each cookie's name, and the length of what is hidden.
/// Other headers are kept as sent.
pub(crate) fn masked<'a>(name: &str, value: Cow<'a, str>) -> Cow<'a, str> {
    const HIDDEN: &str = "•••";
    match name {
        "authorization" | "proxy-authorization" => Cow::Owned(match value.split_once(' ') {
            Some((scheme, rest)) => format!("{scheme} {HIDDEN} (masked, {} bytes)", rest.len()),
            None => format!("{HIDDEN} (masked, {} bytes)", value.len()),
        }),
        "cookie" | "set-cookie" => {
            // Set-Cookie's attributes (Path, HttpOnly…) say nothing secret; its first pair does.
            let pairs = if name == "cookie" {
                value.split(';').count()
            } else {
                1
            };
            let mut out = String::new();
            for (i, part) in value.split(';').enumerate() {
                if i > 0 {
                    out.push(';');
                }
                match part.split_once('=') {
                    Some((k, _)) if i < pairs => out.push_str(&format!("{k}={HIDDEN}")),
                    _ => out.push_str(part),
                }
            }
            Cow::Owned(format!("{out} (masked)"))
        }
        _ => value,
    }
}

/// Where what `write` appends lands in `text`.
fn span(text: &mut String, write: impl FnOnce(&mut String)) -> Range<usize> {
    let start = text.len();
    write(text);
    start..text.len()
}

/// What the forward target answered, or why it could not.
pub(crate) struct ForwardResult {
    pub seq: u64,
    pub status: Option<u16>,
    pub headers: Option<Vec<(String, String)>>,
    pub body: Option<Vec<u8>>,
    pub truncated: bool,
    pub duration_us: i64,
    pub error_class: Option<&'static str>,
    pub error_message: Option<String>,
}

// Not boxed: records are nearly all the traffic, and a box would be one more allocation freed
// on the writer's thread (see RowText).
#[allow(clippy::large_enum_variant)]
pub(crate) enum WriteMsg {
    Record(Record),
    Forwarded(Box<ForwardResult>),
    /// Write what is queued before this, then end.
    Stop,
}

pub(crate) struct WriterHandle {
    tx: mpsc::Sender<WriteMsg>,
    thread: std::thread::JoinHandle<()>,
}

impl WriterHandle {
    pub(crate) fn start(store: Arc<Store>, hub: Arc<Hub>) -> Result<Self> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("receiver-log".into())
            .spawn(move || writer_loop(&store, &hub, rx))
            .map_err(|_| Error::Internal("The receiver's log writer could not start.".into()))?;
        Ok(Self { tx, thread })
    }

    pub(crate) fn sender(&self) -> mpsc::Sender<WriteMsg> {
        self.tx.clone()
    }

    /// Blocks until everything queued before this call is written.
    pub(crate) fn stop(self) {
        let _ = self.tx.blocking_send(WriteMsg::Stop);
        let _ = self.thread.join();
    }
}

fn writer_loop(store: &Store, hub: &Hub, mut rx: mpsc::Receiver<WriteMsg>) {
    let mut buf = Vec::with_capacity(BATCH);
    // Forwarded requests whose result has not arrived: their sequence number → rowid.
    let mut pending: HashMap<u64, i64> = HashMap::new();
    let mut stopping = false;
    // What the log holds, counted up as rows are written and exactly at each prune: it is
    // never below the truth (only deletions outside the writer lower that), so the log is
    // pruned whenever it may be over the limit.
    let mut held: Option<Held> = None;
    while !stopping {
        let Some(first) = rx.blocking_recv() else {
            break;
        };
        buf.push(first);
        drain(&mut rx, &mut buf);
        if buf.len() < BATCH && !has_stop(&buf) {
            std::thread::sleep(LINGER);
            drain(&mut rx, &mut buf);
        }
        stopping = has_stop(&buf);
        let retention = hub.retention();
        let written = store.write(|tx| {
            let ids = write_batch(tx, &buf, &mut pending)?;
            let mut h = match held {
                Some(h) => h,
                None => prune(tx, retention)?,
            };
            h.requests += buf
                .iter()
                .filter(|m| matches!(m, WriteMsg::Record(_)))
                .count() as i64;
            h.bytes += buf.iter().map(written_bytes).sum::<i64>();
            if h.requests > i64::from(retention.max_requests) || h.bytes > retention.max_bytes() {
                h = prune(tx, retention)?;
            }
            held = Some(h);
            Ok(ids)
        });
        match written {
            Ok(ids) if !ids.is_empty() => hub.notify(ids),
            Ok(_) => {}
            Err(err) => {
                tracing::error!(error = %err, n = buf.len(), "cannot write a batch of received requests")
            }
        }
        buf.clear();
    }
    if !pending.is_empty() {
        let ids: Vec<i64> = pending.into_values().collect();
        if let Err(err) = store.write(|tx| mark_unanswered(tx, &ids)) {
            tracing::warn!(error = %err, "cannot mark forwards cut by the stop");
        }
        hub.notify(ids);
    }
}

/// The bytes a message adds to the log, as the retention counts them.
fn written_bytes(msg: &WriteMsg) -> i64 {
    match msg {
        WriteMsg::Record(r) => {
            (r.body.len() + r.answer.status.map_or(0, |_| r.answer.body.len())) as i64
        }
        WriteMsg::Forwarded(f) => f.body.as_ref().map_or(0, Vec::len) as i64,
        WriteMsg::Stop => 0,
    }
}

/// Takes what is queued, up to a batch.
fn drain(rx: &mut mpsc::Receiver<WriteMsg>, buf: &mut Vec<WriteMsg>) {
    while buf.len() < BATCH {
        match rx.try_recv() {
            Ok(m) => buf.push(m),
            Err(_) => break,
        }
    }
}

fn has_stop(buf: &[WriteMsg]) -> bool {
    buf.iter().any(|m| matches!(m, WriteMsg::Stop))
}

/// Forwards still waiting when the receiver stopped: say so rather than look pending forever.
fn mark_unanswered(tx: &rusqlite::Transaction<'_>, ids: &[i64]) -> Result<()> {
    let mut stmt = tx.prepare_cached(
        "UPDATE receiver_request SET forward_error_class = 'cancelled',
             forward_error_message = 'The receiver stopped before the forward target answered.'
         WHERE id = ?1 AND forward_status IS NULL AND forward_error_class IS NULL",
    )?;
    for id in ids {
        stmt.execute([id])?;
    }
    Ok(())
}

fn write_batch(
    tx: &rusqlite::Transaction<'_>,
    batch: &[WriteMsg],
    pending: &mut HashMap<u64, i64>,
) -> Result<Vec<i64>> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO receiver_request (received_at, method, path, query, body_size, valid,
             verdict_code, verdict_title, response_status, response_closed, response_delay_ms,
             forward_url, signature, verdict, headers, response_headers, body_truncated,
             response_body, body, signed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,
             ?20)",
    )?;
    let mut forwarded = tx.prepare_cached(
        "UPDATE receiver_request SET forward_status = ?2, forward_headers = ?3, forward_body = ?4,
             forward_truncated = ?5, forward_duration_us = ?6, forward_error_class = ?7,
             forward_error_message = ?8
         WHERE id = ?1",
    )?;
    let mut ids = Vec::with_capacity(batch.len());
    for msg in batch {
        match msg {
            WriteMsg::Record(r) => {
                let (a, t) = (&r.answer, &r.text);
                insert.execute(params![
                    r.received_at,
                    t.get(&t.method),
                    t.get(&t.path),
                    t.query.as_ref().map(|q| t.get(q)),
                    r.body.len() as i64,
                    r.valid,
                    r.code.as_str(),
                    t.get(&t.title),
                    a.status,
                    a.status.is_none(),
                    a.delay_ms,
                    t.forward_url(),
                    r.signature.as_ref().map(|(s, _)| &s[..]),
                    t.get(&t.verdict),
                    t.get(&t.headers),
                    a.status.map(|_| a.headers_json.as_str()),
                    r.body_truncated,
                    a.status.map(|_| &a.body[..]),
                    &r.body[..],
                    r.signature.map(|(_, signed_at)| signed_at),
                ])?;
                let id = tx.last_insert_rowid();
                if let Some(seq) = r.forward_seq {
                    pending.insert(seq, id);
                }
                ids.push(id);
            }
            WriteMsg::Forwarded(f) => {
                // A request cleared from the log before its forward answered: nothing to fill.
                let Some(id) = pending.remove(&f.seq) else {
                    continue;
                };
                forwarded.execute(params![
                    id,
                    f.status,
                    f.headers.as_deref().map(pairs_json),
                    f.body,
                    f.truncated,
                    f.duration_us,
                    f.error_class,
                    f.error_message,
                ])?;
                // Recorded in this same batch: announced once.
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            WriteMsg::Stop => {}
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receiver::json::VerdictColumn;

    fn verdict_json(v: &Verdict) -> String {
        let mut out = String::new();
        write_verdict_json(&mut out, v);
        // And it reads back as the verdict it was.
        let read: VerdictColumn = serde_json::from_str(&out).unwrap();
        assert_eq!(&read.into_verdict(v.valid, v.code, v.title.clone()), v);
        out
    }

    fn column(v: &Verdict) -> VerdictColumn {
        VerdictColumn {
            detail: v.detail.clone(),
            matched: v.matched.clone(),
            timestamp: v.timestamp,
            skew_secs: v.skew_secs,
            signatures_in_header: v.signatures_in_header,
        }
    }

    /// The headers column of a request's row.
    fn header_map_json(map: &HeaderMap) -> String {
        let verdict = Verdict {
            valid: false,
            code: VerdictCode::HeaderMissing,
            title: String::new(),
            detail: String::new(),
            matched: None,
            timestamp: None,
            skew_secs: None,
            signatures_in_header: 0,
        };
        let uri = Uri::from_static("/hooks?x=1");
        let row = RowText::new(false, &Method::POST, &uri, map, &verdict, None);
        assert_eq!(
            (
                row.get(&row.method),
                row.get(&row.path),
                row.query.as_ref().map(|q| row.get(q))
            ),
            ("POST", "/hooks", Some("x=1"))
        );
        row.get(&row.headers).to_owned()
    }

    #[test]
    fn json_is_what_serde_json_writes() {
        let pairs = vec![
            ("host".to_string(), "127.0.0.1:8080".to_string()),
            (
                "x-odd".to_string(),
                "quote \" back \\ tab\t nl\n \u{1} é ✓ </".to_string(),
            ),
            (String::new(), String::new()),
        ];
        assert_eq!(pairs_json(&pairs), serde_json::to_string(&pairs).unwrap());
        // Escapes found in any position of a long value, the chunked scan's edges included.
        for at in [0, 31, 32, 33, 63, 64, 70] {
            for bad in ['"', '\\', '\n', '\u{1f}'] {
                let mut value: Vec<char> = "x".repeat(71).chars().collect();
                value[at] = bad;
                let pairs = vec![("n".to_string(), value.into_iter().collect::<String>())];
                assert_eq!(pairs_json(&pairs), serde_json::to_string(&pairs).unwrap());
            }
        }
        assert_eq!(pairs_json(&[]), serde_json::to_string(&pairs[..0]).unwrap());
        // A request's header map: recorded as the owned pairs used to be (a repeated name's
        // values together, in order; a value that is not UTF-8 read lossily).
        let mut map = HeaderMap::new();
        for (name, value) in [
            ("host", &b"127.0.0.1:8080"[..]),
            ("x-dup", b"first \"q\""),
            ("content-type", b"application/json"),
            ("x-dup", b"second"),
            ("x-latin1", b"caf\xe9"),
        ] {
            map.append(
                hyper::header::HeaderName::from_static(name),
                hyper::header::HeaderValue::from_bytes(value).unwrap(),
            );
        }
        let owned: Vec<(String, String)> = map
            .iter()
            .map(|(n, v)| {
                let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
                (n.as_str().to_owned(), value)
            })
            .collect();
        assert_eq!(owned[1], ("x-dup".into(), "first \"q\"".into()));
        assert_eq!(owned[2], ("x-dup".into(), "second".into()));
        assert_eq!(owned[4].1, "caf\u{fffd}");
        assert_eq!(
            header_map_json(&map),
            serde_json::to_string(&owned).unwrap()
        );
        assert_eq!(header_map_json(&HeaderMap::new()), "[]");
        let mut v = Verdict {
            valid: true,
            code: VerdictCode::Valid,
            title: "Valid signature".into(),
            detail: "One of the 1 signature(s) matches \"x\"\n\\ é".into(),
            matched: Some("https://a.test/hooks?q=\"1\"".into()),
            timestamp: Some(-1_700_000_000),
            skew_secs: Some(-42),
            signatures_in_header: 3,
        };
        assert_eq!(
            verdict_json(&v),
            serde_json::to_string(&column(&v)).unwrap()
        );
        v.valid = false;
        v.code = VerdictCode::BodyAlteredOrWrongSecret;
        v.matched = None;
        v.timestamp = None;
        v.skew_secs = None;
        v.signatures_in_header = 0;
        assert_eq!(
            verdict_json(&v),
            serde_json::to_string(&column(&v)).unwrap()
        );
        for code in [
            VerdictCode::HeaderMissing,
            VerdictCode::HeaderMalformed,
            VerdictCode::TimestampTooOld,
            VerdictCode::TimestampInFuture,
            VerdictCode::BodyReserialized,
            VerdictCode::RotatedSecret,
            VerdictCode::NoSecret,
            VerdictCode::Replayed,
            VerdictCode::Refused,
        ] {
            v.code = code;
            assert_eq!(
                verdict_json(&v),
                serde_json::to_string(&column(&v)).unwrap()
            );
        }
    }
}
