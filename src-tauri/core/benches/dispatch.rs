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

use std::time::{Duration, Instant};

use pitchbar_core::webhooks::events::sample_data;
use pitchbar_core::webhooks::log::{LogQuery, StatusClass};
use pitchbar_core::webhooks::{EventType, Payload};
use pitchbar_core::Core;

#[path = "support/dispatch_load.rs"]
mod dispatch_load;

use dispatch_load::{env_or, plain_posts, receiver, run, PLAIN_IN_FLIGHT};

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
        let r = run(
            &receiver().await,
            1,
            2_000,
            Some(Duration::from_micros(1_000)),
        )
        .await;
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
