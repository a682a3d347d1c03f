//! The notification tests' world: the fake Slack of tests/fixtures/slack-fake (Web API, Socket
//! Mode, Teams and Discord receivers on one loopback port) as a child process, and a providers
//! file pointing Slack's OAuth at the real OAuth server and its Web API at the fake.

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

use serde_json::{json, Value};

use super::fixture::{fixture_dir, spawn_node};
use super::oauth::{OAuthServer, TestCa, CLIENT_ID, CLIENT_SECRET};

/// The fake Slack; killed when dropped.
pub struct SlackFake {
    child: Option<Child>,
    pub port: u16,
    http: reqwest::Client,
}

impl SlackFake {
    pub fn start(log_dir: &Path) -> Self {
        let dir = fixture_dir("slack-fake");
        assert!(
            dir.join("node_modules/ws").exists(),
            "The fake Slack's packages are missing: run scripts/setup.sh --test \
             (or npm --prefix tests/fixtures/slack-fake ci)."
        );
        let (child, port) = spawn_node(
            &dir.join("server.mjs"),
            ["--port", "0", "--channels", "450"],
            Some(&log_dir.join("slack-fake.log")),
        );
        Self {
            child: Some(child),
            port,
            http: {
                let _ = rustls::crypto::ring::default_provider().install_default();
                reqwest::Client::new()
            },
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub async fn get(&self, path: &str) -> Value {
        self.http
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        self.http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Scripts the next answer(s) of a method (see the fixture's README).
    pub async fn script(&self, body: Value) {
        let r = self.post("/_test/script", body).await;
        assert_eq!(r["ok"], true, "{r}");
    }

    /// Messages in a channel, oldest first.
    pub async fn messages(&self, channel: &str) -> Vec<Value> {
        self.get(&format!("/_test/messages?channel={channel}"))
            .await["messages"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    pub async fn calls(&self, method: &str) -> Vec<Value> {
        self.get(&format!("/_test/calls?method={method}")).await["calls"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

impl Drop for SlackFake {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A providers file: Slack signs in at the OAuth server, its Web API is the fake; Teams and
/// Discord webhook URLs may point at the fake's receivers.
pub fn write_providers_file(
    dir: &Path,
    ca: &TestCa,
    server: &OAuthServer,
    fake: &SlackFake,
    app_token: Option<&str>,
) -> PathBuf {
    let mut slack = json!({
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "authorize_url": server.url("/auth"),
        "token_url": server.url("/token"),
        "revocation_url": server.url("/token/revocation"),
        "revocation_style": "rfc7009",
        "userinfo_url": server.url("/me"),
        "api_base_url": fake.url("/api"),
        "scopes": ["openid", "email", "profile"],
    });
    if let Some(token) = app_token {
        slack["app_token"] = json!(token);
    }
    let file = dir.join("providers.json");
    let body = json!({
        "ca_certificates": [ca.path("ca.pem")],
        "providers": {"slack": slack},
        "incoming_webhooks": {
            "microsoft-teams": {"url_prefix": fake.url("/teams/")},
            "discord": {"url_prefix": fake.url("/discord/api/webhooks/")},
        }
    });
    std::fs::write(&file, serde_json::to_vec_pretty(&body).unwrap()).unwrap();
    file
}

/// Polls `f` until it gives `Some`, for up to `secs` seconds.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
