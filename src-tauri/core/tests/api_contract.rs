//! The contract test: openapi.json against the real server (127.0.0.1:0, a real SQLite file,
//! the dispatcher delivering to a real receiver). For every route and method the description
//! declares, requests are built from its own schemas and sent:
//!
//! - a valid request (every field; only what is required; the body left out where it may be)
//!   must be answered with a declared 2xx whose body fits the declared response schema;
//! - each property of each body (nested ones too) and each query parameter is set in turn to
//!   every value of a fixed pool (every JSON type, empty and blank text, lengths at and past
//!   each limit, good and bad emails, ULIDs, dates, enum values), each property is left out in
//!   turn, an unknown one is added, and the body is replaced by `[null,null]`, `null`, `"x"`,
//!   `1`… The description's schema (compiled here, independently of the server) decides
//!   whether each variant is valid: valid ones must be answered 2xx, invalid ones with 422 and
//!   the Error shape, and nothing written;
//! - every error status declared for the route is provoked (bad JSON, no key, a foreign Host,
//!   an unknown ID, a closed conversation, a too large body, a wrong content type) and must
//!   fit the Error schema; any status the server answers must be declared for the route;
//! - the routes the router serves (`ROUTES`) and the description's are the same.
//!
//! Every mismatch found is listed at the end; the test does not stop at the first. The API key
//! lives in a real Secret Service: run through `scripts/with-keychain.sh`.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use pitchbar_core::api::{DESCRIPTION, ROUTES};
use serde_json::{json, Map, Value};
use support::api::{read, world, World};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Properties whose valid values must name something that exists: only the sample (or null
/// or blank, which mean "none") is sent for them as valid; their invalid values are all sent.
const REFERENCES: [&str; 3] = ["agent_id", "conversation_id", "endpoint_id"];

struct Description {
    doc: Value,
}

impl Description {
    fn load() -> Self {
        Self {
            doc: serde_json::from_str(DESCRIPTION).expect("openapi.json is JSON"),
        }
    }

    fn deref<'a>(&'a self, mut schema: &'a Value) -> &'a Value {
        while let Some(pointer) = schema["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
            schema = self
                .doc
                .pointer(pointer)
                .unwrap_or_else(|| panic!("openapi.json: no {pointer}"));
        }
        schema
    }

    fn accepts(&self, schema: &Value, value: &Value) -> bool {
        let root = json!({"allOf": [schema], "components": self.doc["components"]});
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&root)
            .expect("the schema compiles")
            .is_valid(value)
    }

    /// The operations, as (METHOD, path, operation).
    fn operations(&self) -> Vec<(String, String, &Value)> {
        let mut ops = Vec::new();
        for (path, item) in self.doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if METHODS.contains(&method.as_str()) {
                    ops.push((method.to_uppercase(), path.clone(), op));
                }
            }
        }
        ops
    }

    /// The declared response for `status`, with its `$ref` followed.
    fn response<'a>(&'a self, op: &'a Value, status: u16) -> Option<&'a Value> {
        op["responses"]
            .get(status.to_string())
            .map(|r| self.deref(r))
    }

    /// A value that fits `schema`: every property given, the first enum value or type.
    fn sample(&self, schema: &Value, name: &str, fixtures: &Fixtures) -> Value {
        if let Some(value) = fixtures.value_for(name) {
            return value;
        }
        let s = self.deref(schema);
        if let Some(first) = s["enum"]
            .as_array()
            .and_then(|e| e.iter().find(|v| !v.is_null()))
        {
            return first.clone();
        }
        if let Some(branch) = s["anyOf"].as_array().and_then(|b| {
            b.iter()
                .find(|b| self.deref(b)["type"] != "null")
                .or(b.first())
        }) {
            if s.get("properties").is_none() {
                return self.sample(branch, name, fixtures);
            }
        }
        let types: Vec<&str> = match &s["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ if s.get("properties").is_some() => vec!["object"],
            _ => vec!["null"],
        };
        match types
            .iter()
            .find(|t| **t != "null")
            .copied()
            .unwrap_or("null")
        {
            "object" => {
                let mut object = Map::new();
                if let Some(props) = s["properties"].as_object() {
                    for (key, prop) in props {
                        object.insert(key.clone(), self.sample(prop, key, fixtures));
                    }
                }
                Value::Object(object)
            }
            "string" => match s["format"].as_str() {
                Some("email") => json!("alex@example.com"),
                Some("date-time") => json!("2026-05-07T12:00:00Z"),
                _ if s["pattern"].as_str().is_some_and(|p| p.contains("{26}")) => {
                    json!(ulid::Ulid::new().to_string())
                }
                _ => json!("Sample text"),
            },
            "integer" if s["minimum"].is_number() => s["minimum"].clone(),
            "integer" => json!(1),
            "number" => json!(1.5),
            "boolean" => json!(true),
            "array" => json!([]),
            _ => Value::Null,
        }
    }
}

/// Real things for the properties that must name one.
struct Fixtures {
    agent_id: String,
    conversation_id: String,
    endpoint_id: String,
    lead_cursor: String,
    delivery_cursor: String,
}

impl Fixtures {
    fn value_for(&self, name: &str) -> Option<Value> {
        match name {
            "agent_id" => Some(json!(self.agent_id)),
            "conversation_id" => Some(json!(self.conversation_id)),
            "endpoint_id" => Some(json!(self.endpoint_id)),
            _ => None,
        }
    }
}

/// Every value a property or parameter is set to in turn.
fn pool() -> Vec<Value> {
    let mut values = vec![
        Value::Null,
        json!(true),
        json!(0),
        json!(42),
        json!(-1),
        json!(1.5),
        json!(""),
        json!("   "),
        json!("\u{feff}"),
        json!("\u{85}"),
        json!("x"),
        json!("  padded  "),
        json!("alex@example.com"),
        json!("a@localhost"),
        json!("not-an-address"),
        json!("a b@example.com"),
        json!("@example.com"),
        json!(format!("{}@example.com", "a".repeat(250))),
        json!("inbound"),
        json!("outbound"),
        json!("bogus"),
        json!(ulid::Ulid::new().to_string()),
        json!(ulid::Ulid::new().to_string().to_lowercase()),
        json!("not-a-ulid"),
        json!("2026-05-07T12:00:00Z"),
        json!([]),
        json!(["x"]),
        json!({}),
        json!({"k": "v"}),
    ];
    for n in [254, 2000, 2001, 10_000, 10_001] {
        values.push(json!("x".repeat(n)));
    }
    values
}

/// Every raw value a query parameter is set to in turn.
fn query_pool(f: &Fixtures) -> Vec<String> {
    [
        "",
        "0",
        "1",
        "50",
        "500",
        "501",
        "-1",
        "1.5",
        "5.0",
        "abc",
        "ok",
        "failed",
        "bogus",
        "lead.captured",
        "conversation.closed",
        "2026-05-07T12:00:00Z",
        "2026-05-07T12:00:00.123+02:00",
        "2026-05-07t12:00:00z",
        "2026-12-31T23:59:60Z",
        "2026-05-07T12:00:00.1234567891Z",
        "2026-05-07 12:00:00Z",
        "2026-02-30T12:00:00Z",
        "2026-05-07",
        "yesterday",
        "nonsense",
        "1.2",
        "x.y",
        &f.lead_cursor,
        &f.delivery_cursor,
        &f.endpoint_id,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

enum Payload {
    None,
    Json(Value),
    Raw(Vec<u8>, &'static str),
}

struct Request {
    method: String,
    path: String,
    payload: Payload,
    key: bool,
    host: Option<String>,
}

impl Request {
    fn new(method: &str, path: &str, payload: Payload) -> Self {
        Self {
            method: method.to_owned(),
            path: path.to_owned(),
            payload,
            key: true,
            host: None,
        }
    }
}

struct Check<'a> {
    w: World,
    d: &'a Description,
    f: Fixtures,
    found: Vec<String>,
    sent: usize,
}

impl Check<'_> {
    async fn send(&mut self, req: Request) -> (u16, Value) {
        self.sent += 1;
        let mut r = self.w.http.request(
            req.method.parse().unwrap(),
            format!("{}{}", self.w.base, req.path),
        );
        if req.key {
            r = r.bearer_auth(&self.w.key);
        }
        if let Some(host) = &req.host {
            r = r.header("host", host);
        }
        r = match req.payload {
            Payload::None => r,
            Payload::Json(v) => r
                .header("content-type", "application/json")
                .body(v.to_string()),
            Payload::Raw(bytes, ct) => r.header("content-type", ct).body(bytes),
        };
        read(r).await
    }

    /// The path with `{id}` replaced by a fresh lead or open conversation.
    async fn target(&mut self, path: &str) -> String {
        if !path.contains("{id}") {
            return path.to_owned();
        }
        let (creator, body) = if path.starts_with("/v1/leads/") {
            ("/v1/leads", json!({"name": "Fixture"}))
        } else {
            ("/v1/conversations", json!({}))
        };
        let (status, made) = self
            .send(Request::new("POST", creator, Payload::Json(body)))
            .await;
        assert!(
            status == 201,
            "making a fixture for {path}: {status} {made}"
        );
        path.replace("{id}", made["id"].as_str().unwrap())
    }

    /// The answer fits what the route declares for its status.
    fn judge(&mut self, label: &str, op: &Value, status: u16, body: &Value) {
        let Some(response) = self.d.response(op, status) else {
            self.found
                .push(format!("{label}: answered {status}, not declared: {body}"));
            return;
        };
        let Some(schema) = response["content"]["application/json"]["schema"].as_object() else {
            return;
        };
        let schema = Value::Object(schema.clone());
        if !self.d.accepts(&schema, body) {
            self.found.push(format!(
                "{label}: the {status} body does not fit its declared schema: {body}"
            ));
        }
        if status >= 400
            && !self
                .d
                .accepts(&json!({"$ref": "#/components/schemas/Error"}), body)
        {
            self.found.push(format!(
                "{label}: the {status} body is not an Error: {body}"
            ));
        }
    }

    async fn expect_ok(
        &mut self,
        label: String,
        op: &Value,
        method: &str,
        path: &str,
        payload: Payload,
    ) {
        let url = self.target(path).await;
        let (status, body) = self.send(Request::new(method, &url, payload)).await;
        if !(200..300).contains(&status) {
            self.found.push(format!(
                "{label}: valid, but answered {status}: {}",
                short(&body)
            ));
        }
        self.judge(&label, op, status, &body);
    }

    async fn expect_refused(
        &mut self,
        label: String,
        op: &Value,
        method: &str,
        path: &str,
        payload: Payload,
    ) {
        let url = self.target(path).await;
        let before = self.w.counts();
        let (status, body) = self.send(Request::new(method, &url, payload)).await;
        if status != 422 {
            self.found.push(format!(
                "{label}: invalid, but answered {status}: {}",
                short(&body)
            ));
        } else if body["error"]["message"]
            .as_str()
            .is_none_or(|m| m.len() <= 20)
        {
            self.found
                .push(format!("{label}: refused without saying why: {body}"));
        }
        self.judge(&label, op, status, &body);
        if self.w.counts() != before {
            self.found
                .push(format!("{label}: invalid, but something was written"));
        }
    }

    async fn bodies(&mut self, method: &str, path: &str, op: &Value) {
        let Some(schema) = op["requestBody"]["content"]["application/json"]["schema"].as_object()
        else {
            return;
        };
        let schema = Value::Object(schema.clone());
        let required = op["requestBody"]["required"] == true;
        let d = self.d;
        let full = d.sample(&schema, "", &self.f);
        let route = format!("{method} {path}");
        if !d.accepts(&schema, &full) {
            self.found
                .push(format!("{route}: the sample body does not fit: {full}"));
        }
        self.expect_ok(
            format!("{route} every field"),
            op,
            method,
            path,
            Payload::Json(full.clone()),
        )
        .await;

        // Only what is required (plus the one field a rule needs, if any).
        let resolved = d.deref(&schema).clone();
        let mut minimal = Map::new();
        for key in resolved["required"].as_array().into_iter().flatten() {
            let key = key.as_str().unwrap();
            minimal.insert(key.into(), full[key].clone());
        }
        if !d.accepts(&schema, &Value::Object(minimal.clone())) {
            for (key, value) in full.as_object().unwrap() {
                let mut with = minimal.clone();
                with.insert(key.clone(), value.clone());
                if d.accepts(&schema, &Value::Object(with.clone())) {
                    minimal = with;
                    break;
                }
            }
        }
        self.expect_ok(
            format!("{route} required fields only"),
            op,
            method,
            path,
            Payload::Json(Value::Object(minimal)),
        )
        .await;

        if required {
            let url = self.target(path).await;
            let (status, body) = self
                .send(Request::new(
                    method,
                    &url,
                    Payload::Raw(Vec::new(), "application/json"),
                ))
                .await;
            if status != 400 {
                self.found.push(format!(
                    "{route}: the body is required, but an empty one answered {status}"
                ));
            }
            self.judge(&format!("{route} empty body"), op, status, &body);
        } else {
            self.expect_ok(format!("{route} no body"), op, method, path, Payload::None)
                .await;
        }

        // Whole bodies that are not objects.
        for value in [
            json!([null, null]),
            Value::Null,
            json!("x"),
            json!(1),
            json!(true),
            json!([]),
            json!({"unexpected_field": 1}),
        ] {
            let mut body = full.clone();
            if let Some(extra) = value.get("unexpected_field") {
                body["unexpected_field"] = extra.clone();
            } else {
                body = value;
            }
            let what = format!("the body {}", short(&body));
            self.variant(&route, op, method, path, &schema, &what, body)
                .await;
        }

        // Each property: left out, and set to every value of the pool; nested ones too.
        let mut paths: Vec<Vec<String>> = Vec::new();
        collect_paths(d, &schema, &full, &mut Vec::new(), &mut paths);
        for p in paths {
            let shown = p.join(".");
            let without = remove(&full, &p);
            self.variant(
                &route,
                op,
                method,
                path,
                &schema,
                &format!("{shown} left out"),
                without,
            )
            .await;
            for value in pool() {
                let leaf = p.last().unwrap();
                // Names something that must exist: an ID, or custom field keys the agent
                // defines (only "company" is).
                // Blank as the description means it: no character but JSON Schema's `\s`.
                let not_blank = d.accepts(&json!({"type": "string", "pattern": "\\S"}), &value);
                let is_reference = (REFERENCES.contains(&leaf.as_str()) && not_blank)
                    || (leaf == "fields" && value.as_object().is_some_and(|o| !o.is_empty()));
                let body = set(&full, &p, value.clone());
                if is_reference && d.accepts(&schema, &body) {
                    continue;
                }
                self.variant(
                    &route,
                    op,
                    method,
                    path,
                    &schema,
                    &format!("{shown} = {}", short(&value).escape_debug()),
                    body,
                )
                .await;
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn variant(
        &mut self,
        route: &str,
        op: &Value,
        method: &str,
        path: &str,
        schema: &Value,
        what: &str,
        body: Value,
    ) {
        let label = format!("{route} with {what}");
        if self.d.accepts(schema, &body) {
            self.expect_ok(label, op, method, path, Payload::Json(body))
                .await;
        } else {
            self.expect_refused(label, op, method, path, Payload::Json(body))
                .await;
        }
    }

    async fn queries(&mut self, method: &str, path: &str, op: &Value) {
        let params: Vec<Value> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query")
            .cloned()
            .collect();
        if method != "GET" {
            return;
        }
        let route = format!("{method} {path}");
        self.expect_ok(
            format!("{route} no parameters"),
            op,
            method,
            path,
            Payload::None,
        )
        .await;
        for p in &params {
            let name = p["name"].as_str().unwrap();
            for raw in query_pool(&self.f) {
                let valid = self.query_value_fits(p, &raw);
                let url = format!("{path}?{name}={}", url_encode(&raw));
                let label = format!("{route} with {name}={raw:.40}");
                if valid {
                    self.expect_ok(label, op, method, &url, Payload::None).await;
                } else {
                    self.expect_refused(label, op, method, &url, Payload::None)
                        .await;
                }
            }
            let url = format!("{path}?{name}=1&{name}=1");
            self.expect_refused(
                format!("{route} with {name} twice"),
                op,
                method,
                &url,
                Payload::None,
            )
            .await;
        }
        let url = format!("{path}?unexpected_param=1");
        self.expect_refused(
            format!("{route} with an unknown parameter"),
            op,
            method,
            &url,
            Payload::None,
        )
        .await;
    }

    /// Whether a raw query value fits its parameter, as OpenAPI reads it.
    fn query_value_fits(&self, param: &Value, raw: &str) -> bool {
        if raw.is_empty() && param["allowEmptyValue"] == true {
            return true;
        }
        let schema = &param["schema"];
        let resolved = self.d.deref(schema);
        let value = match resolved["type"].as_str() {
            Some("integer") => match raw.parse::<i64>() {
                Ok(n) => json!(n),
                Err(_) => return false,
            },
            Some("number") => match raw.parse::<f64>() {
                Ok(n) => json!(n),
                Err(_) => return false,
            },
            _ => json!(raw),
        };
        self.d.accepts(schema, &value)
    }

    /// Each declared error status, provoked.
    async fn errors(&mut self, method: &str, path: &str, op: &Value) {
        let route = format!("{method} {path}");
        let valid = op["requestBody"]["content"]["application/json"]["schema"]
            .as_object()
            .map(|s| self.d.sample(&Value::Object(s.clone()), "", &self.f));
        let json_payload = || match &valid {
            Some(v) => Payload::Json(v.clone()),
            None => Payload::None,
        };
        for code in op["responses"].as_object().unwrap().keys() {
            let status: u16 = code.parse().expect("numeric statuses");
            if status < 400 {
                continue;
            }
            let response = self.d.response(op, status).unwrap();
            let schema = &response["content"]["application/json"]["schema"];
            if self.d.deref(schema) != &self.d.doc["components"]["schemas"]["Error"] {
                self.found.push(format!(
                    "{route}: the declared {status} is not the Error schema"
                ));
            }
            let url = self.target(path).await;
            let req = match status {
                400 => Request::new(
                    method,
                    &url,
                    Payload::Raw(b"{\"name\": ".to_vec(), "application/json"),
                ),
                401 => Request {
                    key: false,
                    ..Request::new(method, &url, json_payload())
                },
                403 => Request {
                    host: Some(format!(
                        "attacker.test:{}",
                        self.w.base.rsplit(':').next().unwrap()
                    )),
                    ..Request::new(method, &url, json_payload())
                },
                404 => Request::new(
                    method,
                    &path.replace("{id}", &ulid::Ulid::new().to_string()),
                    json_payload(),
                ),
                409 => {
                    let close = format!("{}/close", url.rsplit_once('/').unwrap().0);
                    let (s, b) = self.send(Request::new("POST", &close, Payload::None)).await;
                    assert_eq!(s, 200, "{b}");
                    Request::new(method, &url, json_payload())
                }
                413 => Request::new(
                    method,
                    &url,
                    Payload::Json(json!({"name": "x".repeat(70 * 1024)})),
                ),
                415 => Request::new(
                    method,
                    &url,
                    Payload::Raw(
                        valid.clone().unwrap_or(json!({})).to_string().into_bytes(),
                        "text/plain",
                    ),
                ),
                // Refused bodies and queries are sent above.
                422 => continue,
                // The store or keychain failing, or a defect: not provoked from outside.
                500 | 503 => continue,
                other => {
                    self.found
                        .push(format!("{route}: no way to provoke the declared {other}"));
                    continue;
                }
            };
            let before = self.w.counts();
            let (got, body) = self.send(req).await;
            if got != status {
                self.found.push(format!(
                    "{route}: provoking {status} answered {got}: {}",
                    short(&body)
                ));
            }
            self.judge(&format!("{route} provoking {status}"), op, got, &body);
            if self.w.counts() != before {
                self.found
                    .push(format!("{route}: the {status} answer wrote something"));
            }
        }
    }
}

/// The paths of every property of `sample` the schema describes (objects walked into; a map of
/// custom fields through its first defined key).
fn collect_paths(
    d: &Description,
    schema: &Value,
    sample: &Value,
    prefix: &mut Vec<String>,
    out: &mut Vec<Vec<String>>,
) {
    let s = d.deref(schema);
    // A nullable object (anyOf: the object, or null): walk the object.
    let s = match s.get("properties") {
        Some(_) => s,
        None => s["anyOf"]
            .as_array()
            .and_then(|b| {
                b.iter()
                    .map(|b| d.deref(b))
                    .find(|b| b.get("properties").is_some())
            })
            .unwrap_or(s),
    };
    if let Some(props) = s["properties"].as_object() {
        for (key, prop) in props {
            prefix.push(key.clone());
            out.push(prefix.clone());
            collect_paths(d, prop, &sample[key], prefix, out);
            prefix.pop();
        }
    } else if s["additionalProperties"].is_object() && sample.is_object() {
        // Custom fields: the default agent defines "company".
        prefix.push("company".into());
        out.push(prefix.clone());
        prefix.pop();
    }
}

fn set(value: &Value, path: &[String], new: Value) -> Value {
    let mut out = value.clone();
    let mut at = &mut out;
    for key in &path[..path.len() - 1] {
        if !at[key.as_str()].is_object() {
            at[key.as_str()] = json!({});
        }
        at = &mut at[key.as_str()];
    }
    at[path.last().unwrap().as_str()] = new;
    out
}

fn remove(value: &Value, path: &[String]) -> Value {
    let mut out = value.clone();
    let mut at = &mut out;
    for key in &path[..path.len() - 1] {
        at = &mut at[key.as_str()];
    }
    if let Some(object) = at.as_object_mut() {
        object.remove(path.last().unwrap());
    }
    out
}

fn url_encode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 160 {
        format!("{}…", text.chars().take(160).collect::<String>())
    } else {
        text
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_keeps_the_openapi_contract() {
    let d = Description::load();
    let mut found = Vec::new();

    let documented: BTreeSet<(String, String)> =
        d.operations().into_iter().map(|(m, p, _)| (m, p)).collect();
    let served: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    for (m, p) in served.difference(&documented) {
        found.push(format!("{m} {p}: served, but not in openapi.json"));
    }
    for (m, p) in documented.difference(&served) {
        found.push(format!("{m} {p}: in openapi.json, but not served"));
    }

    let w = world().await;
    let agent_id = w.core.agents().default_agent().unwrap().id;
    for name in ["One", "Two", "Three"] {
        let (status, body) = w.post("/v1/leads", json!({"name": name})).await;
        assert_eq!(status, 201, "{body}");
    }
    let (_, conversation) = w.post("/v1/conversations", json!({})).await;
    w.received("lead.captured", 3, Duration::from_secs(5)).await;
    // The attempts are logged just after the deliveries arrive.
    let mut deliveries = Value::Null;
    for _ in 0..200 {
        deliveries = w.get("/v1/deliveries?limit=1").await.1;
        if deliveries["next_cursor"].is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (_, leads) = w.get("/v1/leads?limit=1").await;
    let f = Fixtures {
        agent_id,
        conversation_id: conversation["id"].as_str().unwrap().to_owned(),
        endpoint_id: deliveries["attempts"][0]["endpoint_id"]
            .as_str()
            .expect("a logged attempt")
            .to_owned(),
        lead_cursor: leads["next_cursor"].as_str().unwrap().to_owned(),
        delivery_cursor: deliveries["next_cursor"].as_str().unwrap().to_owned(),
    };

    let mut check = Check {
        w,
        d: &d,
        f,
        found,
        sent: 0,
    };
    for (method, path, op) in d.operations() {
        check.bodies(&method, &path, op).await;
        check.queries(&method, &path, op).await;
        check.errors(&method, &path, op).await;
    }
    let found = check.found;
    eprintln!("{} requests checked against openapi.json", check.sent);
    assert!(
        found.is_empty(),
        "{} mismatches between openapi.json and the server:\n{}",
        found.len(),
        found.join("\n")
    );
}

/// The cases the issue names, and what the refusals say.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_name_the_field_and_what_is_wrong() {
    let w = world().await;
    let before = w.counts();
    let message = |body: &Value| body["error"]["message"].as_str().unwrap().to_owned();

    let (status, body) = w.post("/v1/conversations", json!([null, null])).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        message(&body).contains("the body must be a JSON object (it is a list)"),
        "{body}"
    );

    let (status, body) = w
        .post("/v1/leads", json!({"email": "not-an-address"}))
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        message(&body).contains("\"email\" is \"not-an-address\", not an email address"),
        "{body}"
    );

    let (status, body) = w
        .post("/v1/conversations", json!({"visitor": {"nickname": "Sam"}}))
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        message(&body).contains(
            "\"visitor\" has no field \"nickname\"; its fields are email, id, name, phone"
        ),
        "{body}"
    );

    let (status, body) = w.post("/v1/leads", json!({"fields": {}})).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        message(&body).contains("a name, an email or a phone number"),
        "{body}"
    );

    let (status, body) = w.get("/v1/leads?limit=501").await;
    assert_eq!(status, 422, "{body}");
    assert!(message(&body).contains("\"limit\" is 501"), "{body}");
    let (status, body) = w.get("/v1/leads?limt=5").await;
    assert_eq!(status, 422, "{body}");
    assert!(
        message(&body)
            .contains("no query parameter \"limt\"; this route takes limit, cursor, since"),
        "{body}"
    );
    assert_eq!(w.counts(), before, "nothing written");

    let (status, body) = w.get("/v1/leads?cursor=").await;
    assert_eq!(status, 200, "an empty cursor is the first page: {body}");
    let (status, body) = w.get("/v1/deliveries?cursor=&status=").await;
    assert_eq!(status, 200, "{body}");
}
