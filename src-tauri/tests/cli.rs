//! The CLI as people run it: the real `pitchbar-admin` binary in separate processes, no
//! display. `listen` in one, `trigger` from another, the verdicts read from `listen --json`;
//! `verify` and its exit codes.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

const SECRET: &str = "whsec_cli_test_secret_0123456789abcdef";

fn app() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pitchbar-admin"));
    // Never a window: these tests must pass without a display.
    cmd.env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY");
    cmd.env_remove("PITCHBAR_WEBHOOK_SECRET");
    cmd
}

struct Listener {
    child: Child,
    lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
    url: String,
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn listen(data_dir: &std::path::Path) -> Listener {
    let mut child = app()
        .args([
            "listen",
            "--port",
            "0",
            "--secret",
            SECRET,
            "--json",
            "--data-dir",
        ])
        .arg(data_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_owned();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    Listener { child, lines, url }
}

fn trigger(url: &str, secret: &str) -> (i32, Value) {
    let out = app()
        .args([
            "trigger",
            "lead.captured",
            "--url",
            url,
            "--secret",
            secret,
            "--json",
        ])
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code().unwrap(), json)
}

#[test]
fn listen_in_one_process_trigger_from_another_and_read_the_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let mut listener = listen(dir.path());
    let url = format!("{}hooks/pitchbar", listener.url);

    let (code, sent) = trigger(&url, SECRET);
    assert_eq!(code, 0, "{sent}");
    let line: Value = serde_json::from_str(&listener.lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(line["path"], "/hooks/pitchbar");
    assert_eq!(line["event"], "lead.captured");
    assert_eq!(line["delivery_id"], sent["delivery_id"]);
    assert_eq!(line["verdict"]["valid"], true);
    assert_eq!(line["verdict"]["code"], "valid");

    // Signed with another secret: delivered (the receiver answers 200) but not verified.
    let (code, _) = trigger(&url, "whsec_someone_else_entirely_000000");
    assert_eq!(code, 0);
    let line: Value = serde_json::from_str(&listener.lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(line["verdict"]["valid"], false);
    assert_eq!(line["verdict"]["code"], "body_altered_or_wrong_secret");

    // SIGTERM ends it cleanly, and what it received stays in the data folder.
    terminate(&listener.child);
    let status = listener.child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert!(dir.path().join("pitchbar.db").exists());
}

fn terminate(child: &Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    std::thread::sleep(Duration::from_millis(50));
}

#[test]
fn verify_says_valid_or_why_not_with_its_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let body = br#"{"event":"lead.captured","occurred_at":"2026-01-01T00:00:00Z","data":{}}"#;
    let file = dir.path().join("body.json");
    std::fs::write(&file, body).unwrap();
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = pitchbar_core::webhooks::sign(
        &[&pitchbar_core::secret::Secret::new(SECRET)],
        t as i64,
        body,
    );
    let run = |secret: &str, header: &str| {
        app()
            .args([
                "verify",
                "--secret",
                secret,
                "--header",
                header,
                "--json",
                "--body-file",
            ])
            .arg(&file)
            .output()
            .unwrap()
    };
    let ok = run(SECRET, &header);
    assert_eq!(ok.status.code(), Some(0));
    let verdict: Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(verdict["code"], "valid");

    let bad = run("whsec_not_the_one_000000000000", &header);
    assert_eq!(bad.status.code(), Some(1));
    let verdict: Value = serde_json::from_slice(&bad.stdout).unwrap();
    assert_eq!(verdict["code"], "body_altered_or_wrong_secret");

    let malformed = run(SECRET, "v1=abc");
    assert_eq!(malformed.status.code(), Some(1));
    let verdict: Value = serde_json::from_slice(&malformed.stdout).unwrap();
    assert_eq!(verdict["code"], "header_malformed");

    let usage = app().args(["verify", "--secret", SECRET]).output().unwrap();
    assert_eq!(usage.status.code(), Some(2));
    let missing = app()
        .args([
            "verify",
            "--secret",
            SECRET,
            "--header",
            &header,
            "--body-file",
            "/nonexistent/body",
        ])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read the body file"));
}

/// A mistyped command is a usage error naming the command meant, and the window without a
/// display says what to do: neither starts GTK (which panicked with exit 101).
#[test]
fn a_mistyped_command_or_no_display_is_a_clear_message_not_a_panic() {
    let out = app().arg("lisen").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("Did you mean `listen`?"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    for args in [&[][..], &["pitchbar://oauth/callback?code=x&state=y"][..]] {
        let out = app().args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.starts_with("No display found"), "{stderr}");
        assert!(stderr.contains("pitchbar-admin serve"), "{stderr}");
    }
}
