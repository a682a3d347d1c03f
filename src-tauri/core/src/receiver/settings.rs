//! What the receiver is told: its port, what it verifies with, how it answers and where it
//! forwards — checked once when set, and prepared so each request only reads it.

use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};
use specta::Type;

use super::json::pairs_json;
use crate::error::{Error, Result};
use crate::loopback::Limits;
use crate::secret::Secret;
use crate::webhooks::endpoints::check_url;
use crate::webhooks::verify::Candidate;

/// The port the receiver uses unless told otherwise (the local API has 4787).
pub const DEFAULT_PORT: u16 = 4788;
/// The replay window the spec tells receivers to use, in both directions of time.
pub const TOLERANCE_SECS: i64 = 300;

/// Statuses the UI offers as presets; any 200–599 can be set.
pub const STATUS_PRESETS: [u16; 7] = [200, 400, 404, 410, 429, 500, 503];
/// Longer than any sender's timeout (ours is 5 s, at most 60 s), to test what a timeout does.
pub const MAX_DELAY_MS: u32 = 120_000;
/// A `Retry-After` of up to a day.
pub const MAX_RETRY_AFTER_SECS: u32 = 86_400;
/// The custom answer body, at most.
pub const MAX_RESPONSE_BODY: usize = 64 * 1024;

/// Gives the secrets to verify with; the app returns every endpoint's, retired ones included.
/// Called for every request, so it must be cheap: the app's caches its list until an endpoint
/// or secret changes (see `Core::endpoint_candidates`).
pub type CandidatesFn = Arc<dyn Fn() -> Result<Arc<Vec<Candidate>>> + Send + Sync>;

/// What signatures are checked with.
#[derive(Clone, Default)]
pub enum VerifyWith {
    /// Nothing: every signed request is diagnosed `no_secret`.
    #[default]
    Nothing,
    /// One secret the user chose or pasted.
    Secret(Secret),
    /// The caller's candidates (e.g. every endpoint's secrets).
    Candidates(CandidatesFn),
}

impl VerifyWith {
    pub fn mode(&self) -> VerifyMode {
        match self {
            VerifyWith::Nothing => VerifyMode::Nothing,
            VerifyWith::Secret(s) => VerifyMode::Secret {
                redacted: s.redacted(),
            },
            VerifyWith::Candidates(_) => VerifyMode::Candidates,
        }
    }
}

/// [`VerifyWith`] as the UI shows it: never the secret itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum VerifyMode {
    Nothing,
    Secret { redacted: String },
    Candidates,
}

/// How the receiver answers. Changeable while it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct ResponseSpec {
    /// 200–599.
    pub status: u16,
    pub body: String,
    /// Sent as `Content-Type` when the body is not empty; `text/plain; charset=utf-8` if unset.
    pub content_type: Option<String>,
    /// Sent as `Retry-After` (seconds), e.g. with 429 or 503.
    pub retry_after_secs: Option<u32>,
    /// Held this long before answering (0–120,000 ms).
    pub delay_ms: u32,
    /// Close the connection without any answer (after the delay), as a crashing server does.
    pub close_without_answer: bool,
}

impl ResponseSpec {
    /// What the receiver does with a request, in words: "answers 200", "answers 503 after
    /// 2000 ms with Retry-After 30", "closes the connection without an answer".
    pub fn describe(&self) -> String {
        let delay = if self.delay_ms > 0 {
            format!(" after {} ms", self.delay_ms)
        } else {
            String::new()
        };
        if self.close_without_answer {
            return format!("closes the connection without an answer{delay}");
        }
        let retry = self
            .retry_after_secs
            .map(|s| format!(" with Retry-After {s}"))
            .unwrap_or_default();
        format!("answers {}{delay}{retry}", self.status)
    }
}

impl Default for ResponseSpec {
    fn default() -> Self {
        Self::status(200)
    }
}

impl ResponseSpec {
    /// A preset: the status with an empty body, answered at once.
    pub fn status(status: u16) -> Self {
        Self {
            status,
            body: String::new(),
            content_type: None,
            retry_after_secs: None,
            delay_ms: 0,
            close_without_answer: false,
        }
    }
}

/// Everything `Core::start_receiver` needs.
#[derive(Clone)]
pub struct ReceiverConfig {
    /// The port on 127.0.0.1; 0 picks any free port (the returned address says which).
    pub port: u16,
    pub verify_with: VerifyWith,
    pub response: ResponseSpec,
    /// http(s) URL every request is also sent to, exactly (method, headers and body kept).
    pub forward_to: Option<String>,
    /// Record `Authorization`, `Cookie` and `Set-Cookie` as sent; by default they are masked in
    /// the log (the forward always gets them whole).
    pub keep_credentials: bool,
    /// Connections, header size and timeouts.
    pub limits: Limits,
}

impl Default for ReceiverConfig {
    fn default() -> Self {
        Self {
            port: DEFAULT_PORT,
            verify_with: VerifyWith::Nothing,
            response: ResponseSpec::default(),
            forward_to: None,
            keep_credentials: false,
            limits: Limits::default(),
        }
    }
}

/// The answer as sent (and recorded): built once per setting, shared by every request (behind an
/// `Arc`, so a request takes it with one reference count).
#[derive(Debug)]
pub(crate) struct Answer {
    /// `None`: the connection is closed without an answer.
    pub status: Option<u16>,
    /// The headers as sent, parsed once here rather than for every request.
    pub header_map: HeaderMap,
    /// The same headers as recorded (`response_headers`), written once here.
    pub headers_json: String,
    pub body: Bytes,
    pub delay_ms: u32,
}

impl Answer {
    fn new(
        status: Option<u16>,
        headers: Vec<(String, String)>,
        body: Bytes,
        delay_ms: u32,
    ) -> Self {
        // Names and values were checked where they were set; one that somehow is not valid
        // is left out of what is sent, as before.
        let header_map = headers
            .iter()
            .filter_map(|(name, value)| {
                Some((
                    HeaderName::from_bytes(name.as_bytes()).ok()?,
                    HeaderValue::from_str(value).ok()?,
                ))
            })
            .collect();
        Self {
            status,
            headers_json: pairs_json(&headers),
            header_map,
            body,
            delay_ms,
        }
    }

    /// The answer to a request the receiver refuses, saying why.
    pub(crate) fn refused(reason: &str) -> Self {
        Self::new(
            Some(403),
            vec![("content-type".into(), "text/plain; charset=utf-8".into())],
            Bytes::from(reason.to_owned()),
            0,
        )
    }

    /// The answer to a body over the size limit: the configured one is not given.
    pub(crate) fn too_large(limit: usize) -> Self {
        Self::new(
            Some(413),
            vec![("content-type".into(), "text/plain; charset=utf-8".into())],
            Bytes::from(format!(
                "The request body is larger than the receiver's {} MiB limit.",
                limit / (1024 * 1024)
            )),
            0,
        )
    }
}

/// The current settings, swapped whole when the user changes them.
#[derive(Debug, Clone)]
pub(crate) struct Live {
    pub spec: ResponseSpec,
    pub answer: Arc<Answer>,
    pub forward: Option<reqwest::Url>,
}

impl Live {
    pub(crate) fn new(spec: ResponseSpec) -> Result<Self> {
        let answer = Arc::new(answer_for(&spec)?);
        Ok(Self {
            spec,
            answer,
            forward: None,
        })
    }

    pub(crate) fn with_response(&self, spec: ResponseSpec) -> Result<Self> {
        Ok(Self {
            answer: Arc::new(answer_for(&spec)?),
            spec,
            forward: self.forward.clone(),
        })
    }

    pub(crate) fn with_forward(&self, forward_to: Option<&str>, own_port: u16) -> Result<Self> {
        let forward = forward_to
            .map(|url| check_forward(url, own_port))
            .transpose()?;
        Ok(Self {
            forward,
            ..self.clone()
        })
    }
}

fn answer_for(spec: &ResponseSpec) -> Result<Answer> {
    if !(200..=599).contains(&spec.status) {
        return Err(Error::invalid(format!(
            "{} is not a status the receiver can answer with. Use 200–599 (1xx answers are only \
             interim, and a sender would keep waiting for the final one).",
            spec.status
        )));
    }
    if spec.delay_ms > MAX_DELAY_MS {
        return Err(Error::invalid(format!(
            "A delay of {} ms is too long. Use at most {MAX_DELAY_MS} ms (2 minutes): longer than \
             any sender's timeout.",
            spec.delay_ms
        )));
    }
    if spec.body.len() > MAX_RESPONSE_BODY {
        return Err(Error::invalid(
            "The answer body is larger than 64 KiB. Use a shorter one.",
        ));
    }
    let mut headers = Vec::new();
    if !spec.body.is_empty() {
        let ct = spec
            .content_type
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .unwrap_or("text/plain; charset=utf-8");
        if hyper::header::HeaderValue::from_str(ct).is_err() {
            return Err(Error::invalid(
                "The content type must be plain text on one line, like application/json.",
            ));
        }
        headers.push(("content-type".to_owned(), ct.to_owned()));
    }
    if let Some(secs) = spec.retry_after_secs {
        if secs > MAX_RETRY_AFTER_SECS {
            return Err(Error::invalid(format!(
                "A Retry-After of {secs} seconds is too long. Use at most {MAX_RETRY_AFTER_SECS} (a day)."
            )));
        }
        headers.push(("retry-after".to_owned(), secs.to_string()));
    }
    Ok(Answer::new(
        (!spec.close_without_answer).then_some(spec.status),
        headers,
        Bytes::from(spec.body.clone().into_bytes()),
        spec.delay_ms,
    ))
}

/// A forward URL: http(s), a host, no credentials — and not this receiver itself, which would
/// forward each request to itself forever.
pub(crate) fn check_forward(raw: &str, own_port: u16) -> Result<reqwest::Url> {
    let (url, _) = check_url(raw).map_err(|err| match err {
        Error::InvalidInput(message) => {
            Error::invalid(format!("The forward URL is not usable. {message}"))
        }
        other => other,
    })?;
    let url = reqwest::Url::parse(&url)
        .map_err(|_| Error::invalid("The forward URL is not a valid URL."))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    };
    if own_port != 0 && loopback && url.port_or_known_default() == Some(own_port) {
        return Err(Error::invalid(format!(
            "The forward URL points at this receiver (port {own_port}): each request would be \
             forwarded to itself without end. Forward to your own server's port instead."
        )));
    }
    Ok(url)
}
