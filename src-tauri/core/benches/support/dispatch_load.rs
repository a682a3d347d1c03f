//! The dispatch benchmark's load, shared by benches/dispatch.rs (timed, with latencies) and
//! examples/dispatch_count.rs (a fixed count, for instruction and CPU counts): a loopback axum
//! receiver, a workspace with N endpoints, events fired and waited for until logged, and the
//! same bodies sent as plain keep-alive POSTs for comparison. Included by path.

#![allow(dead_code)]

/// The app's allocator (src-tauri/src/main.rs), so that what is measured is what ships.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::Request;
use pitchbar_core::webhooks::dispatcher::DispatcherConfig;
use pitchbar_core::webhooks::endpoints::{EndpointInput, Policy};
use pitchbar_core::webhooks::events::sample_data;
use pitchbar_core::webhooks::{EventType, Payload};
use pitchbar_core::workspace::{MemberInput, Role};
use pitchbar_core::Core;

pub type Received = Arc<Mutex<HashMap<String, Instant>>>;

pub async fn receiver() -> (String, Received) {
    let received: Received = Arc::default();
    let r = received.clone();
    // Takes the request as it is (a `HeaderMap` extractor would copy every header) and notes
    // only the delivery ID: the receiver should cost little beside what it measures.
    let app = axum::Router::new().fallback(move |request: Request| {
        let r = r.clone();
        async move {
            if let Some(id) = request
                .headers()
                .get("x-pitchbar-delivery")
                .and_then(|v| v.to_str().ok())
            {
                r.lock().unwrap().insert(id.to_owned(), Instant::now());
            }
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), received)
}

fn core_with_endpoints(dir: &std::path::Path, base: &str, n: usize) -> Core {
    let core = Core::open(dir).unwrap();
    core.workspaces()
        .set_up(
            "Bench",
            MemberInput {
                name: "Olivia Owner".into(),
                email: "olivia@bench.test".into(),
                role: Role::Owner,
            },
        )
        .unwrap();
    let actor = core.workspaces().actor().unwrap();
    for i in 0..n {
        core.webhook_endpoints()
            .create(
                &actor,
                EndpointInput {
                    url: format!("{base}/e{i}"),
                    events: vec!["lead.captured".into()],
                    active: true,
                    policy: Policy::AtLeastOnce,
                    ..EndpointInput::default()
                },
            )
            .unwrap();
    }
    core
}

fn logged(core: &Core) -> i64 {
    core.store()
        .conn()
        // Rows are only appended in a fresh database: max(id) counts them without a scan.
        .query_row(
            "SELECT coalesce(max(id), 0) FROM webhook_attempt",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

pub struct Run {
    pub per_sec: f64,
    pub p50: Duration,
    pub p99: Duration,
}

/// Plain POSTs in flight at once: the limit deliveries are compared with.
pub const PLAIN_IN_FLIGHT: usize = 16;

/// Sends `total` plain keep-alive POSTs of the bench's body to the receiver at `base`, to the
/// `endpoints` endpoint URLs in turn, `PLAIN_IN_FLIGHT` at a time; returns POSTs/s.
pub async fn plain_posts(base: &str, endpoints: usize, total: usize) -> f64 {
    let client = pitchbar_core::net::ClientSpec::new("bench")
        .build(&[])
        .unwrap();
    let body = bytes::Bytes::from(Payload::now(sample_data(EventType::LeadCaptured)).to_body());
    let urls: Arc<Vec<reqwest::Url>> = Arc::new(
        (0..endpoints)
            .map(|i| format!("{base}/e{i}").parse().unwrap())
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..PLAIN_IN_FLIGHT {
        let (client, body, urls, next) = (client.clone(), body.clone(), urls.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    break;
                }
                let resp = client
                    .post(urls[n % urls.len()].clone())
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                assert!(resp.status().is_success());
                resp.bytes().await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    total as f64 / started.elapsed().as_secs_f64()
}

/// Fires `events` events (each to every endpoint) as fast as they are accepted, optionally
/// paced, and waits until every attempt is logged.
pub async fn run(
    (base, received): &(String, Received),
    endpoints: usize,
    events: usize,
    pace: Option<Duration>,
) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let core = Arc::new(core_with_endpoints(dir.path(), base, endpoints));
    core.start_dispatcher(DispatcherConfig::default()).unwrap();
    let body = Payload::now(sample_data(EventType::LeadCaptured));
    let batch: usize = env_or("BENCH_BATCH", 64).max(1);
    let firers: usize = env_or("BENCH_FIRERS", 1).max(1);
    let started = Instant::now();
    let mut handles = Vec::new();
    for f in 0..firers {
        let core = core.clone();
        let body = body.clone();
        // This firer's share of the events.
        let mine = events / firers + usize::from(f < events % firers);
        handles.push(tokio::task::spawn_blocking(move || {
            let mut accepted = HashMap::with_capacity(mine * endpoints);
            let outbox = core.outbox();
            if pace.is_some() {
                for _ in 0..mine {
                    let t0 = Instant::now();
                    for id in outbox.fire(&body).unwrap().delivery_ids {
                        accepted.insert(id, t0);
                    }
                    if let Some(p) = pace {
                        std::thread::sleep(p);
                    }
                }
            } else {
                let payloads = vec![body; batch];
                let mut left = mine;
                while left > 0 {
                    let n = left.min(batch);
                    left -= n;
                    let t0 = Instant::now();
                    for fired in outbox.fire_many(&payloads[..n]).unwrap() {
                        for id in fired.delivery_ids {
                            accepted.insert(id, t0);
                        }
                    }
                }
            }
            accepted
        }));
    }
    let mut accepted = HashMap::with_capacity(events * endpoints);
    for h in handles {
        accepted.extend(h.await.unwrap());
    }
    let total = (events * endpoints) as i64;
    let deadline = Instant::now() + Duration::from_secs(300);
    while logged(&core) < total {
        assert!(Instant::now() < deadline, "deliveries did not finish");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    let mut lat: Vec<Duration> = {
        let received = received.lock().unwrap();
        accepted
            .iter()
            .filter_map(|(id, t0)| received.get(id).map(|t| t.saturating_duration_since(*t0)))
            .collect()
    };
    lat.sort_unstable();
    assert_eq!(lat.len() as i64, total, "every delivery was received");
    core.stop_dispatcher().await;
    Run {
        per_sec: total as f64 / elapsed.as_secs_f64(),
        p50: pct(&lat, 0.50),
        p99: pct(&lat, 0.99),
    }
}

pub fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
