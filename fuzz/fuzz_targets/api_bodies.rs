//! The local API's request bodies and query strings, through its real router in-process
//! (`tower::ServiceExt::oneshot`, no TCP) over a real SQLite file in a temp dir.
//! Input: byte 0 picks the route, byte 1 the content type (bit 7: the wrong key), the rest is
//! the body (the query string for GET routes).
//!
//! Checked beyond "no panic": no body or query is ever answered 5xx; every answer is JSON;
//! every refusal has the `{"error": {"code", "message"}}` shape with a message; a wrong key is
//! always 401; writes that succeed answer 201 (creates) or 200, and only for a JSON object body
//! (or an empty one where the body is optional).
#![no_main]

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;
use pitchbar_core::conversations::ConversationInput;
use pitchbar_core::leads::LeadInput;
use pitchbar_core::vault::Vault;
use pitchbar_core::workspace::{MemberInput, Role};
use pitchbar_core::Core;
use serde_json::Value;
use tower::ServiceExt;

struct World {
    _dir: tempfile::TempDir,
    rt: tokio::runtime::Runtime,
    router: axum::Router,
    key: String,
    lead: String,
    open: String,
    to_close: String,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<keyring_core::CredentialStore> = keyring_core::mock::Store::new().unwrap();
        let core = Core::open_with_vault(dir.path(), Vault::with_store(store)).unwrap();
        core.workspaces()
            .set_up(
                "Acme",
                MemberInput {
                    name: "Ada Owner".into(),
                    email: "ada@acme.test".into(),
                    role: Role::Owner,
                },
            )
            .unwrap();
        let owner = core.workspaces().actor().unwrap();
        let key = core.api_keys().reveal(&owner).unwrap().expose().to_owned();
        let lead = core
            .leads()
            .capture(LeadInput {
                name: Some("Alex Rivera".into()),
                ..LeadInput::default()
            })
            .unwrap()
            .id;
        let open = core
            .conversations()
            .start(ConversationInput::default())
            .unwrap()
            .id;
        let to_close = core
            .conversations()
            .start(ConversationInput::default())
            .unwrap()
            .id;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(2)
            .enable_all()
            .build()
            .unwrap();
        World {
            router: core.api_router(),
            _dir: dir,
            rt,
            key,
            lead,
            open,
            to_close,
        }
    })
}

const CONTENT_TYPES: [Option<&str>; 5] = [
    Some("application/json"),
    Some("application/json; charset=utf-8"),
    Some("application/vnd.api+json"),
    Some("text/plain"),
    None,
];

fuzz_target!(|data: &[u8]| {
    let w = world();
    let (&route, &flags, body) = match data {
        [r, f, rest @ ..] => (r, f, rest),
        _ => return,
    };
    // (method, path, body optional, a create)
    let (method, path, optional, create) = match route % 8 {
        0 => (Method::POST, "/v1/leads".to_owned(), false, true),
        1 => (Method::PATCH, format!("/v1/leads/{}", w.lead), false, false),
        2 => (Method::POST, "/v1/conversations".to_owned(), true, true),
        3 => (
            Method::POST,
            format!("/v1/conversations/{}/messages", w.open),
            false,
            true,
        ),
        4 => (
            Method::POST,
            format!("/v1/conversations/{}/route", w.open),
            true,
            false,
        ),
        5 => (
            Method::POST,
            format!("/v1/conversations/{}/close", w.to_close),
            true,
            false,
        ),
        6 => (Method::GET, "/v1/leads".to_owned(), false, false),
        _ => (Method::GET, "/v1/deliveries".to_owned(), false, false),
    };
    let get = method == Method::GET;
    let uri = if get {
        // The query as sent on the wire: whatever bytes a URI may carry.
        let query: String = body
            .iter()
            .map(|&b| match b {
                b'#' | b' ' | b'"' | b'<' | b'>' | b'`' | b'{' | b'}' | b'|' | b'\\' | b'^' => {
                    format!("%{b:02X}")
                }
                0x21..=0x7e => char::from(b).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect();
        format!("{path}?{query}")
    } else {
        path
    };
    let wrong_key = flags & 0x80 != 0;
    let key = if wrong_key {
        "sk_live_not_the_key"
    } else {
        w.key.as_str()
    };
    let mut req = Request::builder()
        .method(method)
        .uri(&uri)
        .header("authorization", format!("Bearer {key}"));
    if let Some(ct) = CONTENT_TYPES[usize::from(flags & 0x7f) % CONTENT_TYPES.len()] {
        req = req.header("content-type", ct);
    }
    let req = req
        .body(if get {
            Body::empty()
        } else {
            Body::from(body.to_vec())
        })
        .expect("a request");
    let (status, answer) = w.rt.block_on(async {
        let resp = w.router.clone().oneshot(req).await.expect("infallible");
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (status, bytes)
    });
    let answer: Value = serde_json::from_slice(&answer).unwrap_or_else(|_| {
        panic!(
            "{status} {uri}: not JSON: {:?}",
            String::from_utf8_lossy(&answer)
        )
    });
    assert!(!status.is_server_error(), "{status} {uri} {answer}");
    if wrong_key {
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri} {answer}");
    }
    if status.is_client_error() {
        assert!(
            answer["error"]["code"].is_string(),
            "{status} {uri} {answer}"
        );
        let message = answer["error"]["message"].as_str().unwrap_or("");
        assert!(!message.trim().is_empty(), "{status} {uri} {answer}");
    }
    if status.is_success() {
        assert!(answer.is_object(), "{status} {uri} {answer}");
        if !get {
            let sent = serde_json::from_slice::<Value>(body).ok();
            let blank = body.iter().all(u8::is_ascii_whitespace);
            assert!(
                sent.as_ref().is_some_and(Value::is_object) || (optional && blank),
                "{status} {uri}: accepted a body that is not a JSON object: {:?}",
                String::from_utf8_lossy(body)
            );
            let expected = if create {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            assert_eq!(status, expected, "{uri} {answer}");
        }
    }
});
