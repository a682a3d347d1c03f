//! Destinations benchmark (not part of the test command):
//!
//!     scripts/with-keychain.sh cargo bench -p pitchbar-core --bench destinations
//!
//! `BENCH_LEADS` (default 10,000) leads queued for HubSpot while the worker is stopped, then
//! drained into the HubSpot fake (tests/fixtures/provider-fakes) signed in through the real
//! OAuth server, with the fake enforcing a rolling request limit. Reported per limit: the time
//! to drain, the limit-bound minimum (the calls needed, 100 leads per batch upsert, at `max`
//! per `interval`: the first window's calls go at once, each further window waits a whole
//! interval), their ratio (target ≥ 0.9), and the process's resident memory growth while
//! draining. Two limits: HubSpot's documented 110 per 10 s for an OAuth app (10,000 leads need
//! 100 calls, so the limit does not bind and the minimum is one window), and a scaled
//! 10 per 1 s where it binds.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use pitchbar_core::destinations::DestinationOptions;
use pitchbar_core::webhooks::EventType;
use serde_json::json;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Resident memory of this process, in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let leads = env("BENCH_LEADS", 10_000);
    for (max, interval_ms) in [(110u64, 10_000u64), (10, 1_000)] {
        let w = support::destinations::world();
        w.connect("hubspot").await;
        w.configure(
            "hubspot",
            &[EventType::LeadCaptured],
            &[
                ("email", "email"),
                ("first_name", "firstname"),
                ("last_name", "lastname"),
                ("fields.budget", "chat_budget"),
            ],
            DestinationOptions::default(),
        )
        .await
        .expect("configured");
        w.fakes
            .control(
                "POST",
                "limits/hubspot",
                json!({ "max": max, "interval_ms": interval_ms }),
            )
            .await;
        w.core.stop_destinations().await;
        let queued_at = Instant::now();
        for i in 0..leads {
            w.lead(
                &format!("Lead {i}"),
                &format!("lead{i}@bench.example"),
                json!({ "budget": i }),
            );
        }
        let queue_time = queued_at.elapsed();

        let before = rss_kib();
        let mut peak = before;
        let started = Instant::now();
        w.core
            .start_destinations(support::destinations::fast_config());
        loop {
            let d = w.core.destinations().get("hubspot").expect("destination");
            peak = peak.max(rss_kib());
            if d.pending == 0 {
                assert_eq!(d.failed, 0, "failed items: {:?}", d.last_error);
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let drain = started.elapsed();
        let contacts = w.state("hubspot").await["contacts"]
            .as_array()
            .map_or(0, Vec::len);
        assert_eq!(contacts, leads, "every lead reached the fake once");
        let calls = w
            .calls_to("hubspot")
            .await
            .iter()
            .filter(|c| c["path"] == "/crm/v3/objects/contacts/batch/upsert")
            .count() as u64;
        let refused = w
            .calls_to("hubspot")
            .await
            .iter()
            .filter(|c| c["status"] == 429)
            .count();
        let windows = calls.div_ceil(max);
        let minimum = Duration::from_millis(windows.saturating_sub(1) * interval_ms);
        let ratio = if minimum.is_zero() {
            "the limit does not bind (all calls fit in one window)".to_owned()
        } else {
            format!("ratio {:.2}", minimum.as_secs_f64() / drain.as_secs_f64())
        };
        println!(
            "limit {max}/{interval_ms} ms: {leads} leads queued in {:.2} s; drained in {:.2} s with {calls} batch calls ({refused} answered 429); limit-bound minimum {:.2} s; {ratio}; memory +{} KiB while draining (RSS {} → {} KiB)",
            queue_time.as_secs_f64(),
            drain.as_secs_f64(),
            minimum.as_secs_f64(),
            peak.saturating_sub(before),
            before,
            peak
        );
        w.core.stop_destinations().await;
    }
}
