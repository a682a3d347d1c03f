//! A fixed amount of the receiver benchmark's load, for deterministic measures that wall-clock
//! figures on a shared machine cannot give (instructions and syscalls per request):
//!
//!     cargo build --release -p pitchbar-core --example receiver_count
//!     valgrind --tool=callgrind target/release/examples/receiver_count receiver 20000
//!     strace -c -f target/release/examples/receiver_count bare 20000
//!
//! `receiver N` sends N signed 1 KB POSTs over `BENCH_CONNS` (default 16) keep-alive
//! connections — the same requests as benches/receiver.rs, verified against the same 3
//! candidates — waits until all N are recorded, and stops the receiver. `bare N` sends them to
//! the benchmark's bare hyper server instead. Subtract a run of N from one of 2N to cancel
//! start-up costs. Prints the process's syscall counts and CPU time from /proc (Linux).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

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

/// The benchmark's 1 KB JSON body, made distinct by `n`.
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

/// Sends exactly `total` requests to `addr` over `conns` connections.
async fn load(addr: SocketAddr, conns: usize, total: u64) {
    let counter = Arc::new(AtomicU64::new(0));
    let secret = Secret::new(SECRET);
    let mut tasks = Vec::new();
    for _ in 0..conns {
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
                let n = counter.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    break;
                }
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
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
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

async fn receiver(conns: usize, total: u64) {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path()).unwrap();
    let addr = core
        .start_receiver(ReceiverConfig {
            port: 0,
            verify_with: VerifyWith::Candidates(candidates()),
            ..ReceiverConfig::default()
        })
        .unwrap();
    load(addr, conns, total).await;
    let newest = || {
        core.receiver_log()
            .list(&ReceiverQuery {
                limit: Some(1),
                cursor: None,
            })
            .unwrap()
            .requests
            .first()
            .map_or(0, |r| r.id)
    };
    while newest() < total as i64 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    core.stop_receiver().await;
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "receiver".into());
    let total: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(20_000);
    let conns: usize = std::env::var("BENCH_CONNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let _ = rustls::crypto::ring::default_provider().install_default();
    rt.block_on(async {
        match mode.as_str() {
            "bare" => load(bare_server().await, conns, total).await,
            _ => receiver(conns, total).await,
        }
    });
    // Linux only: the process's read/write syscall counts and bytes, and its CPU time (user,
    // system; clock ticks), for comparing runs without a tracer's slowdown.
    if let Ok(io) = std::fs::read_to_string("/proc/self/io") {
        eprintln!("{}", io.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    if let Ok(stat) = std::fs::read_to_string("/proc/self/stat") {
        let fields: Vec<&str> = stat.rsplit(") ").next().unwrap_or("").split(' ').collect();
        if let (Some(u), Some(s)) = (fields.get(11), fields.get(12)) {
            eprintln!("utime {u} stime {s}");
        }
    }
}
