//! Calls to the providers' APIs for sources: the connection's token, the base URLs (catalog
//! hosts or the providers file's `api_base_url`), `429`/`5xx` retried with backoff honouring
//! `Retry-After`, and the providers' error bodies turned into messages for people.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::model::{provider_name, SourcesConfig, DOCS_API, DRIVE_API, NOTION, NOTION_API};
use crate::connections::Connection;
use crate::error::{Error, Result};
use crate::oauth::OAuth;
use crate::secret::Secret;

/// The Notion API version these requests are written against.
const NOTION_VERSION: &str = "2022-06-28";

pub(super) struct Api {
    http: reqwest::Client,
    oauth: OAuth,
    connection_id: String,
    token: Secret,
    provider: String,
    /// Notion's base, or Drive's for Google.
    pub(super) base: String,
    /// Google Docs' base (the same as `base` when the providers file overrides it).
    pub(super) docs_base: String,
    retry_min_delay: Duration,
    retry_times: usize,
    retry_after_max: Duration,
}

/// Why one request did not succeed; retried when `retry` says so.
struct Failed {
    error: Error,
    retry: bool,
    retry_after: Option<Duration>,
    /// A 401: the provider no longer accepts the connection's token.
    unauthorized: bool,
}

impl Api {
    pub(super) async fn open(
        oauth: &OAuth,
        connection: &Connection,
        config: &SourcesConfig,
    ) -> Result<Self> {
        let (providers, provider) = oauth.provider(&connection.provider).await?;
        let token = oauth.access_token(&connection.id).await?;
        let over = provider
            .api_base_url
            .map(|u| u.as_str().trim_end_matches('/').to_string());
        let (base, docs_base) = match (connection.provider.as_str(), over) {
            (_, Some(o)) => (o.clone(), o),
            (NOTION, None) => (NOTION_API.to_string(), NOTION_API.to_string()),
            (_, None) => (DRIVE_API.to_string(), DOCS_API.to_string()),
        };
        Ok(Self {
            http: providers.http_client(config.request_timeout)?,
            oauth: oauth.clone(),
            connection_id: connection.id.clone(),
            token,
            provider: connection.provider.clone(),
            base,
            docs_base,
            retry_min_delay: config.retry_min_delay,
            retry_times: config.retry_times,
            retry_after_max: config.retry_after_max,
        })
    }

    pub(super) fn name(&self) -> &'static str {
        provider_name(&self.provider)
    }

    /// `GET url` (absolute), the JSON answer.
    pub(super) async fn get(&self, url: &str, query: &[(&str, &str)]) -> Result<Value> {
        self.call(Method::GET, url, query, None).await
    }

    /// `POST url` with a JSON body, the JSON answer.
    pub(super) async fn post(&self, url: &str, body: &Value) -> Result<Value> {
        self.call(Method::POST, url, &[], Some(body)).await
    }

    async fn call(
        &self,
        method: Method,
        url: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Value> {
        let once = || self.once(method.clone(), url, query, body);
        let max = self.retry_after_max;
        once.retry(
            ExponentialBuilder::default()
                .with_min_delay(self.retry_min_delay)
                .with_max_delay(max)
                .with_max_times(self.retry_times)
                .with_jitter(),
        )
        .sleep(tokio::time::sleep)
        .when(|f: &Failed| f.retry)
        // The provider knows its limits best: its Retry-After replaces our delay.
        .adjust(move |f: &Failed, delay| f.retry_after.map(|ra| ra.min(max)).or(delay))
        .notify(|f: &Failed, delay| {
            tracing::info!(error = %f.error, ?delay, "provider request retried");
        })
        .await
        .map_err(|f| {
            // Revoked upstream, or the token was refused despite its expiry: every other call
            // would fail alike, so the connection's card says to reconnect, not just this source.
            if f.unauthorized {
                if let Err(err) = self
                    .oauth
                    .mark_needs_reauth(&self.connection_id, &f.error.to_string())
                {
                    tracing::warn!(error = %err, "cannot mark the connection for reconnecting");
                }
            }
            f.error
        })
    }

    async fn once(
        &self,
        method: Method,
        url: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Value, Failed> {
        let mut url = url::Url::parse(url).map_err(|_| Failed {
            error: Error::Internal(format!("{}'s address is not valid.", self.name())),
            retry: false,
            retry_after: None,
            unauthorized: false,
        })?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let mut request = self
            .http
            .request(method, url)
            .bearer_auth(self.token.expose());
        if self.provider == NOTION {
            request = request.header("Notion-Version", NOTION_VERSION);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let resp = request.send().await.map_err(|err| Failed {
            error: Error::Upstream(format!(
                "{} could not be reached ({}). Check the network, then retry.",
                self.name(),
                if err.is_timeout() {
                    "no answer in time"
                } else {
                    "no connection"
                }
            )),
            retry: true,
            retry_after: None,
            unauthorized: false,
        })?;
        let status = resp.status();
        let retry_after = crate::net::retry_after(resp.headers());
        let bytes = resp.bytes().await.map_err(|_| Failed {
            error: Error::Upstream(format!(
                "{}'s answer broke off. Retry in a moment.",
                self.name()
            )),
            retry: true,
            retry_after: None,
            unauthorized: false,
        })?;
        let json: Option<Value> = serde_json::from_slice(&bytes).ok();
        if status.is_success() {
            return json.ok_or_else(|| Failed {
                error: Error::Upstream(format!(
                    "{} answered with something that is not JSON. Retry later.",
                    self.name()
                )),
                retry: false,
                retry_after: None,
                unauthorized: false,
            });
        }
        Err(Failed {
            error: self.refusal(status, json.as_ref()),
            retry: status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error(),
            retry_after,
            unauthorized: status == StatusCode::UNAUTHORIZED,
        })
    }

    /// A refusal, said for people: what the provider said and what to do.
    fn refusal(&self, status: StatusCode, body: Option<&Value>) -> Error {
        let name = self.name();
        // Notion: {object:"error", code, message}; Google: {error:{code, status, message}}.
        let (code, said) = body
            .map(|b| {
                let g = &b["error"];
                let code = b["code"].as_str().or(g["status"].as_str()).unwrap_or("");
                let said = b["message"]
                    .as_str()
                    .or(g["message"].as_str())
                    .unwrap_or("");
                (code.to_string(), said.chars().take(300).collect::<String>())
            })
            .unwrap_or_default();
        let detail = match (code.is_empty(), said.is_empty()) {
            (false, false) => format!(" ({} {code}: {said})", status.as_u16()),
            (false, true) => format!(" ({} {code})", status.as_u16()),
            (true, false) => format!(" ({}: {said})", status.as_u16()),
            (true, true) => format!(" ({})", status.as_u16()),
        };
        match status {
            StatusCode::UNAUTHORIZED => Error::Upstream(format!(
                "{name} refused Pitchbar's access{detail}. Reconnect {name}, then retry."
            )),
            StatusCode::FORBIDDEN => Error::Upstream(format!(
                "{name} does not let Pitchbar read this{detail}. Share it with the Pitchbar integration, then retry."
            )),
            StatusCode::NOT_FOUND if self.provider == NOTION => Error::Upstream(format!(
                "Notion could not find this page{detail}: it was deleted, or it is not shared with the Pitchbar integration. Share it in Notion (••• → Connections), then retry."
            )),
            StatusCode::NOT_FOUND => Error::Upstream(format!(
                "Google could not find this document{detail}: it was deleted, or the connected account lost access to it."
            )),
            StatusCode::TOO_MANY_REQUESTS => Error::Upstream(format!(
                "{name} kept limiting Pitchbar's requests{detail}. Retry in a few minutes."
            )),
            s if s.is_server_error() => Error::Upstream(format!(
                "{name} had an error{detail}. Retry later."
            )),
            _ => Error::Upstream(format!("{name} refused the request{detail}.")),
        }
    }
}
