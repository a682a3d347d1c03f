//! The command line, run in-process as the app binary runs it: `trigger` against a real
//! receiver on 127.0.0.1 that checks the signature with our verifier, and `serve` answering
//! the local API until it is told to stop.

mod support;

use std::io::Write;
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pitchbar_core::cli;
use pitchbar_core::secret::Secret;
use pitchbar_core::webhooks::signing::{verify, DEFAULT_TOLERANCE};
use pitchbar_core::webhooks::EventType;
use pitchbar_core::webhooks::USER_AGENT;
use serde_json::Value;
use support::cli::{args, now, run};
use support::test_receiver::{Answer, TestReceiver};

const SECRET: &str = "whsec_cli+test/secret0123456789abcdef";

/// A real receiver on 127.0.0.1:0 on its own runtime: `/fail` answers 400, anything else 200
/// when the signature verifies under [`SECRET`] and 401 when it does not.
fn receiver() -> TestReceiver {
    TestReceiver::answering_blocking(|hit| {
        let verified = verify(
            Some(hit.header("x-pitchbar-signature")),
            &hit.body,
            &[&Secret::new(SECRET)],
            now(),
            DEFAULT_TOLERANCE,
        );
        match (hit.path.as_str(), verified) {
            ("/fail", _) => Answer::status(400).body("nope"),
            (_, Ok(_)) => Answer::ok("thanks"),
            (_, Err(_)) => Answer::status(401).body("bad signature"),
        }
    })
}

#[test]
fn trigger_sends_a_signed_sample_like_a_delivery() {
    let rx = receiver();
    let url = rx.url("/hook");
    let (code, out, err) = run(&[
        "trigger",
        "lead.captured",
        "--url",
        &url,
        "--secret",
        SECRET,
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("200 OK"), "{out}");
    assert!(out.contains("thanks"), "{out}");
    assert_eq!(err, "");

    let hits = rx.hits();
    assert_eq!(hits.len(), 1);
    let hit = &hits[0];
    // The receiver answered 200, so our own verifier accepted it; check the rest of the shape.
    assert_eq!(hit.header("x-pitchbar-event"), "lead.captured");
    assert_eq!(hit.header("content-type"), "application/json");
    assert_eq!(hit.header("user-agent"), USER_AGENT);
    let delivery = hit.header("x-pitchbar-delivery");
    assert!(delivery.parse::<ulid::Ulid>().is_ok(), "{delivery}");
    assert!(out.contains(delivery), "{out}");
    let body: Value = serde_json::from_slice(&hit.body).unwrap();
    assert_eq!(body["event"], "lead.captured");
    assert!(body["data"]["lead_id"].is_string(), "{body}");
}

#[test]
fn trigger_json_prints_one_object_and_data_is_sent_as_given() {
    let rx = receiver();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("event.json");
    // Odd spacing and key order: the bytes must arrive (and be signed) exactly as written.
    let bytes = b"{ \"event\":\"conversation.closed\",  \"data\": {\"x\": 1} }\n";
    std::fs::write(&file, bytes).unwrap();
    let url = rx.url("/hook");
    let (code, out, err) = run(&[
        "trigger",
        "conversation.closed",
        "--url",
        &url,
        "--secret",
        SECRET,
        "--data",
        file.to_str().unwrap(),
        "--json",
        "--timeout",
        "2.5",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let outcome: Value = serde_json::from_str(out.trim()).expect("one JSON object");
    assert_eq!(out.trim().lines().count(), 1);
    assert_eq!(outcome["ok"], true);
    assert_eq!(outcome["status"], 200);
    assert_eq!(outcome["event"], "conversation.closed");
    assert_eq!(outcome["response_body"], "thanks");
    assert!(outcome["duration_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(outcome["error"], Value::Null);

    let hit = &rx.hits()[0];
    assert_eq!(&hit.body[..], &bytes[..]);
    assert_eq!(outcome["delivery_id"], hit.header("x-pitchbar-delivery"));
    assert_eq!(hit.header("x-pitchbar-event"), "conversation.closed");
}

#[test]
fn trigger_exits_1_on_a_non_2xx_answer() {
    let rx = receiver();
    let url = rx.url("/fail");
    let (code, out, err) = run(&["trigger", "lead.updated", "--url", &url, "--secret", SECRET]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("400 Bad Request"), "{out}");
    assert!(out.contains("nope"), "{out}");
    assert!(
        err.starts_with("error: The receiver answered 400 Bad Request"),
        "{err}"
    );

    // Signed with another secret: the receiver's verifier refuses it.
    let url = rx.url("/hook");
    let (code, out, _) = run(&[
        "trigger",
        "lead.updated",
        "--url",
        &url,
        "--secret",
        "whsec_other",
    ]);
    assert_eq!(code, 1);
    assert!(out.contains("401"), "{out}");
}

#[test]
fn trigger_exits_1_when_the_connection_is_refused() {
    let url = format!("http://127.0.0.1:{}/hook", support::free_port());
    let (code, out, err) = run(&[
        "trigger",
        "lead.captured",
        "--url",
        &url,
        "--secret",
        SECRET,
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.starts_with("error: The connection was refused"),
        "{err}"
    );
    assert!(out.contains("no answer"), "{out}");

    let (code, out, _) = run(&[
        "trigger",
        "lead.captured",
        "--url",
        &url,
        "--secret",
        SECRET,
        "--json",
    ]);
    assert_eq!(code, 1);
    let outcome: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(outcome["ok"], false);
    assert_eq!(outcome["status"], Value::Null);
    assert!(outcome["error"]
        .as_str()
        .unwrap()
        .contains("connection was refused"));
}

#[test]
fn trigger_usage_errors_exit_2_and_send_nothing() {
    let rx = receiver();
    let url = rx.url("/hook");
    let dir = tempfile::tempdir().unwrap();

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, b"{\"event\": \"lead.captured\",").unwrap();
    let (code, _, err) = run(&[
        "trigger",
        "lead.captured",
        "--url",
        &url,
        "--secret",
        SECRET,
        "--data",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.starts_with("error: --data "), "{err}");
    assert!(err.contains("is not valid JSON"), "{err}");

    let other = dir.path().join("other.json");
    std::fs::write(&other, b"{\"event\": \"lead.updated\"}").unwrap();
    let (code, _, err) = run(&[
        "trigger",
        "lead.captured",
        "--url",
        &url,
        "--secret",
        SECRET,
        "--data",
        other.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("\"event\": \"lead.updated\""), "{err}");

    let missing = dir.path().join("missing.json");
    let (code, _, err) = run(&[
        "trigger",
        "lead.captured",
        "--url",
        &url,
        "--secret",
        SECRET,
        "--data",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read --data"), "{err}");

    let (code, _, err) = run(&["trigger", "lead.created", "--url", &url, "--secret", SECRET]);
    assert_eq!(code, 2);
    assert!(err.starts_with("error: "), "{err}");
    let valid = EventType::ALL.map(EventType::as_str).join(", ");
    assert!(err.contains(&valid), "{err}");

    let (code, _, err) = run(&[
        "trigger",
        "lead.captured",
        "--url",
        "ftp://x",
        "--secret",
        SECRET,
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("https://"), "{err}");

    let (code, _, err) = run(&[
        "trigger",
        "lead.captured",
        "--url",
        &url,
        "--secret",
        SECRET,
        "--timeout",
        "0",
    ]);
    assert_eq!(code, 2, "{err}");

    let (code, _, err) = run(&["trigger", "lead.captured", "--url", &url]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--secret"), "{err}");

    assert!(rx.hits().is_empty(), "nothing was sent");
}

#[test]
fn help_documents_the_exit_codes() {
    let (code, out, _) = run(&["trigger", "--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("Exit codes"), "{out}");
    assert!(out.contains("2  usage error"), "{out}");
    assert!(!out.contains(SECRET));
    let (code, out, _) = run(&["help", "serve"]);
    assert_eq!(code, 0);
    assert!(out.contains("Exit codes"), "{out}");
    let (code, _, err) = run(&["serve", "--port", "nope"]);
    assert_eq!(code, 2);
    assert!(err.starts_with("error: "), "{err}");
    assert_eq!(
        cli::main_if_command(vec![
            "pitchbar-admin".into(),
            "pitchbar://oauth/callback?code=1".into()
        ]),
        None
    );
}

/// Collects what a command running on another thread prints.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[test]
fn serve_answers_the_local_api_until_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_owned();
    let (out, err) = (Shared::default(), Shared::default());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = {
        let (mut out, mut err) = (out.clone(), err.clone());
        std::thread::spawn(move || {
            cli::run_until(
                args(&["serve", "--port", "0", "--data-dir", &data]),
                &mut out,
                &mut err,
                async {
                    let _ = stopped.await;
                },
            )
        })
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let addr = loop {
        let text = out.text();
        // The whole banner, not only its address line: the lines after it come a moment later.
        if let (Some(rest), true) = (
            text.split("local API: http://").nth(1),
            text.contains("Press Ctrl-C to stop."),
        ) {
            break rest.lines().next().unwrap().to_owned();
        }
        assert!(
            !server.is_finished(),
            "serve ended early: {text}{}",
            err.text()
        );
        assert!(Instant::now() < deadline, "serve never listened: {text}");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        out.text().contains("no workspace here yet"),
        "{}",
        out.text()
    );
    assert!(
        out.text()
            .contains("notifications and knowledge ingestion: running"),
        "{}",
        out.text()
    );

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let status = runtime.block_on(async {
        reqwest::Client::new()
            .get(format!("http://{addr}/v1/leads"))
            .bearer_auth("sk_live_not_a_key")
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 401);

    // While it runs the port is taken: a second serve on it fails to start, with exit 1.
    let port = addr.rsplit(':').next().unwrap();
    let (code, _, e) = run(&[
        "serve",
        "--port",
        port,
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(e.starts_with("error: Port "), "{e}");

    stop.send(()).unwrap();
    assert_eq!(server.join().unwrap(), 0, "{}", err.text());
    assert!(out.text().ends_with("Stopped.\n"), "{}", out.text());
    assert!(TcpStream::connect(&addr).is_err(), "the port is free again");
}

#[test]
fn audit_prints_the_trail_as_a_table_csv_or_json_and_refuses_bad_filters() {
    let (dir, core, owner) = support::workspace::owner_core();
    core.workspaces().rename(&owner, "Acme Inc").unwrap();
    drop(core);
    let data = dir.path().to_str().unwrap();

    let (code, out, err) = run(&["audit", "--data-dir", data]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[1].contains("Ada Owner (owner, window)")
            && lines[1].contains("workspace")
            && lines[1].contains("Renamed the workspace from “Acme” to “Acme Inc”."),
        "{out}"
    );

    let (code, out, _) = run(&["audit", "--data-dir", data, "--format", "json"]);
    assert_eq!(code, 0);
    let entries: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(entries[1]["action"], "workspace.renamed");

    let (code, out, _) = run(&[
        "audit",
        "--data-dir",
        data,
        "--format",
        "csv",
        "--area",
        "members",
    ]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 1, "the header only: {out}");

    let (code, out, _) = run(&["audit", "--data-dir", data, "--search", "nothing like it"]);
    assert_eq!((code, out.as_str()), (0, "No changes match.\n"));

    let (code, _, err) = run(&["audit", "--data-dir", data, "--area", "members2"]);
    assert_eq!(code, 2);
    assert!(err.contains("choose one of workspace, members"), "{err}");
    let (code, _, err) = run(&["audit", "--data-dir", data, "--since", "yesterday"]);
    assert_eq!(code, 1);
    assert!(err.contains("RFC 3339"), "{err}");
}

#[test]
fn backup_then_restore_from_the_command_line() {
    let (dir, core, owner) = support::workspace::owner_core();
    drop((core, owner));
    let data = dir.path().to_str().unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let to = out_dir.path().to_str().unwrap();

    let (code, out, err) = run(&["backup", "--data-dir", data, "--to", to, "--json"]);
    assert_eq!(code, 0, "{err}");
    let path: Value = serde_json::from_str(&out).unwrap();
    let path = path["path"].as_str().unwrap().to_owned();

    let core = pitchbar_core::Core::open(dir.path()).unwrap();
    let owner = core.workspaces().actor().unwrap();
    core.workspaces().rename(&owner, "Renamed later").unwrap();
    drop((core, owner));

    // Without --yes: what it holds, and nothing done.
    let (code, out, err) = run(&["restore", &path, "--data-dir", data]);
    assert_eq!(code, 1);
    assert!(
        out.contains("holds the workspace “Acme” (1 members"),
        "{out}"
    );
    assert!(
        err.contains("nothing was restored") && err.contains("--yes"),
        "{err}"
    );

    let (code, out, err) = run(&["restore", &path, "--data-dir", data, "--yes"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Restored the workspace “Acme”"), "{out}");
    let core = pitchbar_core::Core::open(dir.path()).unwrap();
    let session = core.workspaces().session().unwrap().unwrap();
    assert_eq!(session.workspace.name, "Acme");
    let trail = core.audit().list(&Default::default()).unwrap();
    let restored = &trail.entries[0];
    assert_eq!(restored.action, "workspace.restored");
    assert_eq!(restored.surface, pitchbar_core::audit::Surface::Cli);

    let (code, _, err) = run(&[
        "restore",
        "/nonexistent/backup.db",
        "--data-dir",
        data,
        "--yes",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("cannot be read"), "{err}");
    let (code, _, err) = run(&["backup", "--data-dir", data, "--to", "/nonexistent/dir"]);
    assert_eq!(code, 1);
    assert!(err.contains("could not be saved"), "{err}");
}
