//! One destination's calls to its provider: authenticated, each recorded for the sync log
//! (request and response bytes, status, error class, the provider's own words), each answer
//! classified the one way every provider shares (4xx other than 408/409/429 stop; 5xx, network
//! errors and rate limits wait and retry; a refused token asks for reconnecting), and the
//! provider's IDs of the records we made kept so a retry never makes a second one.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use reqwest::Method;
use rusqlite::{params, OptionalExtension};
use serde_json::Value;

use super::model::DestinationOptions;
use super::model::FieldMap;
use crate::clock::unix_ms;
use crate::oauth::OAuth;
use crate::secret::Secret;
use crate::store::Store;

/// How a destination proves who it is.
pub(crate) enum Auth {
    Bearer(Secret),
    /// Basic with this user and password.
    Basic(Secret, Secret),
    /// A header holding the key (ActiveCampaign's `Api-Token`).
    Header(&'static str, Secret),
    /// Query parameters added to each URL (GA4's measurement ID and API secret); the one named
    /// secret is shown as `…` in the log.
    Query(Vec<(&'static str, Secret, bool)>),
}

/// Why a call (and so its item) did not succeed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Failure {
    /// The provider refused our access: the connection needs reconnecting; the queue waits.
    Reconnect(String),
    /// Rate limited: everything waits this long; not counted as a failed try.
    Wait(Duration, String),
    /// Network, 5xx, 408, 409: tried again with backoff.
    Retry(String),
    /// The provider refused this item (4xx): only a change can fix it; not retried.
    Stop(String),
}

impl Failure {
    pub fn message(&self) -> &str {
        match self {
            Failure::Reconnect(m) | Failure::Wait(_, m) | Failure::Retry(m) | Failure::Stop(m) => m,
        }
    }
}

/// A provider's answer that succeeded.
pub(crate) struct Answer {
    pub body: Value,
}

/// One call, as the sync log keeps it.
pub(crate) struct CallRecord {
    pub id: String,
    pub method: String,
    pub url: String,
    pub request_body: Option<Vec<u8>>,
    pub status: Option<u16>,
    pub response_headers: String,
    pub response_body: Option<Vec<u8>>,
    pub error_class: Option<&'static str>,
    pub message: Option<String>,
    pub duration_ms: i64,
    pub at: i64,
    /// The queue items (event IDs) it was made for.
    pub items: Vec<String>,
}

/// What the user configured.
#[derive(Debug, Clone, Default)]
pub(crate) struct Config {
    pub mapping: Vec<FieldMap>,
    pub options: DestinationOptions,
}

/// A record we made or may have made at the provider.
pub(crate) enum Known {
    /// Made, with its ID (and link).
    Made(String, Option<String>),
    /// A call to make it was sent but its answer never recorded: look it up before making it.
    Maybe,
    /// Never tried.
    New,
}

/// Rate-limit holds longer than this end the pass; shorter ones are waited out in place.
const WAIT_IN_PLACE: Duration = Duration::from_secs(12);

pub(crate) struct Cx<'a> {
    pub store: &'a Store,
    pub provider: &'static str,
    pub name: String,
    pub config: Config,
    /// The API's base URL, without a trailing slash.
    pub base: String,
    pub http: reqwest::Client,
    pub timeout: Duration,
    pub auth: Auth,
    /// For a token the provider refuses: renewed once, then the call is made again.
    pub renew: Option<(OAuth, String)>,
    pub calls: Vec<CallRecord>,
    /// The queue items (event IDs) the calls being made are for.
    pub serving: Vec<String>,
    /// No call before this (unix ms): the provider said its limit is used up.
    pub hold_until: i64,
    /// When the destination's recent calls started (kept across passes).
    pub times: &'a CallTimes,
}

impl Cx<'_> {
    pub async fn get(&mut self, path: &str) -> Result<Answer, Failure> {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&mut self, path: &str, body: Value) -> Result<Answer, Failure> {
        self.call(Method::POST, path, Some(body)).await
    }

    /// Calls the provider and records the call. `path` is below the base (or a whole URL).
    pub async fn call(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Answer, Failure> {
        let mut renewed = false;
        loop {
            let wait = self.hold_until - unix_ms();
            if wait > 0 {
                let wait = Duration::from_millis(wait as u64);
                if wait > WAIT_IN_PLACE {
                    return Err(Failure::Wait(
                        wait,
                        format!("{}'s rate limit is used up; waiting.", self.name),
                    ));
                }
                tokio::time::sleep(wait).await;
            }
            match self.once(method.clone(), path, body.as_ref()).await {
                Err(Failure::Reconnect(message)) if !renewed && self.renew.is_some() => {
                    renewed = true;
                    let Some((oauth, connection_id)) = &self.renew else {
                        return Err(Failure::Reconnect(message));
                    };
                    match oauth.renewed_token(connection_id).await {
                        Ok(token) => self.auth = Auth::Bearer(token),
                        Err(_) => return Err(Failure::Reconnect(message)),
                    }
                }
                other => return other,
            }
        }
    }

    async fn once(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, Failure> {
        let mut url = if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        };
        let mut shown_url = url.clone();
        let mut req_body = None;
        let mut builder;
        {
            if let Auth::Query(pairs) = &self.auth {
                for (i, (k, v, secret)) in pairs.iter().enumerate() {
                    let sep = if url.contains('?') || i > 0 { '&' } else { '?' };
                    let enc: String =
                        url::form_urlencoded::byte_serialize(v.expose().as_bytes()).collect();
                    url.push_str(&format!("{sep}{k}={enc}"));
                    let shown = if *secret { "…".to_owned() } else { enc };
                    shown_url.push_str(&format!("{sep}{k}={shown}"));
                }
            }
            builder = self
                .http
                .request(method.clone(), &url)
                .timeout(self.timeout);
            builder = match &self.auth {
                Auth::Bearer(t) => builder.bearer_auth(t.expose()),
                Auth::Basic(u, p) => builder.basic_auth(u.expose(), Some(p.expose())),
                Auth::Header(name, v) => builder.header(*name, v.expose()),
                Auth::Query(_) => builder,
            };
            if let Some(body) = body {
                let bytes = serde_json::to_vec(body).unwrap_or_default();
                builder = builder
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(bytes.clone());
                req_body = Some(bytes);
            }
            builder = builder.header(reqwest::header::ACCEPT, "application/json");
        }
        let started = Instant::now();
        let at = unix_ms();
        self.times.push(self.provider, at);
        let mut record = CallRecord {
            id: crate::ids::new_id(),
            method: method.to_string(),
            url: shown_url,
            request_body: req_body,
            status: None,
            response_headers: "[]".into(),
            response_body: None,
            error_class: None,
            message: None,
            duration_ms: 0,
            at,
            items: self.serving.clone(),
        };
        let result = match builder.send().await {
            Err(err) => {
                let (class, message) = crate::net::classify(err, self.timeout);
                let class = if class == "timeout" {
                    "timeout"
                } else {
                    "network"
                };
                let message = format!("{} could not be reached: {message}", self.name);
                record.error_class = Some(class);
                record.message = Some(message.clone());
                Err(Failure::Retry(message))
            }
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                let headers = resp.headers().clone();
                let (bytes, _, _) = crate::net::read_capped(&mut resp).await;
                record.status = Some(status);
                record.response_headers = headers_json(&headers);
                let json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                record.response_body = Some(bytes);
                if let Some(window) = limit_used_up(&headers) {
                    let free = self.times.free_at(self.provider, window, unix_ms());
                    self.hold_until = self.hold_until.max(free);
                }
                let outcome = self.classify(status, &headers, &json);
                if let Err(f) = &outcome {
                    record.error_class = Some(match f {
                        Failure::Reconnect(_) => "refused_token",
                        Failure::Wait(..) => "rate_limited",
                        Failure::Retry(_) => "server",
                        Failure::Stop(_) => "invalid",
                    });
                    record.message = Some(f.message().to_owned());
                }
                outcome.map(|()| Answer { body: json })
            }
        };
        record.duration_ms = started.elapsed().as_millis() as i64;
        self.calls.push(record);
        result
    }

    fn classify(&mut self, status: u16, headers: &HeaderMap, body: &Value) -> Result<(), Failure> {
        if (200..300).contains(&status) {
            return Ok(());
        }
        let theirs = provider_message(body);
        let said = |what: &str| match &theirs {
            Some(m) => format!("{what} {}: “{m}”", self.name),
            None => format!("{what} {} (HTTP {status}).", self.name),
        };
        match status {
            401 => Err(Failure::Reconnect(format!(
                "{} Reconnect {} to go on; what is waiting will be sent then.",
                said("Access refused by"),
                self.name
            ))),
            // Salesforce's daily API allowance (a rolling 24 hours) is used up.
            403 if body.to_string().contains("REQUEST_LIMIT_EXCEEDED") => {
                let wait = Duration::from_secs(15 * 60);
                self.hold_until = self.hold_until.max(unix_ms() + wait.as_millis() as i64);
                Err(Failure::Wait(wait, said("The API allowance is used up at")))
            }
            403 if matches!(self.auth, Auth::Header(..) | Auth::Basic(..)) => {
                Err(Failure::Reconnect(format!(
                    "{} Check the key, then reconnect {}.",
                    said("The key was refused by"),
                    self.name
                )))
            }
            429 => {
                let now = unix_ms();
                let free = match (crate::net::retry_after(headers), limit_used_up(headers)) {
                    (Some(after), _) => now + after.as_millis() as i64,
                    // Over the limit though our count said not: others share it; a whole window.
                    (None, Some((_, interval))) => now + interval.as_millis() as i64,
                    (None, None) => now + 10_000,
                };
                self.hold_until = self.hold_until.max(free);
                let wait = Duration::from_millis(u64::try_from(free - now).unwrap_or(0));
                Err(Failure::Wait(wait, said("Rate limited by")))
            }
            408 | 409 | 500..=599 => Err(Failure::Retry(said("A temporary error from"))),
            _ => Err(Failure::Stop(said("Refused by"))),
        }
    }

    /// What is known of the record we make under `key`.
    pub fn known(&self, key: &str) -> crate::error::Result<Known> {
        let row: Option<(Option<String>, Option<String>)> = self
            .store
            .conn()
            .query_row(
                "SELECT provider_id, url FROM destination_object WHERE destination = ?1 AND our_key = ?2",
                params![self.provider, key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(match row {
            Some((Some(id), url)) => Known::Made(id, url),
            Some((None, _)) => Known::Maybe,
            None => Known::New,
        })
    }

    /// Written before the call that makes the record: after a crash, the retry looks first.
    fn intend(&self, key: &str) -> crate::error::Result<()> {
        self.store.conn().execute(
            "INSERT OR IGNORE INTO destination_object (destination, our_key, created_at) VALUES (?1, ?2, ?3)",
            params![self.provider, key, unix_ms()],
        )?;
        Ok(())
    }

    pub fn made(&self, key: &str, id: &str, url: Option<&str>) -> Result<(), Failure> {
        self.store
            .conn()
            .execute(
            "INSERT INTO destination_object (destination, our_key, provider_id, url, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (destination, our_key) DO UPDATE SET provider_id = excluded.provider_id, url = excluded.url",
                params![self.provider, key, id, url, unix_ms()],
            )
            .map_err(|e| store_failure(e.into()))?;
        Ok(())
    }

    /// Before making the record under `key`: what is known of it. `Made` — use it; `Maybe` —
    /// a try's answer was lost, look it up at the provider first; `New` — make it (its intent
    /// is written now, so a crash during the call is looked up next time). Record what was
    /// made with [`Cx::made`].
    pub fn begin(&self, key: &str) -> Result<Known, Failure> {
        let known = self.known(key).map_err(store_failure)?;
        match known {
            Known::New => self.intend(key).map_err(store_failure)?,
            // The lost try may still be worked on at the provider (we stopped waiting, it did
            // not): a lookup now could miss what it is making, and the record would be made
            // twice. Looked up once it has had time to finish.
            Known::Maybe if self.intended_within(key, self.timeout * 2)? => {
                return Err(Failure::Retry(format!(
                    "An earlier try at {} has not answered yet; it is looked up again shortly.",
                    self.name
                )));
            }
            _ => {}
        }
        Ok(known)
    }

    /// Whether the intent under `key` was written less than `within` ago.
    fn intended_within(&self, key: &str, within: Duration) -> Result<bool, Failure> {
        let at: Option<i64> = self
            .store
            .conn()
            .query_row(
                "SELECT created_at FROM destination_object WHERE destination = ?1 AND our_key = ?2",
                params![self.provider, key],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| store_failure(e.into()))?;
        Ok(at.is_some_and(|at| unix_ms() - at < within.as_millis() as i64))
    }

    /// The provider property each of our fields maps to, with the lead's value.
    pub fn mapped(&self, lead: &super::work::Lead) -> Vec<(String, Value)> {
        self.config
            .mapping
            .iter()
            .filter_map(|m| Some((m.to.clone(), lead.value(&m.from)?)))
            .collect()
    }
}

pub(crate) fn store_failure(err: crate::error::Error) -> Failure {
    Failure::Retry(err.to_string())
}

/// The provider's own words in an error body, whatever its shape.
pub(crate) fn provider_message(body: &Value) -> Option<String> {
    let body = match body {
        Value::Array(items) => items.first()?,
        other => other,
    };
    let text = |v: &Value| {
        v.as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let mut parts: Vec<String> = Vec::new();
    for key in [
        "message",
        "title",
        "error_description",
        "description",
        "error",
    ] {
        if let Some(t) = text(&body[key]) {
            parts.push(t);
            break;
        }
    }
    if let Some(t) = text(&body["detail"]) {
        parts.push(t);
    }
    // Field-level details: Freshdesk's and ActiveCampaign's errors[], Zendesk's details.
    if let Some(errors) = body["errors"].as_array() {
        for e in errors.iter().take(3) {
            let field = text(&e["field"])
                .map(|f| format!("{f}: "))
                .unwrap_or_default();
            if let Some(m) = text(&e["message"]).or_else(|| text(&e["title"])) {
                parts.push(format!("{field}{m}"));
            }
        }
    }
    if let Some(details) = body["details"].as_object() {
        for (field, list) in details.iter().take(3) {
            for d in list.as_array().into_iter().flatten().take(2) {
                if let Some(m) = text(&d["description"]) {
                    parts.push(format!("{field}: {m}"));
                }
            }
        }
    }
    if let Some(code) = text(&body["errorCode"]) {
        parts.push(format!("({code})"));
    }
    parts.dedup();
    (!parts.is_empty()).then(|| parts.join(" — "))
}

/// A provider's headers saying its limit is used up: how many calls its window allows (when it
/// says) and how long the window is — or, when it says when the window resets, `None` and that.
fn limit_used_up(headers: &HeaderMap) -> Option<(Option<u64>, Duration)> {
    let num = |name: &str| -> Option<u64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
    if num("x-hubspot-ratelimit-remaining") == Some(0) {
        let interval = num("x-hubspot-ratelimit-interval-milliseconds").unwrap_or(10_000);
        return Some((
            num("x-hubspot-ratelimit-max"),
            Duration::from_millis(interval),
        ));
    }
    if num("x-ratelimit-remaining") == Some(0) {
        // Pipedrive says when its window resets; Freshdesk's is a minute.
        return Some(match num("x-ratelimit-reset") {
            Some(reset) => (None, Duration::from_secs(reset)),
            None => (num("x-ratelimit-total"), Duration::from_secs(60)),
        });
    }
    if num("x-rate-limit-remaining") == Some(0) {
        return Some((num("x-rate-limit"), Duration::from_secs(60)));
    }
    None
}

/// When each destination's recent calls started: with a rolling window of `max` calls per
/// interval, a used-up limit frees when the oldest of the last `max` calls leaves the window —
/// waiting a whole interval from the last call would waste most of it.
#[derive(Default)]
pub(crate) struct CallTimes(std::sync::Mutex<HashMap<&'static str, VecDeque<i64>>>);

/// Calls remembered per destination (above any provider's window).
const REMEMBERED_CALLS: usize = 512;

impl CallTimes {
    fn push(&self, provider: &'static str, at: i64) {
        let mut all = crate::sync::lock(&self.0);
        let times = all.entry(provider).or_default();
        if times.len() == REMEMBERED_CALLS {
            times.pop_front();
        }
        times.push_back(at);
    }

    /// When the call `n` calls ago started (`n` = 1: the latest), if remembered.
    fn nth_latest(&self, provider: &str, n: u64) -> Option<i64> {
        let all = crate::sync::lock(&self.0);
        let times = all.get(provider)?;
        let n = usize::try_from(n).ok().filter(|n| *n >= 1)?;
        times.len().checked_sub(n).map(|i| times[i])
    }

    /// When a call may go again after `window` (from [`limit_used_up`]).
    fn free_at(&self, provider: &str, window: (Option<u64>, Duration), now: i64) -> i64 {
        let (max, interval) = window;
        let interval = interval.as_millis() as i64;
        match max.and_then(|n| self.nth_latest(provider, n)) {
            // Our own calls fill the window: it frees when the oldest of them leaves it (the
            // provider counts a call when it answers, a little after we sent it).
            Some(oldest) => (oldest + interval).max(now) + WINDOW_MARGIN_MS,
            // Others share the limit (or it resets at a time the provider said).
            None => now + interval,
        }
    }
}

/// How long after our oldest call leaves the provider's window the next one goes.
const WINDOW_MARGIN_MS: i64 = 25;

fn headers_json(headers: &HeaderMap) -> String {
    let pairs: Vec<(&str, &str)> = headers
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "set-cookie" | "authorization" | "cookie"))
        .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)))
        .collect();
    serde_json::to_string(&pairs).unwrap_or_else(|_| "[]".into())
}

/// A message without the URLs in it (a URL can carry a key in its query).
#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn provider_messages_of_each_shape() {
        let hubspot = json!({"status":"error","message":"Property values were not valid","category":"VALIDATION_ERROR"});
        assert_eq!(
            provider_message(&hubspot).unwrap(),
            "Property values were not valid"
        );
        let salesforce = json!([{"message":"Required fields are missing: [Company]","errorCode":"REQUIRED_FIELD_MISSING"}]);
        assert_eq!(
            provider_message(&salesforce).unwrap(),
            "Required fields are missing: [Company] — (REQUIRED_FIELD_MISSING)"
        );
        let freshdesk = json!({"description":"Validation failed","errors":[{"field":"email","message":"It should be a valid email address","code":"invalid_value"}]});
        assert_eq!(
            provider_message(&freshdesk).unwrap(),
            "Validation failed — email: It should be a valid email address"
        );
        let zendesk = json!({"error":"RecordInvalid","description":"Record validation errors","details":{"requester":[{"description":"Requester: Email is invalid"}]}});
        assert_eq!(
            provider_message(&zendesk).unwrap(),
            "Record validation errors — requester: Requester: Email is invalid"
        );
        let mailchimp = json!({"title":"Resource Not Found","status":404,"detail":"The requested resource could not be found."});
        assert_eq!(
            provider_message(&mailchimp).unwrap(),
            "Resource Not Found — The requested resource could not be found."
        );
        assert_eq!(provider_message(&Value::Null), None);
    }

    #[test]
    fn used_up_limits_say_how_long_to_wait() {
        let mut h = HeaderMap::new();
        h.insert("x-hubspot-ratelimit-remaining", "0".parse().unwrap());
        h.insert(
            "x-hubspot-ratelimit-interval-milliseconds",
            "10000".parse().unwrap(),
        );
        h.insert("x-hubspot-ratelimit-max", "110".parse().unwrap());
        assert_eq!(
            limit_used_up(&h),
            Some((Some(110), Duration::from_secs(10)))
        );
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-remaining", "3".parse().unwrap());
        assert_eq!(limit_used_up(&h), None);
        h.insert("x-ratelimit-remaining", "0".parse().unwrap());
        h.insert("x-ratelimit-reset", "2".parse().unwrap());
        assert_eq!(limit_used_up(&h), Some((None, Duration::from_secs(2))));
    }

    #[test]
    fn a_used_up_rolling_window_frees_when_its_oldest_call_leaves_it() {
        let times = CallTimes::default();
        for at in [1_000, 1_100, 1_200] {
            times.push("hubspot", at);
        }
        let window = (Some(3), Duration::from_millis(1_000));
        // The 3 calls of the window began at 1,000: the window frees at 2,000, not 1,250 + 1,000.
        assert_eq!(
            times.free_at("hubspot", window, 1_250),
            2_000 + WINDOW_MARGIN_MS
        );
        // Already past: at once (with the margin).
        assert_eq!(
            times.free_at("hubspot", window, 2_100),
            2_100 + WINDOW_MARGIN_MS
        );
        // Fewer calls of ours than the limit: others use it too; a whole interval from now.
        assert_eq!(
            times.free_at("hubspot", (Some(5), Duration::from_millis(1_000)), 1_250),
            2_250
        );
        assert_eq!(
            times.free_at("hubspot", (None, Duration::from_millis(500)), 1_250),
            1_750
        );
    }
}
