//! The workspace commands (`init`, `api-key`, `endpoints`, `deliveries`, `members`, `leads`):
//! what the window does, from the command line, as the device user — run in-process on a real
//! SQLite file, against a real receiver that checks the signatures.

mod support;

use std::sync::{Arc, Mutex};

use pitchbar_core::secret::Secret;
use pitchbar_core::webhooks::signing::{verify, DEFAULT_TOLERANCE};
use serde_json::Value;
use support::cli::{now, run};
use support::test_receiver::{Answer, TestReceiver};

/// Runs a workspace command on the data folder `data`.
fn on(data: &std::path::Path, list: &[&str]) -> (i32, String, String) {
    let mut all = list.to_vec();
    all.extend(["--data-dir", data.to_str().unwrap()]);
    run(&all)
}

/// Runs it with `--json`, expects exit 0, and returns the one JSON value printed.
fn json(data: &std::path::Path, list: &[&str]) -> Value {
    let mut all = list.to_vec();
    all.push("--json");
    let (code, out, err) = on(data, &all);
    assert_eq!(code, 0, "{list:?}: {out}{err}");
    assert_eq!(out.trim().lines().count(), 1, "one line: {out}");
    serde_json::from_str(out.trim()).expect("one JSON value")
}

/// `init` on a fresh temp dir: workspace "Acme", Ada its Owner and this computer's user.
fn initialised() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = on(
        dir.path(),
        &[
            "init",
            "--workspace",
            "Acme",
            "--name",
            "Ada Owner",
            "--email",
            "ada@acme.test",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    dir
}

/// Every audit entry's action and surface, oldest first.
fn trail(data: &std::path::Path) -> Vec<(String, pitchbar_core::audit::Surface)> {
    let core = pitchbar_core::Core::open(data).unwrap();
    support::audit::entries(&core, &Default::default())
        .into_iter()
        .map(|e| (e.action, e.surface))
        .collect()
}

fn cli_actions(data: &std::path::Path) -> Vec<String> {
    trail(data)
        .into_iter()
        .filter(|(_, s)| *s == pitchbar_core::audit::Surface::Cli)
        .map(|(a, _)| a)
        .collect()
}

#[test]
fn init_sets_up_the_workspace_once_and_usage_errors_exit_2() {
    support::require::keychain();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();

    let (code, _, err) = on(data, &["members", "list"]);
    assert_eq!(code, 1);
    assert!(err.contains("pitchbar-admin init"), "{err}");

    let session = json(
        data,
        &[
            "init",
            "--workspace",
            "Acme",
            "--name",
            "Ada Owner",
            "--email",
            "ada@acme.test",
        ],
    );
    assert_eq!(session["workspace"]["name"], "Acme");
    assert_eq!(session["device_user"]["email"], "ada@acme.test");
    assert_eq!(session["device_user"]["role"], "owner");

    let (code, out, err) = on(
        data,
        &[
            "init",
            "--workspace",
            "Other",
            "--name",
            "Bo",
            "--email",
            "bo@x.test",
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        err.starts_with("error: A workspace is already set up here (“Acme”"),
        "{err}"
    );
    assert_eq!(out, "");

    // The text form, on another folder.
    let other = tempfile::tempdir().unwrap();
    let (code, out, _) = on(
        other.path(),
        &[
            "init",
            "--workspace",
            "Beta",
            "--name",
            "Bo",
            "--email",
            "bo@x.test",
        ],
    );
    assert_eq!(code, 0);
    assert!(
        out.contains("“Beta”") && out.contains("Bo <bo@x.test>"),
        "{out}"
    );

    for (list, flag) in [
        (&["init", "--workspace", "X", "--name", "Y"][..], "--email"),
        (
            &["endpoints", "add", "--events", "lead.captured"][..],
            "--url",
        ),
        (
            &["endpoints", "add", "--url", "https://x.test/h"][..],
            "--events",
        ),
        (
            &["members", "add", "--name", "N", "--email", "n@x.test"][..],
            "--role",
        ),
        (&["deliveries", "replay"][..], "--since"),
        (&["endpoints", "rotate"][..], "<ID>"),
    ] {
        let (code, _, err) = on(data, list);
        assert_eq!(code, 2, "{list:?}: {err}");
        assert!(err.contains(flag), "{list:?}: {err}");
    }
    let (code, _, err) = on(
        data,
        &[
            "members", "add", "--name", "N", "--email", "n@x.test", "--role", "boss",
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("owner, admin, member"), "{err}");
    let (code, _, _) = on(data, &["endpoints"]);
    assert_eq!(code, 2);

    for command in [
        &["init"][..],
        &["api-key"][..],
        &["api-key", "regenerate"][..],
        &["endpoints"][..],
        &["endpoints", "add"][..],
        &["deliveries"][..],
        &["deliveries", "redeliver"][..],
        &["members"][..],
        &["members", "remove"][..],
        &["leads"][..],
        &["leads", "list"][..],
    ] {
        let group = command.join(" ");
        let (code, out, _) = run(&[command, &["--help"]].concat());
        assert_eq!(code, 0);
        assert!(
            out.contains("Exit codes") && out.contains("2  usage error"),
            "{group}: {out}"
        );
    }

    assert_eq!(
        trail(data),
        vec![(
            "workspace.created".to_owned(),
            pitchbar_core::audit::Surface::Cli
        )]
    );
}

#[test]
fn endpoints_and_deliveries_as_the_window_has_them() {
    support::require::keychain();
    let dir = initialised();
    let data = dir.path();

    // The receiver checks each delivery's signature with the secret `add` printed.
    let printed: Arc<Mutex<Option<String>>> = Arc::default();
    let rx = {
        let printed = printed.clone();
        TestReceiver::answering_blocking(move |hit| {
            let Some(secret) = printed.lock().unwrap().clone() else {
                return Answer::status(500).body("no secret yet");
            };
            match verify(
                Some(hit.header("x-pitchbar-signature")),
                &hit.body,
                &[&Secret::new(secret)],
                now(),
                DEFAULT_TOLERANCE,
            ) {
                Ok(_) => Answer::ok("thanks"),
                Err(_) => Answer::status(401).body("bad signature"),
            }
        })
    };
    let url = rx.url("/hook");

    let (code, out, _) = on(data, &["endpoints", "list"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("No endpoints."), "{out}");

    let added = json(
        data,
        &[
            "endpoints",
            "add",
            "--url",
            &url,
            "--events",
            "lead.captured",
            "--print-secret",
        ],
    );
    let id = added["id"].as_str().unwrap().to_owned();
    assert_eq!(added["url"], url.as_str());
    assert_eq!(added["events"], serde_json::json!(["lead.captured"]));
    assert_eq!(added["active"], true);
    assert_eq!(added["policy"], "single");
    let secret = added["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    *printed.lock().unwrap() = Some(secret.clone());

    // Without --print-secret, only the redacted form, in JSON and in text.
    let list = json(data, &["endpoints", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], id.as_str());
    assert!(!list.to_string().contains(&secret));
    let (code, out, _) = on(data, &["endpoints", "list"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("ID "), "{out}");
    assert!(
        out.contains(&id) && out.contains(&url) && out.contains(" on "),
        "{out}"
    );
    assert!(!out.contains(&secret));

    let updated = json(
        data,
        &[
            "endpoints",
            "update",
            &id,
            "--events",
            "lead.captured,lead.updated",
            "--policy",
            "at-least-once",
            "--max-attempts",
            "3",
            "--standard-webhooks",
        ],
    );
    assert_eq!(
        updated["events"],
        serde_json::json!(["lead.captured", "lead.updated"])
    );
    assert_eq!(updated["policy"], "at_least_once");
    assert_eq!(updated["max_attempts"], 3);
    assert_eq!(updated["standard_webhooks"], true);
    assert_eq!(updated["url"], url.as_str(), "kept");
    assert!(updated.get("secret").is_none());
    let updated = json(
        data,
        &[
            "endpoints",
            "update",
            &id,
            "--standard-webhooks=false",
            "--policy",
            "single",
        ],
    );
    assert_eq!(updated["standard_webhooks"], false);
    assert_eq!(updated["policy"], "single");
    assert_eq!(updated["max_attempts"], 1, "the new policy's own number");
    assert_eq!(updated["events"].as_array().unwrap().len(), 2, "kept");

    let disabled = json(data, &["endpoints", "disable", &id]);
    assert_eq!(disabled["active"], false);
    let enabled = json(data, &["endpoints", "enable", &id]);
    assert_eq!(enabled["active"], true);

    // Unknown IDs: exit 1, saying which ID and where to find the right one.
    for list in [
        &["endpoints", "update", "01NOPE", "--url", "https://x.test/h"][..],
        &["endpoints", "rotate", "01NOPE"][..],
        &["endpoints", "disable", "01NOPE"][..],
        &["endpoints", "enable", "01NOPE"][..],
        &["endpoints", "delete", "01NOPE"][..],
        &["deliveries", "list", "--endpoint", "01NOPE"][..],
    ] {
        let (code, out, err) = on(data, list);
        assert_eq!(code, 1, "{list:?}");
        assert_eq!(out, "");
        assert!(
            err.starts_with("error: There is no webhook endpoint with the ID “01NOPE”."),
            "{list:?}: {err}"
        );
    }
    let (code, _, err) = on(
        data,
        &[
            "endpoints",
            "add",
            "--url",
            "ftp://x",
            "--events",
            "lead.captured",
        ],
    );
    assert_eq!(code, 1);
    assert!(err.starts_with("error: "), "{err}");

    // An event, sent by a dispatcher over the same data, then read back from the log.
    let delivery = {
        let core = pitchbar_core::Core::open(data).unwrap();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            core.start_dispatcher(support::dispatch::test_config())
                .unwrap();
            let id = support::dispatch::fire_lead(&core);
            assert_eq!(support::dispatch::settled(&core, &id).await, "succeeded");
            core.stop_dispatcher().await;
            id
        })
    };
    let attempts = json(data, &["deliveries", "list"]);
    assert_eq!(attempts.as_array().unwrap().len(), 1, "{attempts}");
    assert_eq!(attempts[0]["delivery_id"], delivery.as_str());
    assert_eq!(attempts[0]["ok"], true, "signed with the printed secret");
    assert_eq!(attempts[0]["trigger"], "event");
    assert_eq!(attempts[0]["endpoint_id"], id.as_str());
    let attempt_no = attempts[0]["id"].as_i64().unwrap().to_string();
    let shown = json(data, &["deliveries", "show", &attempt_no]);
    assert_eq!(shown["delivery_id"], delivery.as_str());
    assert_eq!(shown["response_status"], 200);
    let by_delivery = json(data, &["deliveries", "show", &delivery]);
    assert_eq!(by_delivery["id"], shown["id"]);
    let (code, out, _) = on(data, &["deliveries", "show", &attempt_no]);
    assert_eq!(code, 0);
    assert!(
        out.contains("thanks") && out.contains("lead.captured"),
        "{out}"
    );
    assert!(json(data, &["deliveries", "list", "--status", "failed"])
        .as_array()
        .unwrap()
        .is_empty());

    // Redelivered: the same delivery ID, sent again once a dispatcher runs.
    let queued = json(data, &["deliveries", "redeliver", &delivery]);
    assert_eq!(queued["delivery_ids"], serde_json::json!([delivery]));
    {
        let core = pitchbar_core::Core::open(data).unwrap();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            core.start_dispatcher(support::dispatch::test_config())
                .unwrap();
            assert_eq!(
                support::dispatch::settled(&core, &delivery).await,
                "succeeded"
            );
            core.stop_dispatcher().await;
        });
    }
    let hits = rx.hits();
    assert_eq!(hits.len(), 2);
    assert!(hits
        .iter()
        .all(|h| h.header("x-pitchbar-delivery") == delivery));
    let attempts = json(data, &["deliveries", "list", "--endpoint", &id]);
    assert_eq!(attempts.as_array().unwrap().len(), 2, "{attempts}");
    assert_eq!(attempts[0]["delivery_id"], delivery.as_str());
    assert_eq!(attempts[0]["trigger"], "redeliver");
    assert_eq!(attempts[0]["ok"], true);

    let (code, _, err) = on(data, &["deliveries", "redeliver", "01NOPE"]);
    assert_eq!(code, 1);
    assert!(err.contains("no longer in the log"), "{err}");
    let (code, _, err) = on(data, &["deliveries", "show", "01NOPE"]);
    assert_eq!(code, 1);
    assert!(err.contains("“01NOPE”"), "{err}");
    let (code, _, err) = on(data, &["deliveries", "replay", "--since", "yesterday"]);
    assert_eq!(code, 1);
    assert!(err.contains("RFC 3339"), "{err}");
    let replayed = json(
        data,
        &["deliveries", "replay", "--since", "2020-01-01T00:00:00Z"],
    );
    assert_eq!(replayed["queued"], 0, "nothing failed");

    // Rotated without an overlap: a new secret, printed only when asked for.
    let rotated = json(
        data,
        &[
            "endpoints",
            "rotate",
            &id,
            "--overlap-hours",
            "0",
            "--print-secret",
        ],
    );
    let new_secret = rotated["secret"].as_str().unwrap();
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);

    // The receiver still checks with the old secret: the next event fails, is listed as
    // failed, and `replay` sends it again (now with the new secret known to the receiver).
    let since = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let failed = {
        let core = pitchbar_core::Core::open(data).unwrap();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            core.start_dispatcher(support::dispatch::test_config())
                .unwrap();
            let id = support::dispatch::fire_lead(&core);
            assert_eq!(support::dispatch::settled(&core, &id).await, "failed");
            core.stop_dispatcher().await;
            id
        })
    };
    let failures = json(data, &["deliveries", "list", "--status", "failed"]);
    assert_eq!(failures.as_array().unwrap().len(), 1, "{failures}");
    assert_eq!(failures[0]["delivery_id"], failed.as_str());
    assert_eq!(failures[0]["response_status"], 401);
    let (code, out, _) = on(data, &["deliveries", "list", "--status", "failed"]);
    assert_eq!(code, 0);
    assert!(out.contains(&failed) && out.contains("failed 401"), "{out}");
    *printed.lock().unwrap() = Some(new_secret.to_owned());
    let replayed = json(data, &["deliveries", "replay", "--since", &since]);
    assert_eq!(replayed["queued"], 1);
    {
        let core = pitchbar_core::Core::open(data).unwrap();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            core.start_dispatcher(support::dispatch::test_config())
                .unwrap();
            assert_eq!(
                support::dispatch::settled(&core, &failed).await,
                "succeeded"
            );
            core.stop_dispatcher().await;
        });
    }
    let latest = json(data, &["deliveries", "list", "--limit", "1"]);
    assert_eq!(latest[0]["delivery_id"], failed.as_str());
    assert_eq!(latest[0]["trigger"], "replay");
    assert_eq!(latest[0]["ok"], true);
    let (code, out, _) = on(data, &["endpoints", "rotate", &id]);
    assert_eq!(code, 0);
    assert!(
        !out.contains(new_secret) && out.contains("old secret valid until"),
        "{out}"
    );

    let impact = json(data, &["endpoints", "delete", &id]);
    assert_eq!(impact["logged_attempts"], 4);
    assert!(json(data, &["endpoints", "list"])
        .as_array()
        .unwrap()
        .is_empty());

    assert_eq!(
        cli_actions(data),
        [
            "workspace.created",
            "endpoint.created",
            "endpoint.secret_revealed",
            "endpoint.updated",
            "endpoint.updated",
            "endpoint.updated",
            "endpoint.enabled",
            "delivery.redelivered",
            "deliveries.replayed",
            "endpoint.secret_rotated",
            "endpoint.secret_revealed",
            "deliveries.replayed",
            "endpoint.secret_rotated",
            "endpoint.deleted",
        ]
    );
}

#[test]
fn members_are_added_and_removed_and_a_member_device_user_is_refused() {
    support::require::keychain();
    let dir = initialised();
    let data = dir.path();

    let mia = json(
        data,
        &[
            "members",
            "add",
            "--name",
            "Mia Member",
            "--email",
            "mia@acme.test",
            "--role",
            "member",
        ],
    );
    assert_eq!(mia["role"], "member");
    let mia = mia["id"].as_str().unwrap().to_owned();
    let (code, out, _) = on(
        data,
        &[
            "members",
            "add",
            "--name",
            "Bo Admin",
            "--email",
            "bo@acme.test",
            "--role",
            "admin",
        ],
    );
    assert_eq!(code, 0);
    assert!(
        out.starts_with("Added Bo Admin <bo@acme.test> as admin"),
        "{out}"
    );
    let (code, _, err) = on(
        data,
        &[
            "members",
            "add",
            "--name",
            "Bo Again",
            "--email",
            "bo@acme.test",
            "--role",
            "admin",
        ],
    );
    assert_eq!(code, 1, "a duplicate email: {err}");

    let members = json(data, &["members", "list"]);
    assert_eq!(members.as_array().unwrap().len(), 3);
    let bo = members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == "bo@acme.test")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (code, out, _) = on(data, &["members", "list"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("ada@acme.test  (this computer's user)"),
        "{out}"
    );

    let removed = json(data, &["members", "remove", &bo]);
    assert_eq!(removed["name"], "Bo Admin");
    assert_eq!(
        json(data, &["members", "list"]).as_array().unwrap().len(),
        2
    );
    let (code, _, err) = on(data, &["members", "remove", &bo]);
    assert_eq!(code, 1);
    assert!(err.contains("There is no member with the ID"), "{err}");
    let ada = json(data, &["members", "list"])[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (code, _, err) = on(data, &["members", "remove", &ada]);
    assert_eq!(code, 1, "this computer's user: {err}");

    // The window previewing Mia ("View as") changes nothing here: the CLI acts as Ada.
    {
        let core = pitchbar_core::Core::open(data).unwrap();
        core.workspaces().switch_to(&mia).unwrap();
        assert_eq!(core.workspaces().actor().unwrap().member().id, mia);
    }
    let endpoint = json(
        data,
        &[
            "endpoints",
            "add",
            "--url",
            "https://hooks.acme.test/h",
            "--events",
            "lead.captured",
        ],
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();

    {
        let core = pitchbar_core::Core::open(data).unwrap();
        let created = support::audit::entries(&core, &Default::default())
            .pop()
            .unwrap();
        assert_eq!(created.action, "endpoint.created");
        assert_eq!(created.member_name, "Ada Owner");
        assert_eq!(created.previewed_by, None);
    }

    // An Owner makes Mia this computer's user (in the window): the CLI now acts as her.
    {
        let core = pitchbar_core::Core::open(data).unwrap();
        core.workspaces().switch_to(&ada).unwrap();
        let owner = core.workspaces().actor().unwrap();
        core.workspaces().set_device_user(&owner, &mia).unwrap();
    }
    let before = trail(data).len();
    for list in [
        &[
            "endpoints",
            "add",
            "--url",
            "https://x.test/h",
            "--events",
            "lead.captured",
        ][..],
        &[
            "endpoints",
            "update",
            &endpoint,
            "--url",
            "https://x.test/h",
        ][..],
        &["endpoints", "rotate", &endpoint][..],
        &["endpoints", "disable", &endpoint][..],
        &["endpoints", "delete", &endpoint][..],
        &["api-key", "show", "--reveal"][..],
        &["api-key", "regenerate"][..],
        &[
            "members",
            "add",
            "--name",
            "N",
            "--email",
            "n@acme.test",
            "--role",
            "member",
        ][..],
        &["members", "remove", &ada][..],
        &["deliveries", "replay", "--since", "2020-01-01T00:00:00Z"][..],
    ] {
        let (code, out, err) = on(data, list);
        assert_eq!(code, 1, "{list:?}: {out}");
        assert_eq!(out, "", "{list:?}");
        assert!(
            err.starts_with("error: Mia Member is a Member and can only view.")
                && err.contains("Owner or Admin"),
            "{list:?}: {err}"
        );
    }
    assert_eq!(trail(data).len(), before, "nothing was changed or recorded");
    // Viewing is still hers to do.
    assert_eq!(
        json(data, &["endpoints", "list"]).as_array().unwrap().len(),
        1
    );
    assert_eq!(
        json(data, &["members", "list"]).as_array().unwrap().len(),
        2
    );
    let key = json(data, &["api-key", "show"]);
    assert!(key["redacted"].as_str().unwrap().starts_with("sk_live_"));
    assert!(key.get("key").is_none());

    assert_eq!(
        cli_actions(data),
        [
            "workspace.created",
            "member.added",
            "member.added",
            "member.removed",
            "endpoint.created",
        ]
    );
}

#[test]
fn api_key_is_shown_redacted_revealed_on_request_and_regenerated() {
    support::require::keychain();
    let dir = initialised();
    let data = dir.path();

    let shown = json(data, &["api-key", "show"]);
    let redacted = shown["redacted"].as_str().unwrap().to_owned();
    assert!(redacted.starts_with("sk_live_"));
    assert!(shown.get("key").is_none());
    let (code, out, _) = on(data, &["api-key", "show"]);
    assert_eq!(code, 0);
    assert!(out.starts_with(&format!("API key  {redacted}\n")), "{out}");

    let revealed = json(data, &["api-key", "show", "--reveal"]);
    let key = revealed["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("sk_live_") && key.len() > redacted.len());
    assert_eq!(revealed["redacted"], redacted.as_str());

    let regenerated = json(data, &["api-key", "regenerate"]);
    assert!(regenerated.get("key").is_none());
    assert_ne!(regenerated["redacted"], redacted.as_str());
    let core = pitchbar_core::Core::open(data).unwrap();
    assert!(
        !core.api_keys().authenticate(&key).unwrap(),
        "the old key stopped working"
    );
    drop(core);

    assert_eq!(
        cli_actions(data),
        [
            "workspace.created",
            "api_key.revealed",
            "api_key.regenerated",
        ]
    );
}

#[test]
fn leads_are_listed() {
    support::require::keychain();
    let dir = initialised();
    let data = dir.path();

    let (code, out, _) = on(data, &["leads", "list"]);
    assert_eq!((code, out.as_str()), (0, "No leads.\n"));
    assert_eq!(json(data, &["leads", "list"]), serde_json::json!([]));
    let lead = {
        let core = pitchbar_core::Core::open(data).unwrap();
        core.leads()
            .capture(pitchbar_core::leads::LeadInput {
                name: Some("Lee Lead".into()),
                email: Some("lee@example.test".into()),
                ..Default::default()
            })
            .unwrap()
    };
    let leads = json(data, &["leads", "list"]);
    assert_eq!(leads.as_array().unwrap().len(), 1);
    assert_eq!(leads[0]["id"], lead.id.as_str());
    assert_eq!(leads[0]["email"], "lee@example.test");
    let (code, out, _) = on(data, &["leads", "list"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("ID ")
            && out.contains(&lead.id)
            && out.contains("Lee Lead  lee@example.test"),
        "{out}"
    );
    let (code, _, err) = on(data, &["leads", "list", "--since", "today"]);
    assert_eq!(code, 1);
    assert!(err.contains("RFC 3339"), "{err}");
}
