//! Knowledge ingestion and search benchmark (not part of the test command):
//!
//!     scripts/with-keychain.sh cargo bench -p pitchbar-core --bench knowledge
//!
//! A Notion page of 10,000 paragraph blocks (`BENCH_BLOCKS`), served 100 a page by the fake
//! Notion API (tests/fixtures/knowledge-fake) on loopback, signed in through the real OAuth
//! server: the time from "added" to "ready" (every block fetched, chunked and indexed with
//! FTS5), `BENCH_RUNS` (default 3) times, and the latency of searches over the indexed text.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use pitchbar_core::sources::{PickerItem, SourceKind, SourceStatus};
use serde_json::json;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn pct(v: &[Duration], p: f64) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let blocks = env("BENCH_BLOCKS", 10_000);
    let runs = env("BENCH_RUNS", 3);
    let w = support::knowledge::world();
    let core = w.core();
    let owner = support::oauth::actor(&core);
    w.connect(&core, "notion").await;
    let page = w
        .fake
        .control(
            "POST",
            "notion/generate",
            json!({"blocks": blocks, "title": "Big page", "seed": 1}),
        )
        .await;
    let page_id = page["id"].as_str().unwrap().to_string();

    let source = core
        .sources()
        .add(
            &owner,
            "notion",
            &[PickerItem {
                external_id: page_id,
                kind: SourceKind::Page,
                title: "Big page".into(),
                url: None,
                edited_at: None,
                added: false,
            }],
        )
        .unwrap()
        .remove(0);
    let mut ingest = Vec::new();
    for run in 0..runs {
        let started = Instant::now();
        if run > 0 {
            core.sources().reindex(&owner, &source.id).unwrap();
        }
        let s = support::knowledge::settled(&core, &source.id).await;
        let took = started.elapsed();
        assert_eq!(s.status, SourceStatus::Ready, "{s:?}");
        println!(
            "ingest run {}: {blocks} blocks, {} chunks, {} KB of text in {:.2} s",
            run + 1,
            s.chunk_count,
            s.size_bytes / 1024,
            took.as_secs_f64()
        );
        ingest.push(took);
    }

    // Rare words, common words, two-word queries and prefixes, over the whole index.
    let queries: Vec<String> = (0..200)
        .map(|i| match i % 4 {
            0 => format!("bench-{}", 1 + (i * 37) % blocks),
            1 => "customer".to_string(),
            2 => "refund policy".to_string(),
            _ => "integr".to_string(),
        })
        .collect();
    let sources = core.sources();
    for q in &queries[..10] {
        sources.search(q, 20).unwrap();
    }
    let mut latencies = Vec::new();
    let mut hits = 0;
    for q in &queries {
        let started = Instant::now();
        hits += sources.search(q, 20).unwrap().len();
        latencies.push(started.elapsed());
    }
    assert!(hits > 0, "the searches found something");
    println!(
        "ingest median of {runs}: {:.2} s ({:.0} blocks/s)",
        median(ingest.clone()).as_secs_f64(),
        blocks as f64 / median(ingest).as_secs_f64()
    );
    println!(
        "search over {blocks} blocks, 20 hits with snippets: p50 {:.2} ms, p99 {:.2} ms ({} queries)",
        pct(&latencies, 0.5).as_secs_f64() * 1e3,
        pct(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.len()
    );
}
