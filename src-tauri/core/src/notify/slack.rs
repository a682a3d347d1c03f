//! Slack's Web API as the notifier uses it: listing channels, posting as the bot, opening a
//! Socket Mode connection. Slack answers HTTP 200 `{"ok": false, "error": "…"}` for refusals and
//! HTTP 429 with `Retry-After` when rate limited; both become a [`SlackError`].

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use specta::Type;
use url::Url;

use crate::secret::Secret;

/// The Web API's address when the providers file does not override it.
pub const DEFAULT_API_BASE: &str = "https://slack.com/api";

/// Channels fetched per `conversations.list` page (Slack allows up to 1000; fewer is advised).
const PAGE_LIMIT: u32 = 200;

/// Pages read at most when listing channels: 20,000 channels is more than a picker can show.
const MAX_PAGES: usize = 100;

/// A channel the bot can post to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type)]
pub struct SlackChannel {
    pub id: String,
    /// Without the `#`.
    pub name: String,
    pub is_private: bool,
}

/// How a Slack call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlackError {
    /// HTTP 429: wait this long, then try again.
    RateLimited(Duration),
    /// `{ok:false, error}`: Slack's error code, as documented per method.
    Api(String),
    /// No answer, or one that is not Slack's (network, 5xx, not JSON).
    Transport(String),
}

impl SlackError {
    /// What a person must do about an error that will not go away by waiting, or `None` for
    /// the errors a retry can cure.
    pub fn needs_user(&self) -> Option<String> {
        let SlackError::Api(code) = self else {
            return None;
        };
        Some(match code.as_str() {
            "channel_not_found" => "Slack says the notification channel no longer exists (channel_not_found). Open Configure and pick another channel.".into(),
            "not_in_channel" => "The Pitchbar app is not a member of the private notification channel (not_in_channel). In Slack, type /invite @Pitchbar in that channel, then press Retry.".into(),
            "is_archived" => "The notification channel is archived (is_archived). Unarchive it in Slack, or open Configure and pick another channel.".into(),
            "invalid_auth" | "not_authed" => "Slack no longer accepts Pitchbar's sign-in (invalid_auth). Disconnect Slack and connect it again.".into(),
            "token_revoked" | "token_expired" | "account_inactive" => format!("Pitchbar's access to Slack was revoked ({code}). Connect Slack again, then press Retry."),
            "missing_scope" => "Pitchbar's Slack app lacks a permission it needs (missing_scope). Disconnect Slack and connect it again to grant it.".into(),
            "msg_too_long" | "invalid_blocks" | "too_many_attachments" => format!("Slack refused this notification's content ({code}). Press Retry to send the rest."),
            "restricted_action" => "Your Slack workspace does not let the Pitchbar app post in that channel (restricted_action). Ask a Slack admin, or pick another channel.".into(),
            other => format!("Slack refused the notification ({other}). Press Retry; if it happens again, reconnect Slack."),
        })
    }

    /// A line for logs and retry notes.
    pub fn describe(&self) -> String {
        match self {
            SlackError::RateLimited(wait) => {
                format!("Slack is rate limiting; waiting {} s", wait.as_secs())
            }
            SlackError::Api(code) => format!("Slack answered {code}"),
            SlackError::Transport(what) => format!("Slack could not be reached ({what})"),
        }
    }
}

/// A Web API client for one bot token.
pub struct SlackApi<'a> {
    pub http: &'a reqwest::Client,
    pub base: &'a Url,
    pub token: &'a Secret,
}

/// `chat.postMessage`'s answer: where the message is, for threading.
#[derive(Debug, Clone, Deserialize)]
pub struct Posted {
    pub channel: String,
    pub ts: String,
}

impl SlackApi<'_> {
    fn url(&self, method: &str) -> String {
        format!("{}/{method}", self.base.as_str().trim_end_matches('/'))
    }

    async fn call(&self, method: &str, body: &Value, token: &Secret) -> Result<Value, SlackError> {
        let resp = self
            .http
            .post(self.url(method))
            .bearer_auth(token.expose())
            .json(body)
            .send()
            .await
            .map_err(|err| SlackError::Transport(short_error(&err)))?;
        if resp.status() == reqwest::StatusCode::TOO_MANY_REQUESTS {
            let wait = crate::net::retry_after(resp.headers()).unwrap_or(Duration::from_secs(30));
            return Err(SlackError::RateLimited(wait.max(Duration::from_secs(1))));
        }
        let status = resp.status();
        let value: Value = resp
            .json()
            .await
            .map_err(|_| SlackError::Transport(format!("HTTP {status}, not Slack's JSON")))?;
        if value["ok"].as_bool() == Some(true) {
            return Ok(value);
        }
        match value["error"].as_str() {
            Some("ratelimited") => Err(SlackError::RateLimited(Duration::from_secs(30))),
            Some(code) => Err(SlackError::Api(code.to_owned())),
            None => Err(SlackError::Transport(format!("HTTP {status} without ok"))),
        }
    }

    /// Every channel the bot may post to: public ones, and the private ones it was invited to
    /// (Slack lists only those), archived ones left out; all pages, sorted by name.
    pub async fn channels(&self) -> Result<Vec<SlackChannel>, SlackError> {
        let mut out = Vec::new();
        let mut cursor = String::new();
        for _ in 0..MAX_PAGES {
            let mut body = json!({
                "types": "public_channel,private_channel",
                "exclude_archived": true,
                "limit": PAGE_LIMIT,
            });
            if !cursor.is_empty() {
                body["cursor"] = json!(cursor);
            }
            let page = match self.call("conversations.list", &body, self.token).await {
                // One page may be rate limited on a large workspace: wait as told and go on.
                Err(SlackError::RateLimited(wait)) if wait <= Duration::from_secs(60) => {
                    tokio::time::sleep(wait).await;
                    continue;
                }
                other => other?,
            };
            for c in page["channels"].as_array().into_iter().flatten() {
                let (Some(id), Some(name)) = (c["id"].as_str(), c["name"].as_str()) else {
                    continue;
                };
                if c["is_archived"].as_bool() == Some(true) {
                    continue;
                }
                out.push(SlackChannel {
                    id: id.to_owned(),
                    name: name.to_owned(),
                    is_private: c["is_private"].as_bool().unwrap_or(false),
                });
            }
            cursor = page["response_metadata"]["next_cursor"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            if cursor.is_empty() {
                break;
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Posts `message` (`text` plus `blocks`) to `channel` as the bot, optionally in a thread.
    pub async fn post(
        &self,
        channel: &str,
        mut message: Value,
        thread_ts: Option<&str>,
    ) -> Result<Posted, SlackError> {
        message["channel"] = json!(channel);
        if let Some(ts) = thread_ts {
            message["thread_ts"] = json!(ts);
        }
        let value = self.call("chat.postMessage", &message, self.token).await?;
        serde_json::from_value(value)
            .map_err(|_| SlackError::Transport("chat.postMessage answer without channel/ts".into()))
    }

    /// `auth.test` with the bot token: the ID of the workspace (team) the app is installed in.
    pub async fn team_id(&self) -> Result<String, SlackError> {
        let value = self.call("auth.test", &json!({}), self.token).await?;
        value["team_id"]
            .as_str()
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| SlackError::Transport("auth.test without team_id".into()))
    }

    /// `apps.connections.open` with the app-level token: the Socket Mode WebSocket URL.
    pub async fn open_socket(&self, app_token: &Secret) -> Result<String, SlackError> {
        let value = self
            .call("apps.connections.open", &json!({}), app_token)
            .await?;
        value["url"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| SlackError::Transport("apps.connections.open without url".into()))
    }
}

/// A transport error in a few words, without the URL (it may carry a webhook token).
pub(crate) fn short_error(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        "timed out".into()
    } else if err.is_connect() {
        "connection refused or unreachable".into()
    } else {
        "the request failed".into()
    }
}
