//! Receiver benchmark (not part of the test command):
//!
//!     cargo bench -p pitchbar-core --bench receiver
//!
//! One in-process load generator — `BENCH_CONNS` (default 16) keep-alive HTTP/1 connections,
//! each sending signed 1 KB POSTs back to back for `BENCH_SECS` (default 3) seconds — against
//! (1) a bare hyper server that reads the body and answers 200, and (2) the receiver, which
//! verifies every request against 3 candidate secrets (the matching one last, so each request
//! costs three HMACs) and records it to SQLite. Every body is distinct, so no request is a replay.
//! Prints requests/s for each, the ratio, and the receiver's recorded/s (until the last record
//! is committed); medians of `BENCH_RUNS` (default 3) runs, the two servers alternating. The
//! ratios are medians of each run's own ratio (bare and receiver measured back to back), which a
//! shared machine's changing load skews far less than a ratio of two medians.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use pitchbar_core::receiver::{CandidatesFn, ReceiverConfig, ReceiverQuery, VerifyWith};
use pitchbar_core::secret::Secret;
use pitchbar_core::webhooks::sign;
use pitchbar_core::webhooks::verify::{Candidate, CandidateState};
use pitchbar_core::Core;

const SECRET: &str = "whsec_bench_current_secret_0123456789ab";

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn bare_server() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let service = service_fn(|req: Request<hyper::body::Incoming>| async move {
                    let _ = req.into_body().collect().await?;
                    Ok::<_, hyper::Error>(Response::new(Full::new(Bytes::new())))
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// A 1 KB JSON body, made distinct by `n`.
fn body(n: u64) -> Bytes {
    let mut s = format!(
        r#"{{"event":"lead.captured","occurred_at":"2027-01-15T08:00:00Z","data":{{"lead_id":"{n:020}","notes":""#
    );
    while s.len() < 1024 - 4 {
        s.push('x');
    }
    s.push_str(r#""}}"#);
    Bytes::from(s)
}

/// Requests answered per second by `addr` under the load.
async fn load(addr: SocketAddr, conns: usize, secs: u64) -> (f64, u64) {
    let done = Arc::new(AtomicU64::new(0));
    let counter = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let secret = Secret::new(SECRET);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let done = done.clone();
        let counter = counter.clone();
        let secret = secret.clone();
        tasks.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            stream.set_nodelay(true).unwrap();
            let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .unwrap();
            tokio::spawn(conn);
            while Instant::now() < deadline {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let body = body(n);
                let t = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs() as i64;
                let req = Request::post("/webhooks")
                    .header("host", "127.0.0.1")
                    .header("content-type", "application/json")
                    .header("x-pitchbar-signature", sign(&[&secret], t, &body))
                    .body(Full::new(body))
                    .unwrap();
                let resp = sender.send_request(req).await.unwrap();
                assert!(resp.status().is_success());
                let _ = resp.into_body().collect().await.unwrap();
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let n = done.load(Ordering::Relaxed);
    (n as f64 / started.elapsed().as_secs_f64(), n)
}

fn candidates() -> CandidatesFn {
    let list = Arc::new(vec![
        candidate(
            "https://a.test/hooks",
            "whsec_bench_other_secret_aaaaaaaaaaaa",
        ),
        candidate(
            "https://b.test/hooks",
            "whsec_bench_other_secret_bbbbbbbbbbbb",
        ),
        candidate("https://c.test/hooks", SECRET),
    ]);
    Arc::new(move || Ok(list.clone()))
}

fn candidate(label: &str, secret: &str) -> Candidate {
    Candidate {
        label: label.into(),
        secret: Secret::new(secret),
        state: CandidateState::Current,
    }
}

fn newest_id(core: &Core) -> i64 {
    core.receiver_log()
        .list(&ReceiverQuery {
            limit: Some(1),
            cursor: None,
        })
        .unwrap()
        .requests
        .first()
        .map_or(0, |r| r.id)
}

/// (answered/s, recorded/s until the last record was committed)
async fn receiver_run(conns: usize, secs: u64) -> (f64, f64) {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path()).unwrap();
    let addr = core
        .start_receiver(ReceiverConfig {
            port: 0,
            verify_with: VerifyWith::Candidates(candidates()),
            ..ReceiverConfig::default()
        })
        .unwrap();
    let t0 = Instant::now();
    let (rate, n) = load(addr, conns, secs).await;
    // Rows are only appended to a fresh log: the newest id counts them.
    while newest_id(&core) < n as i64 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let recorded = n as f64 / t0.elapsed().as_secs_f64();
    let valid: i64 = core
        .store()
        .conn()
        .query_row(
            "SELECT count(*) FROM receiver_request WHERE valid = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(valid, n as i64, "every request verified valid");
    core.stop_receiver().await;
    (rate, recorded)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let runs = env_or("BENCH_RUNS", 3).max(1);
    let conns = env_or("BENCH_CONNS", 16).max(1);
    let secs = env_or("BENCH_SECS", 3).max(1) as u64;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let _ = rustls::crypto::ring::default_provider().install_default();
    rt.block_on(async {
        let bare = bare_server().await;
        let (mut bares, mut answered, mut recorded) = (Vec::new(), Vec::new(), Vec::new());
        let (mut answered_ratio, mut recorded_ratio) = (Vec::new(), Vec::new());
        for run in 1..=runs {
            let (b, _) = load(bare, conns, secs).await;
            let (a, r) = receiver_run(conns, secs).await;
            println!(
                "run {run}: bare hyper {b:.0} req/s; receiver {a:.0} req/s answered ({:.0} %), {r:.0}/s recorded ({:.0} %)",
                100.0 * a / b,
                100.0 * r / b
            );
            bares.push(b);
            answered.push(a);
            recorded.push(r);
            answered_ratio.push(a / b);
            recorded_ratio.push(r / b);
        }
        let (b, a, r) = (median(bares), median(answered), median(recorded));
        let (ra, rr) = (median(answered_ratio), median(recorded_ratio));
        println!(
            "median of {runs} ({conns} connections, {secs} s each, signed 1 KB POSTs, 3 candidate secrets):"
        );
        println!("  bare hyper server     {b:>9.0} req/s");
        println!("  receiver (answered)   {a:>9.0} req/s   {:.0} % of bare (median of the runs' ratios)", 100.0 * ra);
        println!("  receiver (recorded)   {r:>9.0} req/s   {:.0} % of bare (median of the runs' ratios)", 100.0 * rr);
        println!("  budget: receiver ≥ 50 % of bare");
    });
}
