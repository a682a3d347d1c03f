//! The audit trail, walked end to end on a real SQLite file and the real keychain: every change
//! the window, a preview and the command line can make records one entry naming who, what and
//! from where — refused changes none — and no secret's value reaches it, its exports, or the
//! URLs it names. Its filters, paging, CSV/JSON exports and two-year keeping.
//! (Connections, notifications, knowledge sources and destinations record theirs in their own
//! tests, which have the fakes they need; the app turning off a failing endpoint in
//! dispatch_disable.rs.)

mod support;

use std::time::Duration;

use pitchbar_core::agents::AgentInput;
use pitchbar_core::audit::{Area, AuditEntry, AuditQuery, ExportFormat, Surface};
use pitchbar_core::oauth::OAuthAppInput;
use pitchbar_core::receiver::{ReceiverStart, ResponseSpec, Retention, VerifyChoice};
use pitchbar_core::workspace::Role;
use pitchbar_core::Error;
use support::audit::{actions, entries};
use support::dispatch::test_config;
use support::endpoints::input;
use support::test_receiver::TestReceiver;
use support::workspace::{member_input, owner_core};

const CLIENT_SECRET: &str = "hubspot-client-secret-0f9e8d7c6b5a";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_change_is_recorded_once_with_who_and_where_and_no_secret() {
    support::require::keychain();
    let (_dir, core, owner) = owner_core();
    core.start_dispatcher(test_config()).unwrap();
    let ws = core.workspaces();

    // The workspace and its members.
    ws.rename(&owner, "Acme Inc").unwrap();
    let ann = ws
        .add_member(
            &owner,
            member_input("Ann Admin", "ann@acme.test", Role::Admin),
        )
        .unwrap();
    let mia = ws
        .add_member(
            &owner,
            member_input("Mia Member", "mia@acme.test", Role::Member),
        )
        .unwrap();
    ws.update_member(
        &owner,
        &mia.id,
        member_input("Mia Member", "mia@acme.test", Role::Admin),
    )
    .unwrap();
    ws.update_member(
        &owner,
        &mia.id,
        member_input("Mia M.", "mia@acme.test", Role::Admin),
    )
    .unwrap();

    // The API key: revealed, then regenerated; the old and new values never recorded.
    let old_key = core.api_keys().reveal(&owner).unwrap();
    core.api_keys().regenerate(&owner).unwrap();
    let new_key = core.api_keys().reveal(&owner).unwrap();
    let port = support::free_port();
    core.change_api_port(&owner, port).await.unwrap();

    // An endpoint whose address carries a token in its query: the trail names it without.
    let receiver = TestReceiver::start().await;
    let url = receiver.url("/hooks/crm?token=query-token-abc123");
    let endpoints = core.webhook_endpoints();
    let ep = endpoints.create(&owner, input(&url)).unwrap();
    let first_secret = endpoints.reveal_secret(&owner, &ep.id).unwrap();
    let mut changed = input(&url);
    changed.description = "CRM, renamed".into();
    endpoints.update(&owner, &ep.id, changed).unwrap();
    endpoints
        .rotate_secret(&owner, &ep.id, Duration::from_secs(3600))
        .unwrap();
    let second_secret = endpoints.reveal_secret(&owner, &ep.id).unwrap();
    endpoints.set_disable_after(&owner, 48).unwrap();

    // Deliveries: a test send, its redelivery once it finished, a replay of failures.
    let deliveries = core.webhook_deliveries();
    let delivery = deliveries
        .send_test(
            &owner,
            &ep.id,
            pitchbar_core::webhooks::EventType::LeadCaptured,
            None,
        )
        .unwrap();
    wait_finished(&core, &delivery).await;
    deliveries.redeliver(&owner, &delivery).unwrap();
    deliveries
        .replay_failed_since(&owner, "2020-01-01T00:00:00Z")
        .unwrap();

    // The receiver.
    let rx = core.receiver();
    rx.start_as(
        &owner,
        ReceiverStart {
            port: 0,
            verify: VerifyChoice::Endpoints,
            response: ResponseSpec::default(),
            forward_to: None,
            keep_credentials: false,
        },
    )
    .unwrap();
    rx.set_response_as(
        &owner,
        ResponseSpec {
            status: 503,
            retry_after_secs: Some(30),
            ..ResponseSpec::default()
        },
    )
    .unwrap();
    rx.set_forward_as(&owner, Some(receiver.url("/forward?sig=forward-sig-xyz")))
        .unwrap();
    rx.set_retention(
        &owner,
        Retention {
            max_requests: 500,
            max_megabytes: 50,
        },
    )
    .unwrap();
    rx.send_test_events_here(&owner).unwrap();
    core.receiver_log().clear(&owner).unwrap();
    rx.stop_as(&owner).await.unwrap();

    // Agents.
    let agent = core
        .agents()
        .create(
            &owner,
            AgentInput {
                name: "Sales bot".into(),
                lead_fields: Vec::new(),
            },
        )
        .unwrap();
    core.agents()
        .update(
            &owner,
            &agent.id,
            AgentInput {
                name: "Sales assistant".into(),
                lead_fields: Vec::new(),
            },
        )
        .unwrap();

    // An OAuth app: its client secret goes to the keychain, never to the trail.
    core.oauth()
        .save_app(
            &owner,
            OAuthAppInput {
                provider: "hubspot".into(),
                client_id: "hubspot-client-id-1234".into(),
                client_secret: Some(CLIENT_SECRET.into()),
                redirect: None,
                loopback_port: None,
                subdomain: None,
                login_host: None,
            },
        )
        .await
        .unwrap();
    core.oauth().remove_app(&owner, "hubspot").await.unwrap();

    // A preview as Ann (an Admin) changes as Ann, previewed by Ada; a preview as a Member is
    // refused and records nothing.
    ws.switch_to(&ann.id).unwrap();
    let preview = ws.actor().unwrap();
    core.agents().delete(&preview, &agent.id).unwrap();
    ws.update_member(
        &owner,
        &mia.id,
        member_input("Mia M.", "mia@acme.test", Role::Member),
    )
    .unwrap();
    ws.switch_to(&mia.id).unwrap();
    let member = ws.actor().unwrap();
    let refused = core
        .webhook_endpoints()
        .delete(&member, &ep.id)
        .unwrap_err();
    assert!(matches!(refused, Error::Forbidden(_)), "{refused:?}");
    ws.switch_to(&owner.member().id).unwrap();

    // The command line acts as the device user.
    let cli = ws.device_actor(Surface::Cli).unwrap();
    core.webhook_endpoints().enable(&cli, &ep.id).unwrap();
    core.webhook_endpoints().delete(&cli, &ep.id).unwrap();
    ws.set_device_user(&owner, &ann.id).unwrap();
    ws.remove_member(&owner, &mia.id).unwrap();

    let expected = [
        "workspace.created",
        "workspace.renamed",
        "member.added",
        "member.added",
        "member.role_changed",
        "member.updated",
        "api_key.revealed",
        "api_key.regenerated",
        "api_key.revealed",
        "api.port_changed",
        "endpoint.created",
        "endpoint.secret_revealed",
        "endpoint.updated",
        "endpoint.secret_rotated",
        "endpoint.secret_revealed",
        "endpoints.disable_after_changed",
        "delivery.test_sent",
        "delivery.redelivered",
        "deliveries.replayed",
        "receiver.started",
        "receiver.response_changed",
        "receiver.forward_changed",
        "receiver.retention_changed",
        "endpoint.created",
        "delivery.test_sent",
        "receiver.log_cleared",
        "receiver.stopped",
        "agent.created",
        "agent.updated",
        "oauth_app.added",
        "oauth_app.removed",
        "agent.deleted",
        "member.role_changed",
        "endpoint.enabled",
        "endpoint.deleted",
        "device_user.changed",
        "member.removed",
    ];
    assert_eq!(actions(&core, &AuditQuery::default()), expected);

    let all = entries(&core, &AuditQuery::default());
    let by = |action: &str| all.iter().find(|e| e.action == action).unwrap();
    // Who and where.
    let renamed = by("workspace.renamed");
    assert_eq!(renamed.member_name, "Ada Owner");
    assert_eq!(renamed.member_role, Some(Role::Owner));
    assert_eq!(renamed.surface, Surface::Window);
    assert_eq!(renamed.previewed_by, None);
    assert!(
        renamed.summary.contains("“Acme” to “Acme Inc”"),
        "{}",
        renamed.summary
    );
    let previewed = by("agent.deleted");
    assert_eq!(previewed.member_name, "Ann Admin");
    assert_eq!(previewed.previewed_by.as_deref(), Some("Ada Owner"));
    let from_cli = by("endpoint.deleted");
    assert_eq!(from_cli.surface, Surface::Cli);
    assert_eq!(from_cli.member_name, "Ada Owner");
    assert!(by("member.role_changed").summary.contains("Member → Admin"));
    assert!(by("receiver.response_changed")
        .summary
        .contains("answers 503 with Retry-After 30"));

    // No secret's value anywhere: not in the entries, the exports, or the addresses they name.
    let json = core
        .audit()
        .export(&AuditQuery::default(), ExportFormat::Json)
        .unwrap();
    let csv = core
        .audit()
        .export(&AuditQuery::default(), ExportFormat::Csv)
        .unwrap();
    let secrets = [
        old_key.expose().to_owned(),
        new_key.expose().to_owned(),
        first_secret.expose().to_owned(),
        second_secret.expose().to_owned(),
        CLIENT_SECRET.to_owned(),
        "query-token-abc123".to_owned(),
        "forward-sig-xyz".to_owned(),
    ];
    for secret in &secrets {
        for (name, bytes) in [("JSON", &json), ("CSV", &csv)] {
            let text = String::from_utf8_lossy(bytes);
            assert!(
                !text.contains(secret.as_str()),
                "{name} export holds {secret}"
            );
        }
    }
    assert!(by("endpoint.created").target.ends_with("/hooks/crm"));
}

/// Waits until `delivery` is no longer pending (redelivery needs a finished one).
async fn wait_finished(core: &pitchbar_core::Core, delivery: &str) {
    support::slack::eventually(20, "the delivery finished", || async {
        let status: String = core
            .store()
            .conn()
            .query_row(
                "SELECT status FROM webhook_delivery WHERE id = ?1",
                [delivery],
                |r| r.get(0),
            )
            .unwrap();
        (status != "pending").then_some(())
    })
    .await;
}

#[test]
fn filters_pages_and_exports() {
    let (dir, core, owner) = owner_core();
    let ws = core.workspaces();
    let ann = ws
        .add_member(
            &owner,
            member_input("Ann Admin", "ann@acme.test", Role::Admin),
        )
        .unwrap();
    // A name a spreadsheet would run as a formula.
    ws.add_member(
        &owner,
        member_input("=HYPERLINK(\"x\")", "f@acme.test", Role::Member),
    )
    .unwrap();
    for i in 0..12 {
        ws.rename(&owner, &format!("Acme {i}")).unwrap();
    }
    ws.switch_to(&ann.id).unwrap();
    ws.rename(&ws.actor().unwrap(), "Acme by Ann").unwrap();
    ws.switch_to(&owner.member().id).unwrap();
    let cli = ws.device_actor(Surface::Cli).unwrap();
    ws.rename(&cli, "Acme from the CLI").unwrap();

    let total = entries(&core, &AuditQuery::default()).len();
    assert_eq!(total, 1 + 2 + 12 + 1 + 1);
    let q = |f: &dyn Fn(&mut AuditQuery)| {
        let mut q = AuditQuery::default();
        f(&mut q);
        q
    };
    assert_eq!(
        actions(&core, &q(&|q| q.who = Some(ann.id.clone()))),
        ["workspace.renamed"]
    );
    assert_eq!(
        actions(&core, &q(&|q| q.area = Some(Area::Members))),
        ["member.added", "member.added"]
    );
    let cli_entries = entries(&core, &q(&|q| q.surface = Some(Surface::Cli)));
    assert_eq!(cli_entries.len(), 1);
    assert!(cli_entries[0].summary.contains("Acme from the CLI"));
    assert_eq!(
        entries(&core, &q(&|q| q.text = Some("acme 11".into()))).len(),
        2,
        "renamed to Acme 11, and from it (case-insensitive)"
    );
    assert_eq!(
        entries(&core, &q(&|q| q.text = Some("100%_".into()))).len(),
        0,
        "% and _ are plain characters"
    );
    assert_eq!(
        entries(
            &core,
            &q(&|q| q.since = Some("2999-01-01T00:00:00Z".into()))
        )
        .len(),
        0
    );
    assert_eq!(
        entries(
            &core,
            &q(&|q| q.until = Some("2999-01-01T00:00:00Z".into()))
        )
        .len(),
        total
    );
    let bad = core
        .audit()
        .list(&q(&|q| {
            q.since = Some("2026-05-02T00:00:00Z".into());
            q.until = Some("2026-05-01T00:00:00Z".into());
        }))
        .unwrap_err();
    assert!(bad.to_string().contains("before its start"), "{bad}");
    let bad = core
        .audit()
        .list(&q(&|q| q.since = Some("yesterday".into())))
        .unwrap_err();
    assert!(bad.to_string().contains("RFC 3339"), "{bad}");

    // Pages of 5, newest first, meet the whole list once.
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = core
            .audit()
            .list(&q(&|q| {
                q.limit = Some(5);
                q.before_id = before;
            }))
            .unwrap();
        assert_eq!(page.total as usize, total);
        assert!(page.entries.len() <= 5);
        seen.extend(page.entries.iter().map(|e| e.id));
        match page.next_before_id {
            Some(id) => before = Some(id),
            None => break,
        }
    }
    let mut ids: Vec<i64> = entries(&core, &AuditQuery::default())
        .iter()
        .map(|e| e.id)
        .collect();
    ids.reverse();
    assert_eq!(seen, ids);

    // The exports: a CSV a spreadsheet opens safely, a JSON array, both written whole.
    let out = tempfile::tempdir().unwrap();
    let path = core
        .audit()
        .export_file(&AuditQuery::default(), ExportFormat::Csv, out.path())
        .unwrap();
    let name = path.file_name().unwrap().to_str().unwrap();
    assert!(
        name.starts_with("pitchbar-audit-") && name.ends_with(".csv"),
        "{name}"
    );
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[3], "member");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), total);
    assert!(
        rows.iter()
            .any(|r| r[9].starts_with("'=HYPERLINK") && r[10].starts_with("Added")),
        "a formula-looking cell is quoted: {rows:?}"
    );
    let json_path = core
        .audit()
        .export_file(
            &q(&|q| q.area = Some(Area::Members)),
            ExportFormat::Json,
            out.path(),
        )
        .unwrap();
    let parsed: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(json_path).unwrap()).unwrap();
    assert_eq!(parsed.len(), 2);
    assert_eq!(parsed[0]["action"], "member.added");
    assert_eq!(parsed[0]["surface"], "window");
    let missing = core
        .audit()
        .export_file(
            &AuditQuery::default(),
            ExportFormat::Csv,
            &out.path().join("gone"),
        )
        .unwrap_err();
    assert!(
        missing.to_string().contains("could not be saved"),
        "{missing}"
    );
    drop(dir);
}

/// Entries are kept two years: one 13 months old stays, one 25 months old goes with the next
/// change.
#[test]
fn entries_are_kept_two_years() {
    let (_dir, core, owner) = owner_core();
    let day = 86_400_000_i64;
    let now = pitchbar_core::clock::unix_ms();
    {
        let conn = core.store().conn();
        for (age_days, target) in [(395, "kept"), (760, "pruned")] {
            conn.execute(
                "INSERT INTO audit_entry (at_ms, member_id, member_name, member_role, surface, area, action, target, summary)
                 VALUES (?1, NULL, 'Pitchbar Admin', NULL, 'app', 'endpoints', 'endpoint.disabled', ?2, 'old')",
                rusqlite::params![now - age_days * day, target],
            )
            .unwrap();
        }
    }
    core.workspaces().rename(&owner, "Acme again").unwrap();
    let targets: Vec<String> = entries(&core, &AuditQuery::default())
        .into_iter()
        .map(|e: AuditEntry| e.target)
        .collect();
    assert!(targets.contains(&"kept".to_string()), "{targets:?}");
    assert!(!targets.contains(&"pruned".to_string()), "{targets:?}");
}
