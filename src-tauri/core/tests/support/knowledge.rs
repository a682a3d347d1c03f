//! The knowledge tests' world: the fake Notion + Google Drive/Docs API of
//! tests/fixtures/knowledge-fake on loopback, the real OAuth server (support/oauth.rs) signing
//! in to `notion` and `google-docs`, and a providers file pointing both at the two servers.

use std::path::PathBuf;
use std::process::Child;
use std::time::Duration;

use pitchbar_core::connections::Connection;
use pitchbar_core::sources::{Source, SourceStatus, SourcesConfig};
use pitchbar_core::Core;
use serde_json::{json, Value};

use super::fixture::{fixture_dir, spawn_node};
use super::oauth::*;

/// The fake provider APIs; killed when dropped.
pub struct Fake {
    child: Child,
    pub port: u16,
    http: reqwest::Client,
}

impl Fake {
    pub fn start() -> Self {
        let (child, port) = spawn_node(
            &fixture_dir("knowledge-fake").join("server.mjs"),
            ["--port", "0"],
            None,
        );
        Self {
            child,
            port,
            http: super::client(),
        }
    }

    pub fn base(&self, provider: &str) -> String {
        format!("http://127.0.0.1:{}/{provider}", self.port)
    }

    /// A control call (`/_test/…`); panics unless it answers 200.
    pub async fn control(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("http://127.0.0.1:{}/_test/{path}", self.port);
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let resp = self
            .http
            .request(method, url)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        assert_eq!(status, 200, "control {path}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// The provider calls made so far (see the fixture's README).
    pub async fn calls(&self) -> Vec<Value> {
        self.control("GET", "calls", Value::Null).await["calls"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct World {
    pub ca: TestCa,
    pub oauth: OAuthServer,
    pub fake: Fake,
    pub data: tempfile::TempDir,
    pub providers: PathBuf,
    pub clock: TestClock,
}

/// Everything started.
pub fn world() -> World {
    prerequisites();
    let ca = TestCa::new();
    let oauth = OAuthServer::start(&ca);
    let fake = Fake::start();
    let data = tempfile::tempdir().unwrap();
    let providers = write_providers_file(ca.dir.path(), &ca, &oauth);
    // The same file, with the APIs pointed at the fake.
    let mut file: Value = serde_json::from_slice(&std::fs::read(&providers).unwrap()).unwrap();
    file["providers"]["notion"]["api_base_url"] = json!(fake.base("notion"));
    file["providers"]["google-docs"]["api_base_url"] = json!(fake.base("google"));
    std::fs::write(&providers, serde_json::to_vec_pretty(&file).unwrap()).unwrap();
    World {
        ca,
        oauth,
        fake,
        data,
        providers,
        clock: TestClock::default(),
    }
}

/// Fast retries, so a scripted 429 or 500 does not hold a test up.
pub fn fast_config() -> SourcesConfig {
    SourcesConfig {
        retry_min_delay: Duration::from_millis(20),
        retry_times: 3,
        ..SourcesConfig::default()
    }
}

impl World {
    /// A Core on the world's data dir with its ingestion worker running.
    pub fn core(&self) -> Core {
        let core = core(
            self.data.path(),
            config(self.data.path(), &self.providers, &self.clock),
        );
        core.start_sources(fast_config()).unwrap();
        core
    }

    /// Signs in to `provider` as the user and the OS would.
    pub async fn connect(&self, core: &Core, provider: &str) -> Connection {
        sign_in(core, &self.ca, provider).await
    }
}

/// Waits (up to 60 s) until the source is ready or failed, and returns it.
pub async fn settled(core: &Core, id: &str) -> Source {
    let mut events = core.subscribe_sources();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let source = core.sources().get(id).unwrap();
        if matches!(source.status, SourceStatus::Ready | SourceStatus::Failed) {
            return source;
        }
        // Woken by the worker's announcements; the timeout only guards against a hang.
        let _ = tokio::time::timeout_at(deadline, events.recv()).await;
        assert!(
            tokio::time::Instant::now() < deadline,
            "source {id} never settled: {source:?}"
        );
    }
}
