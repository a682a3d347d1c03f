//! The notification tests' world: the fake Slack of tests/fixtures/slack-fake (Web API, Socket
//! Mode, Teams and Discord receivers on one loopback port) as a child process, and a providers
//! file pointing Slack's OAuth at the real OAuth server and its Web API at the fake; and the
//! notification tests' world built on them, with a Core whose notifier is ready for Slack.

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

use pitchbar_core::leads::LeadInput;
use pitchbar_core::notify::{
    NotifyConfig, NotifyTarget, NotifyToggles, SlackSettings, WebhookSettings,
};
use pitchbar_core::Core;
use serde_json::{json, Value};

use super::fixture::{fixture_dir, spawn_node};
use super::oauth::{
    actor, config, core, prerequisites, sign_in, OAuthServer, TestCa, TestClock, CLIENT_ID,
    CLIENT_SECRET,
};

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
            http: super::client(),
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

// ---------------------------------------------------------------------------------------------
// The notification tests' world: the OAuth server, the fake Slack, a data dir and a clock.

/// Everything a notification test starts; the servers are killed when it is dropped.
pub struct World {
    pub server: OAuthServer,
    pub fake: SlackFake,
    pub data: tempfile::TempDir,
    pub clock: TestClock,
    pub providers: std::path::PathBuf,
    pub ca: TestCa,
}

pub fn world(app_token: Option<&str>) -> World {
    prerequisites();
    let ca = TestCa::new();
    let server = OAuthServer::start(&ca);
    let data = tempfile::tempdir().unwrap();
    let fake = SlackFake::start(ca.dir.path());
    let providers = write_providers_file(ca.dir.path(), &ca, &server, &fake, app_token);
    World {
        server,
        fake,
        data,
        clock: TestClock::default(),
        providers,
        ca,
    }
}

impl World {
    pub fn core(&self) -> Core {
        core(
            self.data.path(),
            config(self.data.path(), &self.providers, &self.clock),
        )
    }

    pub fn notify_config(&self) -> NotifyConfig {
        NotifyConfig {
            clock: self.clock.clock(),
            time_zone: jiff::tz::TimeZone::UTC,
            retry_min_delay: Duration::from_millis(100),
            retry_max_delay: Duration::from_millis(400),
            max_attempts: 3,
            reconnect_min_delay: Duration::from_millis(100),
            reconnect_max_delay: Duration::from_millis(500),
            request_timeout: Duration::from_secs(5),
            tick_max: Duration::from_millis(100),
        }
    }

    /// Connects Slack through the OAuth server, as the user would.
    pub async fn connect_slack(&self, core: &Core) -> String {
        sign_in(core, &self.ca, "slack").await.id
    }

    pub async fn slack_ready(&self, toggles: NotifyToggles, reply: bool) -> Core {
        let core = self.core();
        core.start_notifier(self.notify_config());
        self.connect_slack(&core).await;
        configure_slack(&core, toggles, reply, "09:00").await;
        core
    }
}

/// Sends Slack notifications of `toggles` to #support-alerts, the daily summary at
/// `summary_time`.
pub async fn configure_slack(core: &Core, toggles: NotifyToggles, reply: bool, summary_time: &str) {
    configure_replies(core, toggles, reply, summary_time, &[])
        .await
        .unwrap();
}

/// The same, replies taken only from the Slack members `reply_users` (empty: anyone of the
/// connected workspace).
pub async fn configure_replies(
    core: &Core,
    toggles: NotifyToggles,
    reply: bool,
    summary_time: &str,
    reply_users: &[&str],
) -> pitchbar_core::Result<NotifyTarget> {
    core.notifications()
        .configure_slack(
            &actor(core),
            SlackSettings {
                channel_id: "C0SUPPORT".into(),
                toggles,
                reply_from_slack: reply,
                reply_users: reply_users.iter().map(|u| u.to_string()).collect(),
                summary_time: summary_time.into(),
            },
        )
        .await
}

pub fn leads_only() -> NotifyToggles {
    NotifyToggles {
        new_leads: true,
        new_conversations: false,
        escalations: false,
        all_messages: false,
        daily_summary: false,
    }
}

pub fn lead(core: &Core, name: &str) {
    core.leads()
        .capture(LeadInput {
            name: Some(name.into()),
            email: Some("ada@example.com".into()),
            phone: Some("+44 20 7946 0000".into()),
            ..Default::default()
        })
        .unwrap();
}

pub fn target(core: &Core, provider: &str) -> NotifyTarget {
    core.notifications().get(provider).unwrap().unwrap()
}

/// Waits (up to 10 s) until `provider`'s card shows an error, and returns it.
pub async fn error_on_card(core: &Core, provider: &str, what: &str) -> NotifyTarget {
    eventually(10, what, || async {
        let t = target(core, provider);
        t.last_error.is_some().then_some(t)
    })
    .await
}

pub async fn bot_posts(w: &World, n: usize) -> Vec<Value> {
    eventually(
        10,
        &format!("{n} bot message(s) in #support-alerts"),
        || async {
            let all: Vec<Value> = w
                .fake
                .messages("C0SUPPORT")
                .await
                .into_iter()
                .filter(|m| m["bot_id"].is_string())
                .collect();
            (all.len() >= n).then_some(all)
        },
    )
    .await
}

pub fn webhook(provider: &str, url: Option<String>) -> WebhookSettings {
    WebhookSettings {
        provider: provider.into(),
        url,
        toggles: leads_only(),
        summary_time: "09:00".into(),
    }
}
