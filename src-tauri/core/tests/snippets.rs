//! The code snippets, run for real: each receiver is written to a temp dir with a real
//! endpoint's secret, started with its interpreter on a free port, and sent real deliveries by
//! the running dispatcher (logged 2xx), then a tampered body and an old timestamp by hand
//! (400), then a delivery during a secret rotation's overlap, which the snippet holding the
//! OLD secret must still accept. Every language's tool must be installed (scripts/setup.sh
//! --test installs them from Debian): a missing one fails its test and names the package.

mod support;

use std::net::{Ipv4Addr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pitchbar_core::secret::Secret;
use pitchbar_core::webhooks::dispatcher::DispatcherConfig;
use pitchbar_core::webhooks::endpoints::{EndpointInput, Policy};
use pitchbar_core::webhooks::log::{AttemptDetail, LogQuery};
use pitchbar_core::webhooks::signing::{parse_signature_header, sign, SIGNATURE_HEADER};
use pitchbar_core::webhooks::snippets::{snippet, Language};
use pitchbar_core::webhooks::EventType;
use pitchbar_core::Core;
use support::dispatch::{endpoint, endpoint_with_secret};

/// The others start in well under a second; Go is built before it starts.
const START_TIMEOUT: Duration = Duration::from_secs(30);

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The program that runs `lang`'s snippet, its version flag, and the Debian package with it.
fn runtime(lang: Language) -> (&'static str, &'static str, &'static str) {
    match lang {
        Language::Node => ("node", "--version", "nodejs"),
        Language::Python => ("python3", "--version", "python3"),
        Language::Php => ("php", "--version", "php-cli"),
        Language::Ruby => ("ruby", "--version", "ruby"),
        Language::Go => ("go", "version", "golang-go"),
        Language::Rust => unreachable!("the Rust snippet is a function, tested in the crate"),
    }
}

/// A snippet's process, killed when the test ends however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `lang`'s snippet from `dir` on `port` and waits until it accepts connections.
fn start(lang: Language, dir: &Path, port: u16) -> Running {
    let file = dir.join(lang.file_name());
    let mut cmd = match lang {
        Language::Node => Command::new("node"),
        Language::Python => Command::new("python3"),
        Language::Ruby => Command::new("ruby"),
        Language::Php => {
            let mut c = Command::new("php");
            c.arg("-S").arg(format!("127.0.0.1:{port}"));
            c
        }
        Language::Go => {
            // Built first and run directly: killing `go run` would leave its child listening.
            let bin = dir.join("receiver");
            let built = Command::new("go")
                .arg("build")
                .arg("-o")
                .arg(&bin)
                .arg(&file)
                .current_dir(dir)
                // Outside the throwaway HOME, so the standard library builds once per machine.
                .env(
                    "GOCACHE",
                    std::env::temp_dir().join("pitchbar-snippets-gocache"),
                )
                .output()
                .expect("running go build");
            assert!(
                built.status.success(),
                "the Go snippet does not build: {}",
                String::from_utf8_lossy(&built.stderr)
            );
            Command::new(bin)
        }
        Language::Rust => unreachable!("the Rust snippet is a function, tested in the crate"),
    };
    if lang != Language::Go {
        cmd.arg(&file);
    }
    // Kept out of the test's output, and shown if the snippet fails to start.
    let log = dir.join("receiver.log");
    let child = cmd
        .current_dir(dir)
        .env("PORT", port.to_string())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::create(dir.join("receiver.err")).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("starting the {lang:?} snippet: {e}"));
    let mut running = Running(child);
    let deadline = Instant::now() + START_TIMEOUT;
    while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
        if let Some(status) = running.0.try_wait().unwrap() {
            panic!(
                "the {lang:?} snippet exited before listening ({status}): {}{}",
                std::fs::read_to_string(&log).unwrap_or_default(),
                std::fs::read_to_string(dir.join("receiver.err")).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "the {lang:?} snippet never listened"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    running
}

/// Sends a test event through the running dispatcher and returns its logged attempt.
async fn deliver(
    core: &Core,
    actor: &pitchbar_core::workspace::Actor,
    endpoint_id: &str,
) -> AttemptDetail {
    let delivery_id = core
        .webhook_deliveries()
        .send_test(actor, endpoint_id, EventType::LeadCaptured, None)
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let page = core
            .delivery_log()
            .list(&LogQuery {
                endpoint_id: Some(endpoint_id.to_owned()),
                ..LogQuery::default()
            })
            .unwrap();
        if let Some(a) = page.attempts.iter().find(|a| a.delivery_id == delivery_id) {
            return core.delivery_log().get(a.id).unwrap();
        }
        assert!(Instant::now() < deadline, "the delivery was never logged");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// POSTs `body` with `signature` by hand; returns the status and the answer's text.
async fn post(url: &str, signature: &str, body: &[u8]) -> (u16, String) {
    let resp = reqwest::Client::new()
        .post(url)
        .header("Content-Type", "application/json")
        .header(SIGNATURE_HEADER, signature)
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

async fn snippet_accepts_real_deliveries(lang: Language) {
    let (tool, version_flag, debian_package) = runtime(lang);
    support::require::tool(tool, version_flag, debian_package);
    let dir = tempfile::tempdir().unwrap();
    let (core, actor) = support::workspace::owner_core_at(&dir.path().join("data"));
    let port = support::free_port();
    let url = format!("http://127.0.0.1:{port}/webhooks/pitchbar");
    let (ep, old_secret) = endpoint_with_secret(
        &core,
        &actor,
        EndpointInput {
            description: format!("{} snippet", lang.label()),
            timeout_ms: Some(10_000),
            ..endpoint(&url, Policy::Single, None)
        },
    );
    let code = snippet(lang, old_secret.expose());
    std::fs::write(dir.path().join(lang.file_name()), code).unwrap();
    let _receiver = start(lang, dir.path(), port);
    core.start_dispatcher(DispatcherConfig::default()).unwrap();

    // A real delivery, answered 2xx (the log says so).
    let first = deliver(&core, &actor, &ep.id).await;
    assert_eq!(
        first.summary.response_status,
        Some(200),
        "{lang:?} refused a real delivery: {:?} {:?}",
        first.response_body_text(),
        first.error_message
    );
    assert!(first.summary.ok);

    // The same bytes tampered with, and the same bytes signed 10 minutes ago: 400 with a reason.
    let body = first.request_body.clone();
    let mut tampered = body.clone();
    let at = tampered.len() / 2;
    tampered[at] = if tampered[at] == b'a' { b'b' } else { b'a' };
    let fresh = sign(&[&old_secret], now(), &body);
    let (status, text) = post(&url, &fresh, &tampered).await;
    assert_eq!(status, 400, "{lang:?} accepted a tampered body: {text}");
    assert!(text.contains("signature mismatch"), "{lang:?}: {text}");
    let old = sign(&[&old_secret], now() - 600, &body);
    let (status, text) = post(&url, &old, &body).await;
    assert_eq!(status, 400, "{lang:?} accepted an old timestamp: {text}");
    assert!(text.contains("timestamp"), "{lang:?}: {text}");
    let (status, _) = post(&url, "t=1,v1=zz", &body).await;
    assert_eq!(status, 400, "{lang:?} accepted a malformed header");
    let wrong = sign(&[&Secret::new("whsec_not_the_secret")], now(), &body);
    let (status, _) = post(&url, &wrong, &body).await;
    assert_eq!(status, 400, "{lang:?} accepted another secret's signature");

    // During a rotation's overlap the delivery carries two v1 (new first); the snippet still
    // holds the old secret and accepts it.
    core.webhook_endpoints()
        .rotate_secret(&actor, &ep.id, Duration::from_secs(3600))
        .unwrap();
    let rotated = deliver(&core, &actor, &ep.id).await;
    let header = rotated.request_header(SIGNATURE_HEADER).unwrap();
    assert_eq!(
        parse_signature_header(header).unwrap().v1.len(),
        2,
        "{header}"
    );
    assert_eq!(
        rotated.summary.response_status,
        Some(200),
        "{lang:?} with the old secret refused an overlap delivery: {:?}",
        rotated.response_body_text()
    );

    core.stop_dispatcher().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_snippet_verifies_real_deliveries() {
    snippet_accepts_real_deliveries(Language::Node).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_snippet_verifies_real_deliveries() {
    snippet_accepts_real_deliveries(Language::Python).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn php_snippet_verifies_real_deliveries() {
    snippet_accepts_real_deliveries(Language::Php).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ruby_snippet_verifies_real_deliveries() {
    snippet_accepts_real_deliveries(Language::Ruby).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_snippet_verifies_real_deliveries() {
    snippet_accepts_real_deliveries(Language::Go).await;
}
