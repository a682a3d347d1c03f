//! The local API server itself, for real on 127.0.0.1:0 with a real SQLite file: a missing or
//! wrong key refused, bad bodies answered with clear errors and nothing written, the port freed
//! when it stops, and openapi.json matching the routes it serves. The API key lives in a real
//! Secret Service: run through `scripts/with-keychain.sh`.

mod support;

use std::collections::BTreeSet;

use pitchbar_core::api::{ApiConfig, ROUTES};
use serde_json::{json, Value};
use support::api::{error_code, error_message, read, world};

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

/// Found by the api_bodies fuzz target: serde reads a struct from an array too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_that_are_not_json_objects_are_refused_and_write_nothing() {
    let w = world().await;
    let before = w.counts();
    for path in ["/v1/conversations", "/v1/leads"] {
        for body in ["[null, null]", "[]", " [\"Alex\"]", "null", "5", "\"x\""] {
            let (status, answer) = read(
                w.http
                    .post(format!("{}{path}", w.base))
                    .bearer_auth(&w.key)
                    .header("content-type", "application/json")
                    .body(body),
            )
            .await;
            assert_eq!(
                (status, error_code(&answer)),
                (422, "invalid_input"),
                "{path} {body}: {answer}"
            );
            assert!(
                error_message(&answer).contains("must be a JSON object"),
                "{answer}"
            );
        }
    }
    assert_eq!(w.counts(), before);
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
async fn the_api_stops_and_frees_its_port() {
    let w = world().await;
    let addr = w.core.api_addr().unwrap();
    assert_eq!(
        w.core.start_api(ApiConfig::on_port(0)).unwrap(),
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
