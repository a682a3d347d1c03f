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

use std::time::{Duration, Instant};

#[path = "support/receiver_load.rs"]
mod receiver_load;

use receiver_load::{bare_server, env_or, load, newest_id, runtime, start_receiver, Until};

/// (answered/s, recorded/s until the last record was committed)
async fn receiver_run(conns: usize, secs: u64) -> (f64, f64) {
    let (_dir, core, addr) = start_receiver();
    let t0 = Instant::now();
    let deadline = Until::Deadline(t0 + Duration::from_secs(secs));
    let (rate, n) = load(addr, conns, deadline).await;
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
    core.receiver().stop().await;
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
    runtime().block_on(async {
        let bare = bare_server().await;
        let (mut bares, mut answered, mut recorded) = (Vec::new(), Vec::new(), Vec::new());
        let (mut answered_ratio, mut recorded_ratio) = (Vec::new(), Vec::new());
        for run in 1..=runs {
            let deadline = Until::Deadline(Instant::now() + Duration::from_secs(secs));
            let (b, _) = load(bare, conns, deadline).await;
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
