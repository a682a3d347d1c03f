//! The API-key connection tests' world: the provider fakes of tests/fixtures/provider-fakes on
//! loopback, a providers file pointing every API-key integration at them, a Core with an Owner
//! on a real SQLite file and the real keychain, and every log line the test wrote.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::Child;
use std::sync::{Arc, Mutex, OnceLock};

use pitchbar_core::workspace::Actor;
use pitchbar_core::Core;
use serde_json::{json, Value};

use super::fixture::{fixture_dir, spawn_node};

/// The credentials each fake accepts (tests/fixtures/provider-fakes/providers/*.mjs).
pub const FRESHDESK_KEY: &str = "fd-test-key-0001";
pub const SHOPIFY_TOKEN: &str = "shpat_test_0001";
pub const WOO_KEY: &str = "ck_test_0001";
pub const WOO_SECRET: &str = "cs_test_0001";
pub const AC_TOKEN: &str = "ac-test-token-0001";
pub const WHATSAPP_TOKEN: &str = "EAAtest0001";
pub const WHATSAPP_PHONE: &str = "106540352242922";
pub const SEGMENT_KEY: &str = "segWriteKeyTest0001";
pub const GA_ID: &str = "G-TEST0001";

/// The fakes; killed when dropped.
pub struct Fakes {
    child: Child,
    pub port: u16,
}

impl Fakes {
    pub fn start() -> Self {
        let (child, port) = spawn_node(
            &fixture_dir("provider-fakes").join("server.mjs"),
            ["--port", "0"],
            None,
        );
        Self { child, port }
    }

    /// A control call (`/_test/…`); panics unless it answers 200.
    pub async fn control(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("http://127.0.0.1:{}/_test/{path}", self.port);
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let resp = super::client()
            .request(method, url)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "control {path}");
        resp.json().await.unwrap_or(Value::Null)
    }

    /// The provider calls made so far.
    pub async fn calls(&self) -> Vec<Value> {
        self.control("GET", "calls", Value::Null).await["calls"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

impl Drop for Fakes {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A providers file sending every API-key integration's checks to `port`.
pub fn providers_file(dir: &std::path::Path, port: u16) -> PathBuf {
    let base = |p: &str| format!("http://127.0.0.1:{port}/{p}");
    let file = json!({
        "api_keys": {
            "freshdesk": { "base_url": base("freshdesk/{subdomain}") },
            "shopify": { "base_url": base("shopify/{shop}") },
            "woocommerce": { "base_url": base("woocommerce") },
            "activecampaign": { "base_url": base("activecampaign") },
            "whatsapp-business": { "base_url": base("whatsapp") },
            "segment": { "base_url": base("segment") },
            "google-analytics": { "base_url": base("ga4") }
        }
    });
    let path = dir.join("providers.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&file).unwrap()).unwrap();
    path
}

pub struct World {
    pub fakes: Fakes,
    pub data: tempfile::TempDir,
    pub core: Core,
    pub owner: Actor,
}

impl World {
    /// The fakes, a data dir with its providers file, a Core with an Owner; the keychain
    /// must be usable.
    pub fn new() -> Self {
        super::require::keychain();
        capture_logs();
        let fakes = Fakes::start();
        let data = tempfile::tempdir().unwrap();
        let providers = providers_file(data.path(), fakes.port);
        let config =
            pitchbar_core::oauth::OAuthConfig::new(data.path()).with_providers_file(providers);
        let core = super::oauth::core(data.path(), config);
        let owner = super::oauth::actor(&core);
        Self {
            fakes,
            data,
            core,
            owner,
        }
    }

    pub async fn connect(
        &self,
        provider: &str,
        values: &[(&str, &str)],
    ) -> pitchbar_core::Result<pitchbar_core::connections::Connection> {
        let values: BTreeMap<String, String> = values
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.core
            .api_key_connections()
            .connect(&self.owner, provider, values)
            .await
    }

    /// The credentials kept for `connection_id`, as the keychain holds them.
    pub fn stored(&self, connection_id: &str) -> Option<Value> {
        let ws = super::oauth::workspace_id(&self.core);
        let key = pitchbar_core::vault::VaultKey::new(
            &ws,
            &format!("connection/{connection_id}/credentials"),
        )
        .unwrap();
        self.core
            .vault()
            .get(&key)
            .unwrap()
            .map(|s| serde_json::from_str(s.expose()).unwrap())
    }

    /// The connections listed on the Connected tab.
    pub fn listed(&self) -> Vec<pitchbar_core::connections::Connection> {
        pitchbar_core::connections::list(self.core.store()).unwrap()
    }
}

/// Every log line written by this test binary so far.
pub fn logs() -> String {
    String::from_utf8_lossy(&LOGS.get_or_init(Default::default).lock().unwrap()).into_owned()
}

static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

#[derive(Clone)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Sends every log line of this binary, at every level, to [`logs`].
fn capture_logs() {
    let sink = Sink(LOGS.get_or_init(Default::default).clone());
    let _ = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .try_init();
}
