//! The destination tests' world: the provider fakes (support/apikeys.rs `Fakes`), the real OAuth
//! server signing in to HubSpot, Salesforce, Pipedrive and Mailchimp, one providers file pointing
//! each provider's API at its fake (`providers.<id>.api_base_url` for the OAuth ones,
//! `api_keys.<id>.base_url` for Freshdesk, ActiveCampaign, Segment and GA4), and a Core with an
//! Owner, an agent with custom lead fields and the destinations' worker on millisecond retries.

use std::path::{Path, PathBuf};
use std::time::Duration;

use pitchbar_core::agents::{AgentInput, LeadField};
use pitchbar_core::connections::Connection;
use pitchbar_core::conversations::{ConversationInput, MessageInput, ReasonInput, VisitorInput};
use pitchbar_core::destinations::{
    DestinationInput, DestinationOptions, DestinationsConfig, FieldMap, ItemStatus, SyncItem,
};
use pitchbar_core::leads::LeadInput;
use pitchbar_core::webhooks::events::Direction;
use pitchbar_core::webhooks::EventType;
use pitchbar_core::workspace::Actor;
use pitchbar_core::Core;
use serde_json::{json, Map, Value};

use super::apikeys::{Fakes, AC_TOKEN, FRESHDESK_KEY, GA_ID, SEGMENT_KEY};
use super::oauth::{self, OAuthServer, TestCa};

/// The OAuth providers the fakes answer, and their mounts.
const OAUTH_MOUNTS: &[(&str, &str)] = &[
    ("hubspot", "hubspot"),
    ("salesforce", "salesforce"),
    ("pipedrive", "pipedrive"),
    ("zendesk", "zendesk/acme"),
    ("mailchimp", "mailchimp"),
];

/// Retries in milliseconds, so a scripted 500 or 429 does not hold a test up.
pub fn fast_config() -> DestinationsConfig {
    DestinationsConfig {
        tick_max: Duration::from_millis(100),
        retry_min_delay: Duration::from_millis(20),
        retry_max_delay: Duration::from_millis(200),
        max_attempts: 5,
    }
}

pub struct World {
    pub ca: TestCa,
    pub oauth: OAuthServer,
    pub fakes: Fakes,
    pub data: tempfile::TempDir,
    pub providers: PathBuf,
    pub core: Core,
    pub owner: Actor,
    /// The agent whose leads carry `company`, `budget`, `topic` and `consent`.
    pub agent: String,
}

/// Everything started, with a request timeout of `timeout` (short for the lost-answer tests)
/// and the worker's `config`.
pub fn world_with(timeout: Duration, config: DestinationsConfig) -> World {
    super::require::keychain();
    oauth::prerequisites();
    let ca = TestCa::new();
    let server = OAuthServer::start(&ca);
    let fakes = Fakes::start();
    let data = tempfile::tempdir().unwrap();
    let providers = providers_file(ca.dir.path(), &ca, &server, fakes.port);
    let core = open_core(data.path(), &providers, timeout, config);
    let owner = oauth::actor(&core);
    let agent = agent(&core, &owner);
    World {
        ca,
        oauth: server,
        fakes,
        data,
        providers,
        core,
        owner,
        agent,
    }
}

pub fn world() -> World {
    world_with(Duration::from_secs(10), fast_config())
}

/// The OAuth test server's providers file, plus every destination's API at the fakes.
pub fn providers_file(dir: &Path, ca: &TestCa, server: &OAuthServer, port: u16) -> PathBuf {
    let path = oauth::write_providers_file(dir, ca, server);
    let mut file: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let base = |p: &str| format!("http://127.0.0.1:{port}/{p}");
    for (id, mount) in OAUTH_MOUNTS {
        // The test server's endpoints, as the file gives them to Google Docs (Mailchimp has
        // its own entry, with its metadata endpoint).
        let mut p = match file["providers"].get(*id) {
            Some(p) => p.clone(),
            None => file["providers"]["google-docs"].clone(),
        };
        p["api_base_url"] = json!(base(mount));
        file["providers"][*id] = p;
    }
    file["api_keys"] = json!({
        "freshdesk": { "base_url": base("freshdesk/{subdomain}") },
        "activecampaign": { "base_url": base("activecampaign") },
        "segment": { "base_url": base("segment") },
        "google-analytics": { "base_url": base("ga4") },
    });
    std::fs::write(&path, serde_json::to_vec_pretty(&file).unwrap()).unwrap();
    path
}

/// A Core on `dir` (its Owner made the first time) with the destinations' worker running.
pub fn open_core(
    dir: &Path,
    providers: &Path,
    timeout: Duration,
    worker: DestinationsConfig,
) -> Core {
    let mut config = oauth::config(dir, providers, &oauth::TestClock::default());
    config.request_timeout = timeout;
    let core = oauth::core(dir, config);
    core.start_destinations(worker);
    core
}

/// One sign-in at a time: a provider's loopback redirect listens on one fixed port.
static SIGN_IN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn agent(core: &Core, owner: &Actor) -> String {
    let field = |key: &str, label: &str| LeadField {
        key: key.into(),
        label: label.into(),
        required: false,
    };
    core.agents()
        .create(
            owner,
            AgentInput {
                name: "Sales bot".into(),
                lead_fields: vec![
                    field("company", "Company"),
                    field("budget", "Budget"),
                    field("topic", "Chat topic"),
                    field("consent", "Marketing consent"),
                ],
            },
        )
        .unwrap()
        .id
}

impl World {
    /// Connects `provider`: signs in (OAuth) or enters the fake's accepted keys.
    pub async fn connect(&self, provider: &str) -> Connection {
        let keys: &[(&str, &str)] = match provider {
            "freshdesk" => &[("subdomain", "acme"), ("api_key", FRESHDESK_KEY)],
            "activecampaign" => &[
                ("api_url", "https://acme.api-us1.com"),
                ("api_key", AC_TOKEN),
            ],
            "segment" => &[("write_key", SEGMENT_KEY)],
            "google-analytics" => &[("measurement_id", GA_ID), ("api_secret", "secret-0001")],
            "zendesk" => {
                // Zendesk signs in per account: its OAuth app names the subdomain.
                let mut app = oauth::app_input("zendesk");
                app.subdomain = Some("acme".into());
                self.core.oauth().save_app(&self.owner, app).await.unwrap();
                let _one = SIGN_IN.lock().await;
                return oauth::sign_in(&self.core, &self.ca, provider).await;
            }
            _ => {
                let _one = SIGN_IN.lock().await;
                return oauth::sign_in(&self.core, &self.ca, provider).await;
            }
        };
        let values = keys
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.core
            .api_key_connections()
            .connect(&self.owner, provider, values)
            .await
            .unwrap()
    }

    /// Saves the destination's configuration.
    pub async fn configure(
        &self,
        provider: &str,
        events: &[EventType],
        mapping: &[(&str, &str)],
        options: DestinationOptions,
    ) -> pitchbar_core::Result<pitchbar_core::destinations::Destination> {
        self.core
            .destinations()
            .save(
                &self.owner,
                provider,
                DestinationInput {
                    events: events.to_vec(),
                    mapping: mapping
                        .iter()
                        .map(|(from, to)| FieldMap {
                            from: (*from).into(),
                            to: (*to).into(),
                        })
                        .collect(),
                    options,
                },
            )
            .await
    }

    /// A lead of the agent, as the widget would capture it.
    pub fn lead(&self, name: &str, email: &str, fields: Value) -> pitchbar_core::leads::Lead {
        self.lead_in(None, name, email, fields)
    }

    pub fn lead_in(
        &self,
        conversation: Option<&str>,
        name: &str,
        email: &str,
        fields: Value,
    ) -> pitchbar_core::leads::Lead {
        let fields: Map<String, Value> = fields.as_object().cloned().unwrap_or_default();
        self.core
            .leads()
            .capture(LeadInput {
                agent_id: conversation.is_none().then(|| self.agent.clone()),
                conversation_id: conversation.map(str::to_owned),
                name: (!name.is_empty()).then(|| name.to_owned()),
                email: (!email.is_empty()).then(|| email.to_owned()),
                phone: Some("+1 415 555 0100".into()),
                fields,
            })
            .unwrap()
    }

    /// A conversation with a visitor, two messages and a lead captured in it.
    pub fn conversation(&self, email: &str) -> (String, pitchbar_core::leads::Lead) {
        let c = self
            .core
            .conversations()
            .start(ConversationInput {
                agent_id: Some(self.agent.clone()),
                visitor: Some(VisitorInput {
                    id: None,
                    name: Some("Grace Hopper".into()),
                    email: (!email.is_empty()).then(|| email.to_owned()),
                    phone: None,
                }),
            })
            .unwrap();
        self.say(&c.id, true, "Hi, I need a quote for 40 seats.");
        self.say(&c.id, false, "Happy to help! What is your email?");
        let lead = self.lead_in(
            Some(&c.id),
            "Grace Hopper",
            email,
            json!({"company": "Navy"}),
        );
        (c.id, lead)
    }

    pub fn say(&self, conversation: &str, inbound: bool, text: &str) {
        self.core
            .conversations()
            .add_message(
                conversation,
                MessageInput {
                    direction: if inbound {
                        Direction::Inbound
                    } else {
                        Direction::Outbound
                    },
                    text: text.into(),
                },
            )
            .unwrap();
    }

    pub fn route(&self, conversation: &str) {
        self.core
            .conversations()
            .route(
                conversation,
                ReasonInput {
                    reason: Some("Wants a human for pricing.".into()),
                },
            )
            .unwrap();
    }

    pub fn close(&self, conversation: &str) {
        self.core
            .conversations()
            .close(conversation, ReasonInput { reason: None })
            .unwrap();
    }

    /// The fake's records of `provider` (`/_test/state/<provider>`).
    pub async fn state(&self, provider: &str) -> Value {
        self.fakes
            .control("GET", &format!("state/{provider}"), Value::Null)
            .await
    }

    /// The calls the fake got for `provider` (its mount's first segment).
    pub async fn calls_to(&self, provider: &str) -> Vec<Value> {
        self.fakes
            .calls()
            .await
            .into_iter()
            .filter(|c| c["provider"] == provider)
            .collect()
    }

    /// Waits (up to 30 s) until nothing is pending for `provider`; returns its items.
    pub async fn settled(&self, provider: &str) -> Vec<SyncItem> {
        settled(&self.core, provider, Duration::from_secs(30)).await
    }
}

/// Waits until `provider`'s queue has items and none is pending; returns them, newest first.
pub async fn settled(core: &Core, provider: &str, within: Duration) -> Vec<SyncItem> {
    let mut changes = core.subscribe_destinations();
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let items = core.destinations().items(provider, None, 500).unwrap();
        if !items.is_empty() && items.iter().all(|i| i.status != ItemStatus::Pending) {
            return items;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{provider}'s queue never settled: {items:#?}"
        );
        // Woken by the worker's announcements; the short timeout guards against a missed one.
        let _ = tokio::time::timeout(Duration::from_millis(200), changes.recv()).await;
    }
}

/// Each item's status, oldest first.
pub fn statuses(items: &[SyncItem]) -> Vec<ItemStatus> {
    items.iter().rev().map(|i| i.status).collect()
}
