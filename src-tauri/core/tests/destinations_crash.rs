//! Kill the process mid-sync and restart: every accepted lead reaches the fake exactly once. A
//! child (this test binary, re-executed) captures a burst of leads for HubSpot, whose fake is
//! slowed so the kill lands while a batch is in flight; a fresh Core on the same data dir then
//! sends what was left, and each email is one contact at HubSpot with every item done.

mod support;

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pitchbar_core::destinations::{DestinationOptions, ItemStatus};
use pitchbar_core::leads::LeadInput;
use pitchbar_core::webhooks::EventType;
use serde_json::json;
use support::apikeys::Fakes;
use support::destinations::{fast_config, open_core, providers_file, settled};
use support::oauth::{OAuthServer, TestCa};
use tokio::io::{AsyncBufReadExt, BufReader};

/// `<data dir>,<providers file>`: set only in the child process.
const CHILD_ENV: &str = "PITCHBAR_DESTINATIONS_CRASH_CHILD";
const CHILD_TEST: &str = "destinations_crash_child";
const BURST: usize = 300;
const TIMEOUT: Duration = Duration::from_secs(10);

#[test]
fn destinations_crash_child() {
    let Ok(arg) = std::env::var(CHILD_ENV) else {
        return; // Not the child: nothing to do.
    };
    let (dir, providers) = arg.split_once(',').expect("<data dir>,<providers file>");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let core = open_core(dir.as_ref(), providers.as_ref(), TIMEOUT, fast_config());
        for i in 0..BURST {
            let email = format!("crash{i}@example.test");
            core.leads()
                .capture(LeadInput {
                    agent_id: None,
                    conversation_id: None,
                    name: Some(format!("Crash Test{i}")),
                    email: Some(email.clone()),
                    phone: None,
                    fields: Default::default(),
                })
                .unwrap();
            println!("ACCEPTED {email}");
            // A steady stream, so batches go out while leads keep coming.
            if i % 20 == 19 {
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
        }
        std::future::pending::<()>().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_mid_sync_and_restart_sends_every_accepted_lead_exactly_once() {
    support::require::keychain();
    support::oauth::prerequisites();
    let ca = TestCa::new();
    let _oauth = OAuthServer::start(&ca);
    let fakes = Fakes::start();
    let dir = tempfile::tempdir().unwrap();
    let providers = providers_file(ca.dir.path(), &ca, &_oauth, fakes.port);

    // Connected and configured, then closed: the child opens the same data dir.
    {
        let core = open_core(dir.path(), &providers, TIMEOUT, fast_config());
        support::oauth::sign_in(&core, &ca, "hubspot").await;
        core.destinations()
            .save(
                &support::oauth::actor(&core),
                "hubspot",
                pitchbar_core::destinations::DestinationInput {
                    events: vec![EventType::LeadCaptured],
                    mapping: vec![pitchbar_core::destinations::FieldMap {
                        from: "email".into(),
                        to: "email".into(),
                    }],
                    options: DestinationOptions::default(),
                },
            )
            .await
            .unwrap();
        core.stop_destinations().await;
    }
    // Every upsert answers slowly: a batch is in flight most of the time.
    fakes
        .control(
            "POST",
            "script",
            json!({"path": "upsert$", "times": 10_000, "delay_ms": 400}),
        )
        .await;

    let mut child = tokio::process::Command::from(support::child::this_test(CHILD_TEST))
        .env(
            CHILD_ENV,
            format!("{},{}", dir.path().display(), providers.display()),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("re-executing the test binary");
    let accepted: Arc<Mutex<Vec<String>>> = Arc::default();
    let reader = {
        let accepted = accepted.clone();
        let stdout = child.stdout.take().unwrap();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(at) = line.find("ACCEPTED ") {
                    let email = line[at + 9..].trim();
                    if email.ends_with("@example.test") {
                        accepted.lock().unwrap().push(email.to_owned());
                    }
                }
            }
        })
    };

    // Killed once half the burst is accepted and upserts have started arriving.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let n = accepted.lock().unwrap().len();
        let upserts = fakes
            .calls()
            .await
            .iter()
            .filter(|c| c["path"] == "/crm/v3/objects/contacts/batch/upsert")
            .count();
        if n >= BURST / 2 && upserts >= 2 {
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the child exited early ({status}) with {n} accepted");
        }
        assert!(
            Instant::now() < deadline,
            "child too slow: {n} accepted, {upserts} upserts"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    reader.await.unwrap();
    let accepted = accepted.lock().unwrap().clone();
    let before = fakes.calls().await.len();
    // Let the batch the kill cut short land at the fake (its answer is lost), then see how much
    // was left: the kill must have come mid-sync.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let at_kill = fakes
        .control("GET", "state/hubspot", serde_json::Value::Null)
        .await["contacts"]
        .as_array()
        .unwrap()
        .len();
    assert!(
        at_kill < accepted.len(),
        "{at_kill} of {} sent before the kill",
        accepted.len()
    );
    eprintln!(
        "killed with {at_kill} of {} accepted leads at HubSpot",
        accepted.len()
    );
    fakes.control("DELETE", "script", json!({})).await;

    // A fresh Core on the same data dir sends what was left.
    let core = open_core(dir.path(), &providers, TIMEOUT, fast_config());
    let items = settled(&core, "hubspot", Duration::from_secs(60)).await;
    assert!(items.len() >= accepted.len());
    assert!(
        items.iter().all(|i| i.status == ItemStatus::Done),
        "{:#?}",
        items
            .iter()
            .filter(|i| i.status != ItemStatus::Done)
            .collect::<Vec<_>>()
    );
    let state = fakes
        .control("GET", "state/hubspot", serde_json::Value::Null)
        .await;
    let contacts: Vec<String> = state["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["properties"]["email"].as_str().unwrap().to_owned())
        .collect();
    for email in &accepted {
        let n = contacts.iter().filter(|c| *c == email).count();
        assert_eq!(n, 1, "{email} is at HubSpot {n} times");
    }
    assert_eq!(contacts.len(), items.len(), "one contact per captured lead");
    assert!(
        fakes.calls().await.len() > before,
        "the restart sent what the kill cut short"
    );
}
