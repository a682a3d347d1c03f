//! The receiver benchmark's load, shared by benches/receiver.rs (for a time) and
//! examples/receiver_count.rs (for a count): signed 1 KB POSTs over keep-alive HTTP/1
//! connections, a bare hyper server to compare with, and a receiver verifying against 3
//! candidate secrets (the matching one last). Included by path; each user takes one of `Until`.

#![allow(dead_code)]

/// The app's allocator (src-tauri/src/main.rs), so that what is measured is what ships.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

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

/// `name` from the environment as a number, or `default`.
pub fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The multi-threaded runtime both run on, with rustls' crypto provider installed.
pub fn runtime() -> tokio::runtime::Runtime {
    let _ = rustls::crypto::ring::default_provider().install_default();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// When the load stops.
#[derive(Clone, Copy)]
pub enum Until {
    Deadline(Instant),
    /// After exactly this many requests in all.
    Count(u64),
}

/// A hyper server that reads the body and answers 200.
pub async fn bare_server() -> SocketAddr {
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

/// Sends signed requests to `addr` over `conns` connections until `until`; returns the
/// requests answered per second and their number.
pub async fn load(addr: SocketAddr, conns: usize, until: Until) -> (f64, u64) {
    let done = Arc::new(AtomicU64::new(0));
    let counter = Arc::new(AtomicU64::new(0));
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
            loop {
                let n = match until {
                    Until::Deadline(at) if Instant::now() >= at => break,
                    Until::Deadline(_) => counter.fetch_add(1, Ordering::Relaxed),
                    Until::Count(total) => match counter.fetch_add(1, Ordering::Relaxed) {
                        n if n >= total => break,
                        n => n,
                    },
                };
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

fn candidate(label: &str, secret: &str) -> Candidate {
    Candidate {
        label: label.into(),
        secret: Secret::new(secret),
        state: CandidateState::Current,
    }
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

/// A receiver on a fresh data dir (kept alive by the returned guard), verifying against the
/// 3 candidates, and where it listens.
pub fn start_receiver() -> (tempfile::TempDir, Core, SocketAddr) {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path()).unwrap();
    let addr = core
        .receiver()
        .start(ReceiverConfig {
            port: 0,
            verify_with: VerifyWith::Candidates(candidates()),
            ..ReceiverConfig::default()
        })
        .unwrap();
    (dir, core, addr)
}

/// The newest logged request's id: rows are only appended to a fresh log, so it counts them.
pub fn newest_id(core: &Core) -> i64 {
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
