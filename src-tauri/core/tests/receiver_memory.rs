//! Two gigabytes posted to the receiver in 4 MiB bodies, sixty-four at a time: its memory stays
//! bounded (bodies share a 64 MiB budget) and its log keeps within the retention the user set.
//! Alone in its test binary, so the process's memory is this test's.

mod support;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pitchbar_core::receiver::{ReceiverQuery, Retention, VerifyWith};
use pitchbar_core::Core;

use support::receiver::config;
use support::workspace::set_up_owner;

/// This process's resident memory, in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kb * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gigabytes_of_bodies_stay_within_memory_and_retention() {
    const BODY: usize = 4 * 1024 * 1024;
    const REQUESTS: usize = 512;
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path()).unwrap();
    let owner = set_up_owner(&core);
    let retention = Retention {
        max_requests: 1_000,
        max_megabytes: 64,
    };
    // Bad limits are refused, saying the range.
    let err = core
        .receiver()
        .set_retention(
            &owner,
            Retention {
                max_megabytes: 1,
                ..retention
            },
        )
        .unwrap_err();
    assert!(err.to_string().contains("from 10 to 100,000 MB"), "{err}");
    core.receiver().set_retention(&owner, retention).unwrap();
    assert_eq!(core.receiver().retention().unwrap(), retention);
    let addr = core.receiver().start(config(VerifyWith::Nothing)).unwrap();
    let url = format!("http://{addr}/webhooks");

    // One body, shared by every request the client sends (the client adds no memory per send).
    let body = bytes::Bytes::from(vec![b'{'; BODY]);
    let client = support::receiver::http();
    // Warm up, then measure the resident memory's peak while the rest is sent.
    client.post(&url).body(body.clone()).send().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = rss();
    let (peak, done) = (
        Arc::new(AtomicU64::new(before)),
        Arc::new(AtomicBool::new(false)),
    );
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(rss(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let started = Instant::now();
    let mut senders = tokio::task::JoinSet::new();
    for sender in 0..64 {
        let (client, url, body) = (client.clone(), url.clone(), body.clone());
        senders.spawn(async move {
            for _ in (sender..REQUESTS).step_by(64) {
                let res = client.post(&url).body(body.clone()).send().await.unwrap();
                assert_eq!(res.status(), 200);
            }
        });
    }
    while let Some(sent) = senders.join_next().await {
        sent.unwrap();
    }
    core.receiver().stop().await;
    done.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    let took = started.elapsed();
    let grew = peak.load(Ordering::Relaxed).saturating_sub(before);
    println!(
        "{} MiB in {took:?}; resident memory grew by {} MiB at most",
        REQUESTS * BODY / (1024 * 1024),
        grew / (1024 * 1024)
    );
    // The bodies' budget (64 MiB) plus hyper's and SQLite's buffers and the allocator's slack:
    // far below what 64 bodies in flight (twice over), a queue of records and 2 GiB would take unbounded.
    assert!(grew < 256 * 1024 * 1024, "grew by {grew} bytes");

    // The log kept within its limit: the newest requests, at most 64 MiB of bodies.
    let page = core
        .receiver_log()
        .list(&ReceiverQuery {
            limit: Some(500),
            ..ReceiverQuery::default()
        })
        .unwrap();
    let kept: u64 = page.requests.iter().map(|r| r.body_size).sum();
    assert!(!page.requests.is_empty());
    assert!(kept <= 64 * 1024 * 1024, "kept {kept} bytes");
    assert!(page.requests.iter().all(|r| r.body_size == BODY as u64));
    // The newest were kept: the last request sent is in the log.
    let newest = page.requests.iter().map(|r| r.id).max().unwrap();
    assert!(newest >= REQUESTS as i64, "newest id {newest}");
}
