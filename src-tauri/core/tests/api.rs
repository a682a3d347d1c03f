//! The local API for real: the server on 127.0.0.1:0, a real SQLite file, the dispatcher running
//! and a real receiver subscribed to every event. The API key lives in a real Secret Service:
//! run through `scripts/with-keychain.sh`; without one every test here fails.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use pitchbar_core::api::{ApiConfig, ROUTES};
use pitchbar_core::secret::Secret;
use pitchbar_core::webhooks::dispatcher::DispatcherConfig;
use pitchbar_core::webhooks::endpoints::{EndpointInput, Policy};
use pitchbar_core::webhooks::{verify, EventType};
use pitchbar_core::workspace::{MemberInput, Role};
use pitchbar_core::Core;
use serde_json::{json, Value};

#[derive(Clone, Debug)]
struct Hit {
    headers: HeaderMap,
    body: Bytes,
}

type Hits = Arc<Mutex<Vec<Hit>>>;

async fn record(State(hits): State<Hits>, headers: HeaderMap, body: Bytes) -> &'static str {
    hits.lock().unwrap().push(Hit { headers, body });
    "ok"
}

struct World {
    _dir: tempfile::TempDir,
    core: Core,
    base: String,
    key: String,
    secret: Secret,
    hits: Hits,
    http: reqwest::Client,
}

/// A missing keychain fails the test.
async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path()).unwrap();
    let member = |name: &str, email: &str, role| MemberInput {
        name: name.into(),
        email: email.into(),
        role,
    };
    core.workspaces()
        .set_up(
            "Acme",
            member("Olive Owner", "olive@acme.test", Role::Owner),
        )
        .unwrap();
    let owner = core.workspaces().actor().unwrap();
    core.api_keys()
        .view()
        .expect("a Secret Service: run through scripts/with-keychain.sh");
    let key = core.api_keys().reveal(&owner).unwrap().expose().to_owned();

    let hits: Hits = Hits::default();
    let app = axum::Router::new()
        .fallback(record)
        .with_state(hits.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let receiver = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let endpoint = core
        .webhook_endpoints()
        .create(
            &owner,
            EndpointInput {
                url: format!("http://{receiver}/hook"),
                description: "api test".into(),
                events: EventType::ALL.iter().map(|e| e.as_str().into()).collect(),
                active: true,
                policy: Policy::Single,
                max_attempts: None,
                timeout_ms: Some(2_000),
                standard_webhooks: false,
            },
        )
        .unwrap();
    let secret = core
        .webhook_endpoints()
        .reveal_secret(&owner, &endpoint.id)
        .unwrap();
    core.start_dispatcher(DispatcherConfig::default()).unwrap();
    let addr = core.start_api(ApiConfig { port: 0 }).unwrap();
    assert!(addr.ip().is_loopback() && addr.port() != 0);
    World {
        _dir: dir,
        core,
        base: format!("http://{addr}"),
        key,
        secret,
        hits,
        http: reqwest::Client::new(),
    }
}

impl World {
    async fn send(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
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

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send("POST", path, Some(body)).await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send("GET", path, None).await
    }

    /// Every delivery of `event` the receiver got within `within`, once there are `n`.
    async fn received(&self, event: &str, n: usize, within: Duration) -> Vec<Value> {
        let deadline = Instant::now() + within;
        loop {
            let got: Vec<Value> = self
                .hits
                .lock()
                .unwrap()
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

    fn assert_signed(&self, hit: &Hit) {
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

    fn count(&self, table: &str) -> i64 {
        self.core
            .store()
            .conn()
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    }

    /// Rows of every table the API writes, and accepted events.
    fn counts(&self) -> [i64; 5] {
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

async fn read(req: reqwest::RequestBuilder) -> (u16, Value) {
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn header<'a>(hit: &'a Hit, name: &str) -> &'a str {
    hit.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn keys(value: &Value) -> BTreeSet<&str> {
    value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error shape: {body}"))
}

fn error_message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lead_is_stored_and_delivered_signed_within_a_second() {
    let w = world().await;
    let started = Instant::now();
    let (status, lead) = w
        .post(
            "/v1/leads",
            json!({"name": "Alex Rivera", "email": "alex@example.com", "fields": {"company": "Acme"}}),
        )
        .await;
    assert_eq!(status, 201, "{lead}");
    let got = w.received("lead.captured", 1, Duration::from_secs(1)).await;
    assert!(started.elapsed() < Duration::from_secs(1));
    let payload = &got[0];
    assert_eq!(
        keys(payload),
        BTreeSet::from(["event", "occurred_at", "data"])
    );
    assert_eq!(payload["event"], "lead.captured");
    let data = &payload["data"];
    assert_eq!(
        keys(data),
        BTreeSet::from([
            "lead_id",
            "agent_id",
            "conversation_id",
            "name",
            "email",
            "phone",
            "fields"
        ])
    );
    assert_eq!(data["lead_id"], lead["id"]);
    assert_eq!(data["conversation_id"], Value::Null);
    assert_eq!(data["phone"], Value::Null);
    assert_eq!(data["fields"], json!({"company": "Acme"}));
    let default_agent = w.core.agents().default_agent().unwrap();
    assert_eq!(data["agent_id"], default_agent.id.as_str());
    assert_eq!(w.count("lead"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lead_list_pages_newest_first() {
    let w = world().await;
    let mut made = Vec::new();
    for i in 0..5 {
        let (status, lead) = w
            .post("/v1/leads", json!({"name": format!("Lead {i}")}))
            .await;
        assert_eq!(status, 201);
        made.push(lead["id"].as_str().unwrap().to_owned());
    }
    let mut seen = Vec::new();
    let mut path = "/v1/leads?limit=2".to_owned();
    let mut pages = 0;
    loop {
        let (status, page) = w.get(&path).await;
        assert_eq!(status, 200, "{page}");
        pages += 1;
        for lead in page["leads"].as_array().unwrap() {
            let at = lead["created_at"].as_str().unwrap().to_owned();
            seen.push((at, lead["id"].as_str().unwrap().to_owned()));
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/leads?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    // Newest first; leads of the same millisecond in ID order, so pages never skip or repeat.
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest first");
    let ids: BTreeSet<String> = seen.into_iter().map(|(_, id)| id).collect();
    assert_eq!(ids, made.into_iter().collect(), "every lead exactly once");

    let (_, all) = w.get("/v1/leads").await;
    let since = all["leads"][1]["created_at"].as_str().unwrap().to_owned();
    let (status, page) = w.get(&format!("/v1/leads?since={since}")).await;
    assert_eq!(status, 200);
    assert!((2..=5).contains(&page["leads"].as_array().unwrap().len()));

    let (status, body) = w.get("/v1/leads?cursor=nonsense").await;
    assert_eq!((status, error_code(&body)), (422, "invalid_input"));
    let (status, body) = w.get("/v1/leads?limit=many").await;
    assert_eq!((status, error_code(&body)), (422, "invalid_input"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_fires_each_of_its_events() {
    let w = world().await;
    let (status, conv) = w
        .post(
            "/v1/conversations",
            json!({"visitor": {"name": "Sam", "email": "sam@example.com"}}),
        )
        .await;
    assert_eq!(status, 201, "{conv}");
    assert_eq!(conv["status"], "open");
    let id = conv["id"].as_str().unwrap();
    let (status, msg) = w
        .post(
            &format!("/v1/conversations/{id}/messages"),
            json!({"direction": "inbound", "text": "Hi"}),
        )
        .await;
    assert_eq!(status, 201, "{msg}");
    let (status, _) = w
        .post(
            &format!("/v1/conversations/{id}/messages"),
            json!({"direction": "outbound", "text": "Hello!"}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, routed) = w
        .post(
            &format!("/v1/conversations/{id}/route"),
            json!({"reason": "Asked for sales"}),
        )
        .await;
    assert_eq!((status, routed["status"].as_str()), (200, Some("routed")));
    let (status, closed) = w
        .send("POST", &format!("/v1/conversations/{id}/close"), None)
        .await;
    assert_eq!(
        (status, closed["status"].as_str()),
        (200, Some("closed")),
        "{closed}"
    );

    let within = Duration::from_secs(2);
    let started = w.received("conversation.started", 1, within).await;
    assert_eq!(started[0]["data"]["conversation_id"], id);
    assert_eq!(started[0]["data"]["visitor"]["name"], "Sam");
    assert_eq!(started[0]["data"]["visitor"]["phone"], Value::Null);
    let messages = w.received("conversation.message", 2, within).await;
    let directions: BTreeSet<&str> = messages
        .iter()
        .map(|m| m["data"]["direction"].as_str().unwrap())
        .collect();
    assert_eq!(directions, BTreeSet::from(["inbound", "outbound"]));
    let routed = w.received("conversation.routed", 1, within).await;
    assert_eq!(routed[0]["data"]["reason"], "Asked for sales");
    let closed = w.received("conversation.closed", 1, within).await;
    assert_eq!(closed[0]["data"]["message_count"], 2);
    assert_eq!(closed[0]["data"]["reason"], Value::Null);

    // A lead from the conversation carries it, and its agent.
    let (status, lead) = w
        .post(
            "/v1/leads",
            json!({"conversation_id": id, "email": "sam@example.com"}),
        )
        .await;
    assert_eq!(status, 201, "{lead}");
    assert_eq!(lead["conversation_id"], id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_conversations_refuse_messages_and_changes() {
    let w = world().await;
    let (_, conv) = w.post("/v1/conversations", json!({})).await;
    let id = conv["id"].as_str().unwrap();
    let (status, _) = w
        .post(
            &format!("/v1/conversations/{id}/close"),
            json!({"reason": "done"}),
        )
        .await;
    assert_eq!(status, 200);
    let before = w.counts();
    let (status, body) = w
        .post(
            &format!("/v1/conversations/{id}/messages"),
            json!({"direction": "inbound", "text": "Hello?"}),
        )
        .await;
    assert_eq!((status, error_code(&body)), (409, "conflict"));
    let (status, body) = w
        .post(&format!("/v1/conversations/{id}/close"), json!({}))
        .await;
    assert_eq!((status, error_code(&body)), (409, "conflict"));
    let (status, body) = w
        .post(&format!("/v1/conversations/{id}/route"), json!({}))
        .await;
    assert_eq!((status, error_code(&body)), (409, "conflict"));
    let (status, body) = w
        .post(
            "/v1/conversations/01ARZ3NDEKTSV4RRFFQ69G5FAV/close",
            json!({}),
        )
        .await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));
    assert_eq!(w.counts(), before, "nothing written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_wrong_key_is_refused() {
    let w = world().await;
    let body = json!({"name": "Eve"}).to_string();
    let url = format!("{}/v1/leads", w.base);
    let attempts = [
        None,
        Some(format!("Bearer {}x", w.key)),
        Some("Bearer sk_live_notthekey".to_owned()),
        Some(format!("Basic {}", w.key)),
        Some("Bearer ".to_owned()),
    ];
    for auth in attempts {
        let mut req = w
            .http
            .post(&url)
            .header("content-type", "application/json")
            .body(body.clone());
        if let Some(auth) = &auth {
            req = req.header("authorization", auth);
        }
        let (status, reply) = read(req).await;
        assert_eq!(status, 401, "{auth:?}");
        assert_eq!(error_code(&reply), "unauthorized");
        assert!(
            !error_message(&reply).contains(&w.key),
            "the key is never echoed"
        );
    }
    let (status, _) = read(w.http.get(format!("{}/v1/leads", w.base))).await;
    assert_eq!(status, 401);
    assert_eq!(w.counts()[0], 0);
    assert_eq!(w.count("webhook_event"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bodies_get_clear_errors_and_write_nothing() {
    let w = world().await;
    let url = format!("{}/v1/leads", w.base);
    let raw = |body: Vec<u8>, content_type: Option<&str>| {
        let mut req = w.http.post(&url).bearer_auth(&w.key).body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        req
    };
    let before = w.counts();

    let (status, body) = read(raw(
        br#"{"name": "Alex",}"#.to_vec(),
        Some("application/json"),
    ))
    .await;
    assert_eq!((status, error_code(&body)), (400, "invalid_json"));
    assert!(error_message(&body).contains("line 1 column"), "{body}");

    let (status, body) = read(raw(Vec::new(), Some("application/json"))).await;
    assert_eq!((status, error_code(&body)), (400, "invalid_json"));

    let (status, body) = read(raw(br#"{"name": 42}"#.to_vec(), Some("application/json"))).await;
    assert_eq!((status, error_code(&body)), (422, "invalid_input"));
    assert!(error_message(&body).contains("name"), "{body}");

    let (status, body) = read(raw(br#"{"name": "Alex"}"#.to_vec(), Some("text/plain"))).await;
    assert_eq!((status, error_code(&body)), (415, "unsupported_media_type"));

    let big = json!({"name": "x".repeat(70 * 1024)})
        .to_string()
        .into_bytes();
    let (status, body) = read(raw(big, Some("application/json"))).await;
    assert_eq!((status, error_code(&body)), (413, "payload_too_large"));

    let (status, body) = w
        .post(
            "/v1/leads",
            json!({"agent_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "name": "A"}),
        )
        .await;
    assert_eq!((status, error_code(&body)), (422, "invalid_input"));
    assert!(
        error_message(&body).contains("01ARZ3NDEKTSV4RRFFQ69G5FAV"),
        "{body}"
    );

    let (status, body) = w
        .post("/v1/leads", json!({"name": "A", "fields": {"budget": 5}}))
        .await;
    assert_eq!((status, error_code(&body)), (422, "invalid_input"));
    let message = error_message(&body);
    assert!(
        message.contains("budget") && message.contains("company"),
        "{message}"
    );

    let (status, body) = w
        .post("/v1/leads", json!({"fields": {"company": "Acme"}}))
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (422, "invalid_input"),
        "a lead needs a way to reach them"
    );

    let (status, body) = w
        .post("/v1/leads", json!({"email": "not-an-address"}))
        .await;
    assert_eq!((status, error_code(&body)), (422, "invalid_input"));

    let (status, body) = w
        .post("/v1/conversations", json!({"agent_id": "nope"}))
        .await;
    assert_eq!((status, error_code(&body)), (422, "invalid_input"));

    let (status, body) = w.get("/v1/nothing-here").await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));
    let (status, body) = w.send("DELETE", "/v1/leads", None).await;
    assert_eq!((status, error_code(&body)), (405, "method_not_allowed"));

    assert_eq!(w.counts(), before, "nothing written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_fields_of_a_custom_agent_are_enforced() {
    let w = world().await;
    let owner = w.core.workspaces().actor().unwrap();
    let agent = w
        .core
        .agents()
        .create(
            &owner,
            serde_json::from_value(json!({"name": "Sales", "lead_fields": [
                {"key": "team_size", "label": "Team size", "required": true},
                {"key": "budget", "label": "Budget"}
            ]}))
            .unwrap(),
        )
        .unwrap();
    let (status, body) = w
        .post("/v1/leads", json!({"agent_id": agent.id, "name": "A"}))
        .await;
    assert_eq!((status, error_code(&body)), (422, "invalid_input"));
    assert!(error_message(&body).contains("Team size"), "{body}");
    assert_eq!(w.count("lead"), 0);

    let (status, lead) = w
        .post(
            "/v1/leads",
            json!({"agent_id": agent.id, "name": "A", "fields": {"team_size": 25}}),
        )
        .await;
    assert_eq!(status, 201, "{lead}");
    assert_eq!(lead["fields"], json!({"team_size": 25, "budget": null}));

    // A change fires lead.updated with what changed.
    let id = lead["id"].as_str().unwrap();
    let (status, updated) = w
        .send(
            "PATCH",
            &format!("/v1/leads/{id}"),
            Some(json!({"phone": "+1 555 0100", "fields": {"budget": "10k"}})),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    let got = w.received("lead.updated", 1, Duration::from_secs(2)).await;
    assert_eq!(got[0]["data"]["changed"], json!(["phone", "fields.budget"]));
    assert_eq!(got[0]["data"]["phone"], "+1 555 0100");
    let (status, body) = w
        .send(
            "PATCH",
            &format!("/v1/leads/{id}"),
            Some(json!({"fields": {"team_size": null}})),
        )
        .await;
    assert_eq!((status, error_code(&body)), (422, "invalid_input"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_delivery_log_is_served_with_its_filters() {
    let w = world().await;
    w.post("/v1/leads", json!({"name": "A"})).await;
    w.post("/v1/conversations", json!({})).await;
    w.received("conversation.started", 1, Duration::from_secs(2))
        .await;
    let deadline = Instant::now() + Duration::from_secs(3);
    let page = loop {
        let (status, page) = w.get("/v1/deliveries").await;
        assert_eq!(status, 200);
        if page["attempts"].as_array().unwrap().len() >= 2 || Instant::now() > deadline {
            break page;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(page["attempts"].as_array().unwrap().len(), 2, "{page}");
    let (_, filtered) = w
        .get("/v1/deliveries?event_type=lead.captured&status=ok")
        .await;
    let attempts = filtered["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["event_type"], "lead.captured");
    assert_eq!(attempts[0]["response_status"], 200);
    let (status, body) = w.get("/v1/deliveries?status=maybe").await;
    assert_eq!((status, error_code(&body)), (422, "invalid_input"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_stops_and_frees_its_port() {
    let w = world().await;
    let addr = w.core.api_addr().unwrap();
    assert_eq!(
        w.core.start_api(ApiConfig { port: 0 }).unwrap(),
        addr,
        "starting twice is a no-op"
    );
    w.core.stop_api().await;
    assert!(w.core.api_addr().is_none());
    assert!(w
        .http
        .get(format!("{}/v1/leads", w.base))
        .send()
        .await
        .is_err());
    std::net::TcpListener::bind(addr).expect("the port is free again");
}

/// openapi.json documents exactly the server's routes, and each answers on the real server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_description_matches_the_server() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json")).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "patch", "put", "delete"].contains(&method.as_str()) {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let served: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(
        documented, served,
        "openapi.json and the server's routes differ"
    );

    let w = world().await;
    let (_, conv) = w.post("/v1/conversations", json!({})).await;
    let (_, lead) = w.post("/v1/leads", json!({"name": "A"})).await;
    for (method, path) in &documented {
        let id = if path.starts_with("/v1/leads/") {
            &lead["id"]
        } else {
            &conv["id"]
        };
        let path = path.replace("{id}", id.as_str().unwrap());
        let (status, body) = w.send(method, &path, Some(json!({}))).await;
        assert!(
            status != 404 && status != 405,
            "{method} {path} answered {status}: {body}"
        );
    }
}
