//! Proving a provider's credentials with one read-only request before anything is kept: what
//! the answer means (accepted, refused in the provider's own words, unknown account, rate
//! limited, provider down, no answer), the same way for every provider.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use super::fields::Values;
use super::table::{Auth, Spec};
use crate::error::{Error, Result};
use crate::net;

/// Runs `spec`'s probe against `base` (the base URL with the values filled in). Returns who
/// the credentials belong to, when the answer says.
pub(crate) async fn run(
    http: &reqwest::Client,
    timeout: Duration,
    name: &str,
    spec: &Spec,
    base: &str,
    values: &Values,
) -> Result<Option<String>> {
    let probe = &spec.probe;
    let url = format!(
        "{}{}",
        base.trim_end_matches('/'),
        values.fill(probe.path, true)
    );
    let mut req = match probe.post_json {
        Some(body) => http
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body),
        None => http.get(&url),
    }
    .header(reqwest::header::ACCEPT, "application/json");
    req = match probe.auth {
        Auth::None => req,
        Auth::Basic(user, pass) => {
            req.basic_auth(values.fill(user, false), Some(values.fill(pass, false)))
        }
        Auth::Bearer(token) => req.bearer_auth(values.fill(token, false)),
        Auth::Header(header, value) => req.header(header, values.fill(value, false)),
    };
    let mut resp = match req.send().await {
        Ok(resp) => resp,
        Err(err) => {
            // The URL may carry the key (Segment's path, GA4's query): never in a message.
            let (class, why) = net::classify(err, timeout);
            tracing::info!(provider = spec.id, class, "credential check got no answer");
            return Err(Error::Upstream(format!(
                "{name} did not answer, so the credentials could not be checked and nothing was saved. {why} Check the address and your connection, then try again."
            )));
        }
    };
    let status = resp.status();
    let retry = net::retry_after(resp.headers());
    let (body, _cut, _) = net::read_capped(&mut resp).await;
    let json: Option<Value> = serde_json::from_slice(&body).ok();
    let words = json.as_ref().and_then(|j| first_text(j, probe.words));
    tracing::info!(
        provider = spec.id,
        status = status.as_u16(),
        "credential check answered"
    );

    if status.is_success() {
        if let Some(pointer) = probe.refusal_in_ok {
            if let Some(text) = json.as_ref().and_then(|j| first_text(j, &[pointer])) {
                return Err(refused(name, &text));
            }
        }
        let account: Vec<String> = json
            .as_ref()
            .map(|j| probe.account.iter().filter_map(|p| text_at(j, p)).collect())
            .unwrap_or_default();
        return Ok((!account.is_empty()).then(|| account.join(" · ")));
    }
    Err(match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::BAD_REQUEST => {
            refused(name, words.as_deref().unwrap_or(status.canonical_reason().unwrap_or("refused")))
        }
        StatusCode::NOT_FOUND => Error::invalid(format!(
            "{} Nothing was saved.",
            values.fill(spec.not_found, false)
        )),
        StatusCode::TOO_MANY_REQUESTS => Error::Upstream(format!(
            "{name} is limiting requests right now, so the credentials could not be checked and nothing was saved. Try again in {}.",
            retry.map_or("a minute".to_owned(), |d| format!("{} seconds", d.as_secs().max(1)))
        )),
        _ => Error::Upstream(format!(
            "{name} answered {}{}, so the credentials could not be checked and nothing was saved. Try again later.",
            status.as_u16(),
            words.map(|w| format!(" (“{w}”)")).unwrap_or_default()
        )),
    })
}

fn refused(name: &str, words: &str) -> Error {
    Error::Upstream(format!(
        "{name} refused these credentials: “{words}” Nothing was saved; check them and try again."
    ))
}

fn first_text(json: &Value, pointers: &[&str]) -> Option<String> {
    pointers.iter().find_map(|p| text_at(json, p))
}

/// A string (or a number) at `pointer`, cut to a readable length.
fn text_at(json: &Value, pointer: &str) -> Option<String> {
    let text = match json.pointer(pointer)? {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    if text.is_empty() {
        return None;
    }
    Some(if text.chars().count() > 300 {
        format!("{}…", text.chars().take(300).collect::<String>())
    } else {
        text
    })
}
