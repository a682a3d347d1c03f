//! The local API's tests' world: a Core with the API on 127.0.0.1:0, its key from a real Secret
//! Service, the dispatcher running and a test receiver subscribed to every event (its
//! deliveries checked against the endpoint's secret); requests sent with the key, and the rows
//! the API writes counted.

use std::time::{Duration, Instant};

use pitchbar_core::api::ApiConfig;
use pitchbar_core::secret::Secret;
use pitchbar_core::webhooks::dispatcher::DispatcherConfig;
use pitchbar_core::webhooks::endpoints::{EndpointInput, Policy};
use pitchbar_core::webhooks::{verify, EventType};
use pitchbar_core::Core;
use serde_json::Value;

use super::dispatch::{endpoint, endpoint_with_secret};
use super::test_receiver::{header, Hit, TestReceiver};

pub struct World {
    pub _dir: tempfile::TempDir,
    pub core: Core,
    pub base: String,
    pub key: String,
    pub secret: Secret,
    pub receiver: TestReceiver,
    pub http: reqwest::Client,
}

/// A missing keychain fails the test.
pub async fn world() -> World {
    let (dir, core, owner) = super::workspace::owner_core();
    core.api_keys()
        .view()
        .expect("a Secret Service: run through scripts/with-keychain.sh");
    let key = core.api_keys().reveal(&owner).unwrap().expose().to_owned();

    let receiver = TestReceiver::start().await;
    let (_, secret) = endpoint_with_secret(
        &core,
        &owner,
        EndpointInput {
            description: "api test".into(),
            events: EventType::ALL.iter().map(|e| e.as_str().into()).collect(),
            timeout_ms: Some(2_000),
            ..endpoint(&receiver.url("/hook"), Policy::Single, None)
        },
    );
    core.start_dispatcher(DispatcherConfig::default()).unwrap();
    let addr = core.start_api(ApiConfig::on_port(0)).unwrap();
    assert!(addr.ip().is_loopback() && addr.port() != 0);
    World {
        _dir: dir,
        core,
        base: format!("http://{addr}"),
        key,
        secret,
        receiver,
        http: reqwest::Client::new(),
    }
}

impl World {
    pub async fn send(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let req = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .bearer_auth(&self.key);
        let req = match body {
            Some(body) => req
                .header("content-type", "application/json")
                .body(body.to_string()),
            None => req,
        };
        read(req).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send("POST", path, Some(body)).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send("GET", path, None).await
    }

    /// Every delivery of `event` the receiver got within `within`, once there are `n`.
    pub async fn received(&self, event: &str, n: usize, within: Duration) -> Vec<Value> {
        let deadline = Instant::now() + within;
        loop {
            let got: Vec<Value> = self
                .receiver
                .hits()
                .iter()
                .filter(|h| header(h, "x-pitchbar-event") == event)
                .map(|h| {
                    self.assert_signed(h);
                    serde_json::from_slice(&h.body).unwrap()
                })
                .collect();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{event}: {} of {n} deliveries within {within:?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    pub fn assert_signed(&self, hit: &Hit) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let signature = hit
            .headers
            .get("x-pitchbar-signature")
            .map(|v| v.to_str().unwrap());
        verify(
            signature,
            &hit.body,
            &[&self.secret],
            now,
            Duration::from_secs(300),
        )
        .expect("a valid signature");
    }

    pub fn count(&self, table: &str) -> i64 {
        self.core
            .store()
            .conn()
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    }

    /// Rows of every table the API writes, and accepted events.
    pub fn counts(&self) -> [i64; 5] {
        [
            "lead",
            "conversation",
            "message",
            "webhook_event",
            "webhook_delivery",
        ]
        .map(|t| self.count(t))
    }
}

pub async fn read(req: reqwest::RequestBuilder) -> (u16, Value) {
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

pub fn error_code(body: &Value) -> &str {
    body["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error shape: {body}"))
}

pub fn error_message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap()
}
