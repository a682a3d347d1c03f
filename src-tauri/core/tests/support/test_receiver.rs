//! The one test receiver (after Svix's `TestReceiver`): an HTTP server on 127.0.0.1:0 that
//! records every request whole, as it arrived, and answers as the test scripts it — a status,
//! headers, a body, after a pause, chosen per request (its path, how many times its delivery was
//! seen, …). Every test that needs somewhere to deliver to starts one.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use tokio::sync::Notify;

/// One request as the receiver got it.
#[derive(Clone, Debug)]
pub struct Hit {
    pub method: Method,
    /// The path alone.
    pub path: String,
    /// The request target as sent: the path and the query.
    pub uri: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// When it arrived.
    pub at: Instant,
    /// Which time this `X-Pitchbar-Delivery` arrived: 1 the first time (requests without the
    /// header count together).
    pub nth: u32,
    /// The status it was answered with (or is about to be, after the answer's pause).
    pub status: u16,
}

impl Hit {
    /// A header's value, `""` when absent or not text.
    pub fn header(&self, name: &str) -> &str {
        header(self, name)
    }
}

/// A header's value, `""` when absent or not text.
pub fn header<'a>(hit: &'a Hit, name: &str) -> &'a str {
    hit.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// What the receiver answers one request.
#[derive(Clone, Debug)]
pub struct Answer {
    status: StatusCode,
    headers: Vec<(&'static str, String)>,
    body: Bytes,
    delay: Duration,
}

impl Answer {
    /// `status` with an empty body.
    pub fn status(status: u16) -> Self {
        Self {
            status: StatusCode::from_u16(status).unwrap(),
            headers: Vec::new(),
            body: Bytes::new(),
            delay: Duration::ZERO,
        }
    }

    /// 200 with `body`.
    pub fn ok(body: impl Into<Bytes>) -> Self {
        Self::status(200).body(body)
    }

    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// A response header (`name` in lower case).
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// Answers only after `delay` (the request is recorded at once).
    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

type Script = Arc<dyn Fn(&Hit) -> Answer + Send + Sync>;

struct Shared {
    hits: Mutex<Vec<Hit>>,
    per_delivery: Mutex<HashMap<String, u32>>,
    script: Mutex<Script>,
    changed: Arc<Notify>,
}

/// The receiver; it stops with the runtime it was started on.
pub struct TestReceiver {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    _runtime: Option<tokio::runtime::Runtime>,
}

impl TestReceiver {
    /// Answers every request 200 `ok`.
    pub async fn start() -> Self {
        Self::answering(|_| Answer::ok("ok")).await
    }

    /// Answers each request with what `script` says for it.
    pub async fn answering(script: impl Fn(&Hit) -> Answer + Send + Sync + 'static) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (receiver, app) = Self::new(&listener, Arc::new(script), None);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        receiver
    }

    /// As [`answering`](Self::answering), on a runtime of its own: for tests that are not async.
    pub fn answering_blocking(script: impl Fn(&Hit) -> Answer + Send + Sync + 'static) -> Self {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let handle = runtime.handle().clone();
        let (receiver, app) = Self::new(&listener, Arc::new(script), Some(runtime));
        handle.spawn(async move { axum::serve(listener, app).await.unwrap() });
        receiver
    }

    fn new(
        listener: &tokio::net::TcpListener,
        script: Script,
        runtime: Option<tokio::runtime::Runtime>,
    ) -> (Self, axum::Router) {
        let shared = Arc::new(Shared {
            hits: Mutex::default(),
            per_delivery: Mutex::default(),
            script: Mutex::new(script),
            changed: Arc::default(),
        });
        let app = axum::Router::new()
            .fallback(receive)
            .with_state(shared.clone());
        let receiver = Self {
            addr: listener.local_addr().unwrap(),
            shared,
            _runtime: runtime,
        };
        (receiver, app)
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Every request so far, in the order they arrived.
    pub fn hits(&self) -> Vec<Hit> {
        self.shared.hits.lock().unwrap().clone()
    }

    /// How many times each `X-Pitchbar-Delivery` arrived.
    pub fn per_delivery(&self) -> HashMap<String, u32> {
        self.shared.per_delivery.lock().unwrap().clone()
    }

    /// Answers from now on with what `script` says.
    pub fn answer_with(&self, script: impl Fn(&Hit) -> Answer + Send + Sync + 'static) {
        *self.shared.script.lock().unwrap() = Arc::new(script);
    }

    /// Notified (`notify_one`) each time a request is recorded.
    pub fn changed(&self) -> &Arc<Notify> {
        &self.shared.changed
    }
}

async fn receive(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let delivery = headers
        .get("x-pitchbar-delivery")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let nth = {
        let mut map = shared.per_delivery.lock().unwrap();
        let n = map.entry(delivery).or_default();
        *n += 1;
        *n
    };
    let mut hit = Hit {
        method,
        path: uri.path().to_owned(),
        uri: uri.to_string(),
        headers,
        body,
        at: Instant::now(),
        nth,
        status: 0,
    };
    let script = shared.script.lock().unwrap().clone();
    let answer = script(&hit);
    hit.status = answer.status.as_u16();
    // Recorded on arrival: the receiver has the request even if the sender gives up before
    // the answer.
    shared.hits.lock().unwrap().push(hit);
    shared.changed.notify_one();
    if !answer.delay.is_zero() {
        tokio::time::sleep(answer.delay).await;
    }
    let mut response = Response::new(Body::from(answer.body.clone()));
    *response.status_mut() = answer.status;
    let headers = response.headers_mut();
    // A text body as axum sends a `&str`, unless the script says otherwise.
    if !answer.body.is_empty() {
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
    }
    for (name, value) in answer.headers {
        let name = HeaderName::from_static(name);
        let value = HeaderValue::from_str(&value).unwrap();
        if name == CONTENT_TYPE {
            headers.insert(name, value);
        } else {
            headers.append(name, value);
        }
    }
    response
}
