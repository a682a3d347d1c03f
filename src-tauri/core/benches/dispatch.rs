//! Webhook dispatcher and delivery-log benchmark (not part of the test command):
//!
//!     scripts/with-keychain.sh cargo bench -p pitchbar-core --bench dispatch
//!
//! Prints deliveries/s accepted → delivered → logged to one loopback receiver with 1, 10 and 100
//! endpoints, p50/p99 accepted → received (at full and at light load), and the time of filtered
//! log pages at 1,000,000 logged attempts. `BENCH_RUNS` (default 5) runs each and prints medians.
//!
//! Each figure has its limit beside it, from the same run: every run also sends the same bodies,
//! as many of them, as plain keep-alive POSTs (16 in flight, one reqwest client from
//! `net::ClientSpec`, no signing, no database) from this process to the same receiver, to the
//! same endpoint URLs in turn. A run measures the two back to back (which goes first alternates
//! from run to run) and takes their ratio; the ratio printed is the median of the runs' ratios,
//! which a shared machine's changing load skews far less than a ratio of two medians.
//!
//! At full load events are accepted as callers with many events do: `fire_many` in batches of
//! `BENCH_BATCH` (default 64) events, each batch one transaction, from `BENCH_FIRERS` (default 1)
//! threads at once (the local API serves concurrent requests). An event's "accepted" time is
//! the start of its `fire_many` call. At light load each event is one `fire`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::Request;
use pitchbar_core::webhooks::dispatcher::DispatcherConfig;
use pitchbar_core::webhooks::endpoints::{EndpointInput, Policy};
use pitchbar_core::webhooks::events::sample_data;
use pitchbar_core::webhooks::log::{LogQuery, StatusClass};
use pitchbar_core::webhooks::{EventType, Payload};
use pitchbar_core::workspace::{MemberInput, Role};
use pitchbar_core::Core;

type Received = Arc<Mutex<HashMap<String, Instant>>>;

async fn receiver() -> (String, Received) {
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

struct Run {
    per_sec: f64,
    p50: Duration,
    p99: Duration,
}

/// Plain POSTs in flight at once: the limit deliveries are compared with.
const PLAIN_IN_FLIGHT: usize = 16;

/// Sends `total` plain keep-alive POSTs of the bench's body to the receiver at `base`, to the
/// `endpoints` endpoint URLs in turn, `PLAIN_IN_FLIGHT` at a time; returns POSTs/s.
async fn plain_posts(base: &str, endpoints: usize, total: usize) -> f64 {
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
async fn run(
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

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median_f(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn median_d(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

/// Writes `n` attempts straight into the log table: 10 endpoints, 6 event types, 1 in 10 failed.
fn bulk_log(core: &Core, n: usize) -> Vec<String> {
    let endpoints: Vec<String> = (0..10).map(|i| format!("01BENCHENDPOINT{i:011}")).collect();
    let body = Payload::now(sample_data(EventType::LeadCaptured)).to_body();
    let headers = r#"[["Content-Type","application/json"],["User-Agent","Pitchbar-Webhooks/0.1.0"],["X-Pitchbar-Signature","t=1778000000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd"],["X-Pitchbar-Event","lead.captured"],["X-Pitchbar-Delivery","01HXY7Z3Q4W5E6R7T8Y9U0I1O2"]]"#;
    let start_ms: i64 = 1_770_000_000_000;
    core.store()
        .write(|tx| {
            let mut stmt = tx.prepare(
                "INSERT INTO webhook_attempt (delivery_id, endpoint_id, event_type, trigger, attempt_no,
                     attempted_at, url, request_headers, request_body, response_status, response_headers,
                     response_body, response_truncated, duration_us, ok, error_class)
                 VALUES (?1, ?2, ?3, 'event', 1, ?4, 'http://127.0.0.1:9/hook', ?5, ?6, ?7,
                     '[[\"content-type\",\"text/plain\"]]', X'6F6B', 0, ?8, ?9, ?10)",
            )?;
            for i in 0..n {
                let failed = i % 10 == 7;
                stmt.execute(rusqlite::params![
                    format!("01BENCHDELIVERY{i:011}"),
                    endpoints[i % 10],
                    EventType::ALL[i % 6].as_str(),
                    start_ms + (i as i64) * 3,
                    headers,
                    &body,
                    if failed { 500 } else { 200 },
                    800 + (i % 500) as i64,
                    !failed,
                    if failed { Some("non_2xx") } else { None },
                ])?;
            }
            Ok(())
        })
        .unwrap();
    endpoints
}

fn time_query(core: &Core, q: &LogQuery) -> Duration {
    let mut times = Vec::new();
    for _ in 0..21 {
        let t = Instant::now();
        let page = core.delivery_log().list(q).unwrap();
        times.push(t.elapsed());
        assert!(!page.attempts.is_empty());
    }
    median_d(times)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let runs = env_or("BENCH_RUNS", 5).max(1);
    println!(
        "webhook dispatcher, {runs} runs each, medians; 2-core machine, loopback receiver (axum); \
         limit: the same bodies as plain POSTs, {PLAIN_IN_FLIGHT} in flight, same run"
    );
    for (endpoints, events) in [(1, 40_000), (10, 4_000), (100, 400)] {
        let total = endpoints * events;
        let (mut rates, mut plains, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        let mut p50s = Vec::new();
        let mut p99s = Vec::new();
        for i in 0..runs {
            let receiver = receiver().await;
            // Back to back, alternating which goes first, so a change of load in between
            // does not favour either side.
            let (r, plain) = if i % 2 == 0 {
                let plain = plain_posts(&receiver.0, endpoints, total).await;
                (run(&receiver, endpoints, events, None).await, plain)
            } else {
                let r = run(&receiver, endpoints, events, None).await;
                (r, plain_posts(&receiver.0, endpoints, total).await)
            };
            println!(
                "  run {}: {endpoints} endpoint(s): {:.0} deliveries/s, {plain:.0} plain POSTs/s, ratio {:.2}",
                i + 1,
                r.per_sec,
                r.per_sec / plain
            );
            rates.push(r.per_sec);
            plains.push(plain);
            ratios.push(r.per_sec / plain);
            p50s.push(r.p50);
            p99s.push(r.p99);
        }
        println!(
            "{endpoints:>3} endpoint(s): {:>8.0} deliveries/s accepted→delivered→logged, {:>8.0} plain POSTs/s, ratio {:.2} (median of the runs' ratios); accepted→received p50 {:?} p99 {:?} (full load)",
            median_f(rates),
            median_f(plains),
            median_f(ratios),
            median_d(p50s),
            median_d(p99s)
        );
    }
    let mut p50s = Vec::new();
    let mut p99s = Vec::new();
    for _ in 0..runs {
        let r = run(&receiver().await, 1, 2_000, Some(Duration::from_micros(1_000))).await;
        p50s.push(r.p50);
        p99s.push(r.p99);
    }
    println!(
        "light load (1 endpoint, ~1 event/ms): accepted→received p50 {:?} p99 {:?}",
        median_d(p50s),
        median_d(p99s)
    );

    let n = env_or("BENCH_LOG_ROWS", 1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path()).unwrap();
    let t = Instant::now();
    let endpoints = bulk_log(&core, n);
    println!("log: {n} attempts bulk-inserted in {:?}", t.elapsed());
    let mid = core
        .delivery_log()
        .list(&LogQuery {
            limit: Some(500),
            ..LogQuery::default()
        })
        .unwrap();
    let deep_cursor = {
        // A cursor halfway down the log, as after many pages.
        let conn = core.store().conn();
        let (at, id): (i64, i64) = conn
            .query_row(
                "SELECT attempted_at, id FROM webhook_attempt WHERE id = ?1",
                [(n / 2) as i64],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        format!("{at}.{id}")
    };
    drop(mid);
    let cases: Vec<(&str, LogQuery)> = vec![
        ("all, first page", LogQuery::default()),
        (
            "endpoint",
            LogQuery {
                endpoint_id: Some(endpoints[3].clone()),
                ..LogQuery::default()
            },
        ),
        (
            "endpoint + failed",
            LogQuery {
                endpoint_id: Some(endpoints[7].clone()),
                status: Some(StatusClass::Failed),
                ..LogQuery::default()
            },
        ),
        (
            "failed + event type + time range",
            LogQuery {
                status: Some(StatusClass::Failed),
                event_type: Some(EventType::ConversationClosed),
                since: Some("2026-02-02T02:40:00Z".into()),
                until: Some("2026-02-02T03:00:00Z".into()),
                ..LogQuery::default()
            },
        ),
        (
            "endpoint, page deep in the log (cursor)",
            LogQuery {
                endpoint_id: Some(endpoints[5].clone()),
                cursor: Some(deep_cursor),
                ..LogQuery::default()
            },
        ),
    ];
    for (name, q) in cases {
        let mut times = Vec::new();
        for _ in 0..runs {
            times.push(time_query(&core, &q));
        }
        println!(
            "log page of 50 at {n} attempts, {name}: {:?}",
            median_d(times)
        );
    }
}
