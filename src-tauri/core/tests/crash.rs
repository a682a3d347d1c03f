//! Crash safety with a real process: a child (this test binary, re-executed) fires a burst of
//! at-least-once deliveries at a real receiver in this process and is killed with SIGKILL in the
//! middle of it; a fresh `Core` on the same data directory then delivers every accepted event,
//! and any duplicate carries the same `X-Pitchbar-Delivery` as its first receipt. The same once
//! more inside one process, with every delivery's first attempt failing.

mod support;

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use pitchbar_core::webhooks::dispatcher::DispatcherConfig;
use pitchbar_core::webhooks::endpoints::{EndpointInput, Policy};
use pitchbar_core::webhooks::events::sample_data;
use pitchbar_core::webhooks::{EventType, Payload};
use pitchbar_core::Core;
use support::dispatch::{answers, endpoint, lead, test_config};
use support::test_receiver::{header, Answer, TestReceiver};
use tokio::io::{AsyncBufReadExt, BufReader};

/// `<data dir>,<receiver url>`: set only in the child process.
const CHILD_ENV: &str = "PITCHBAR_CRASH_CHILD";
/// The child-only test; it does nothing unless `CHILD_ENV` is set.
const CHILD_TEST: &str = "crash_child_process";
/// Events the child fires.
const BURST: usize = 300;

/// Few deliveries at once, so most of a burst is still pending or in flight when the app dies.
fn few_at_once() -> DispatcherConfig {
    DispatcherConfig {
        concurrency: 4,
        per_endpoint_concurrency: 4,
        ..test_config()
    }
}

// ---------------------------------------------------------------------------------------------
// The child: fires the burst and keeps running until it is killed.

#[test]
fn crash_child_process() {
    let Ok(arg) = std::env::var(CHILD_ENV) else {
        return; // Not the child: nothing to do.
    };
    let (dir, url) = arg.split_once(',').expect("<data dir>,<receiver url>");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (core, actor) = support::workspace::owner_core_at(Path::new(dir));
        core.webhook_endpoints()
            .create(
                &actor,
                EndpointInput {
                    url: url.into(),
                    description: "crash test".into(),
                    events: vec!["lead.captured".into()],
                    active: true,
                    policy: Policy::AtLeastOnce,
                    max_attempts: Some(10),
                    timeout_ms: Some(10_000),
                    standard_webhooks: false,
                },
            )
            .unwrap();
        core.start_dispatcher(few_at_once()).unwrap();
        for _ in 0..BURST {
            let fired = core
                .outbox()
                .fire(&Payload::now(sample_data(EventType::LeadCaptured)))
                .unwrap();
            assert_eq!(fired.delivery_ids.len(), 1);
            let mut out = std::io::stdout().lock();
            writeln!(out, "ACCEPTED {} {}", fired.event_id, fired.delivery_ids[0]).unwrap();
            out.flush().unwrap();
        }
        // Keep running (and delivering) until the parent kills us.
        std::future::pending::<()>().await;
    });
}

// ---------------------------------------------------------------------------------------------
// The parent: a real receiver, the child's lifecycle, the restart and the checks.

/// The receiver: before the kill, every delivery's first attempt gets a 500 and each answer is
/// slow; after it (once `healthy`), 200 at once.
async fn receiver(healthy: Arc<AtomicBool>) -> TestReceiver {
    TestReceiver::answering(move |hit| {
        let healthy = healthy.load(Ordering::SeqCst);
        let answer = if healthy || hit.nth > 1 {
            Answer::ok("thanks")
        } else {
            Answer::status(500).body("not yet")
        };
        if healthy {
            answer
        } else {
            answer.after(Duration::from_millis(15))
        }
    })
    .await
}

/// One request as the receiver got it.
#[derive(Clone, Debug)]
struct Receipt {
    delivery: String,
    body: Bytes,
    /// Answered (or about to be answered) 200.
    ok: bool,
}

fn receipts(rx: &TestReceiver) -> Vec<Receipt> {
    rx.hits()
        .into_iter()
        .map(|hit| Receipt {
            delivery: hit.header("x-pitchbar-delivery").to_owned(),
            ok: hit.status == 200,
            body: hit.body,
        })
        .collect()
}

fn ok_deliveries(rx: &TestReceiver) -> HashSet<String> {
    receipts(rx)
        .into_iter()
        .filter(|r| r.ok)
        .map(|r| r.delivery)
        .collect()
}

/// `(event id, delivery id)` from a complete `ACCEPTED` line; `None` for anything else (the
/// test harness's own output, or a line cut short by the kill). The first one follows the
/// harness's `test crash_child_process ... ` on the same line.
fn parse_accepted(line: &str) -> Option<(String, String)> {
    const TAG: &str = "ACCEPTED ";
    let mut parts = line[line.find(TAG)? + TAG.len()..].split(' ');
    let (event, delivery) = (parts.next()?, parts.next()?);
    (parts.next().is_none() && event.len() == 26 && delivery.len() == 26)
        .then(|| (event.to_owned(), delivery.to_owned()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_burst_then_restart_delivers_every_accepted_event() {
    let healthy = Arc::new(AtomicBool::new(false));
    let rx = receiver(healthy.clone()).await;
    let url = rx.url("/hook");
    let dir = tempfile::tempdir().unwrap();

    let mut child = tokio::process::Command::from(support::child::this_test(CHILD_TEST))
        .env(CHILD_ENV, format!("{},{url}", dir.path().display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("re-executing the test binary");
    let pid = child.id().expect("child pid");

    // Accepted events, as the child reports them; read until EOF (after the kill).
    let accepted: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let reader = {
        let accepted = accepted.clone();
        let changed = rx.changed().clone();
        let stdout = child.stdout.take().unwrap();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(pair) = parse_accepted(&line) {
                    accepted.lock().unwrap().push(pair);
                    changed.notify_one();
                }
            }
        })
    };

    // Kill once a good part of the burst is accepted and deliveries are flowing.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let n_accepted = accepted.lock().unwrap().len();
        let n_ok = ok_deliveries(&rx).len();
        if n_accepted >= BURST / 2 && n_ok >= 20 {
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the child exited early ({status}) with {n_accepted} accepted");
        }
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "child too slow: {n_accepted} accepted, {n_ok} delivered"
        );
        let _ = tokio::time::timeout(
            left.min(Duration::from_millis(200)),
            rx.changed().notified(),
        )
        .await;
    }
    child.kill().await.expect("SIGKILL"); // start_kill is SIGKILL on Unix; this also reaps it.
    let delivered_at_kill = ok_deliveries(&rx);
    reader.await.unwrap(); // The pipe is at EOF: every printed line has been read.
    let accepted: Vec<(String, String)> = accepted.lock().unwrap().clone();
    let accepted_ids: HashSet<String> = accepted.iter().map(|(_, d)| d.clone()).collect();
    assert_eq!(accepted_ids.len(), accepted.len(), "one delivery per event");
    let pending_at_kill = accepted_ids.difference(&delivered_at_kill).count();
    assert!(
        pending_at_kill > 0,
        "the kill came mid-burst: {} of {} already delivered",
        delivered_at_kill.len(),
        accepted.len()
    );
    eprintln!(
        "child {pid} killed: {} accepted, {} delivered, {} receipts so far",
        accepted.len(),
        delivered_at_kill.len(),
        receipts(&rx).len()
    );

    // Restart: a fresh Core on the same files, and a receiver that now answers 200.
    healthy.store(true, Ordering::SeqCst);
    let core = Core::open(dir.path()).unwrap();
    core.start_dispatcher(test_config()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let missing = accepted_ids.difference(&ok_deliveries(&rx)).count();
        if missing == 0 {
            break;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "{missing} accepted events never delivered");
        let _ = tokio::time::timeout(
            left.min(Duration::from_millis(200)),
            rx.changed().notified(),
        )
        .await;
    }

    // Map each receipt to its event through the database: the delivery ID it carries must be a
    // delivery of the event whose exact body was received.
    let receipts = receipts(&rx);
    let event_of = |delivery: &str| -> (String, Vec<u8>) {
        core.store()
            .conn()
            .query_row(
                "SELECT e.id, CAST(e.payload AS BLOB) FROM webhook_delivery d
                 JOIN webhook_event e ON e.id = d.event_id WHERE d.id = ?1",
                [delivery],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap_or_else(|e| panic!("receipt with unknown delivery {delivery:?}: {e}"))
    };
    for r in &receipts {
        assert_eq!(
            &event_of(&r.delivery).1[..],
            &r.body[..],
            "delivery {} carried its own event's exact body",
            r.delivery
        );
    }
    // Every accepted event: received, and every receipt of its body (duplicates included)
    // carries the same delivery ID.
    let mut duplicates = 0;
    for (event_id, delivery_id) in &accepted {
        let (db_event, body) = event_of(delivery_id);
        assert_eq!(&db_event, event_id);
        let of_event: Vec<&Receipt> = receipts.iter().filter(|r| r.body[..] == body[..]).collect();
        assert!(of_event.iter().any(|r| r.ok), "event {event_id} delivered");
        for r in &of_event {
            assert_eq!(
                &r.delivery, delivery_id,
                "a duplicate of event {event_id} carries the first receipt's delivery ID"
            );
        }
        duplicates += of_event.iter().filter(|r| r.ok).count().saturating_sub(1);
    }
    eprintln!(
        "after restart: {} receipts in all, {duplicates} duplicate 200s, all with the same delivery ID",
        receipts.len()
    );
    core.stop_dispatcher().await;
}

// ---------------------------------------------------------------------------------------------
// The same in one process: the app dies (its Core dropped, tasks aborted) mid-burst of retries.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_mid_burst_loses_nothing_and_duplicates_share_the_delivery_id() {
    let rx = TestReceiver::answering(answers).await;
    let dir = tempfile::tempdir().unwrap();
    let n = 300;
    let fired_ids: HashSet<String>;
    {
        let (core, actor) = support::workspace::owner_core_at(dir.path());
        // Flaky: every delivery's first attempt fails, so the crash catches retries too.
        core.webhook_endpoints()
            .create(
                &actor,
                endpoint(&rx.url("/flaky"), Policy::AtLeastOnce, Some(5)),
            )
            .unwrap();
        core.start_dispatcher(few_at_once()).unwrap();
        let mut ids = HashSet::new();
        for _ in 0..n {
            ids.extend(core.outbox().fire(&lead()).unwrap().delivery_ids);
        }
        fired_ids = ids;
        let deadline = Instant::now() + Duration::from_secs(10);
        while rx.hits().len() < 40 {
            assert!(Instant::now() < deadline);
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        // The app dies here: tasks aborted, nothing stopped cleanly.
    }
    let delivered_before = rx.hits().len();
    assert!(delivered_before < 2 * n, "the crash came mid-burst");

    let core = Core::open(dir.path()).unwrap();
    core.start_dispatcher(test_config()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let pending: i64 = core
            .store()
            .conn()
            .query_row(
                "SELECT count(*) FROM webhook_delivery WHERE status != 'succeeded'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        if pending == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{pending} deliveries unfinished");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let hits = rx.hits();
    let ok_ids: HashSet<String> = {
        let per = rx.per_delivery();
        per.iter()
            .filter(|(_, n)| **n >= 2)
            .map(|(id, _)| id.clone())
            .collect()
    };
    assert_eq!(ok_ids, fired_ids, "every accepted event reached a 200");
    assert!(hits
        .iter()
        .all(|h| fired_ids.contains(header(h, "x-pitchbar-delivery"))));
    core.stop_dispatcher().await;
}
