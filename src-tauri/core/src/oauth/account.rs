//! Who a connection is signed in as, for the card ("Connected to: Acme Corp"): the provider's
//! userinfo (OIDC or its equivalent) if the providers file names one, else what the token
//! response says (Notion's `workspace_name`, Slack's `team.name`, HubSpot's `hub_domain`).

use serde_json::{Map, Value};

use super::providers::Provider;
use super::tokens::TokenSet;
use crate::error::{Error, Result};

/// A label is shown, not relied on: failing to read one never fails the connection.
pub(super) async fn account_label(
    provider: &Provider,
    http: &reqwest::Client,
    tokens: &TokenSet,
    token_fields: &Map<String, Value>,
) -> Option<String> {
    if let Some(url) = &provider.userinfo_url {
        let info = async {
            let resp = http
                .get(url.clone())
                .bearer_auth(tokens.access.expose())
                .send()
                .await
                .ok()?
                .error_for_status()
                .ok()?;
            resp.json::<Map<String, Value>>().await.ok()
        }
        .await;
        match info
            .as_ref()
            .and_then(|i| pick(i, &["email", "name", "preferred_username", "sub"]))
        {
            Some(label) => return Some(label),
            None => tracing::warn!(provider = %provider.id, "no account label from userinfo"),
        }
    }
    pick(
        token_fields,
        &["workspace_name", "team", "hub_domain", "email"],
    )
}

fn pick(fields: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match fields.get(*k)? {
        Value::String(s) if !s.trim().is_empty() => Some(clean(s)),
        Value::Object(o) => o.get("name").and_then(Value::as_str).map(clean),
        _ => None,
    })
}

/// Printable and short: it comes from outside and lands on a card.
fn clean(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(120).collect()
}

/// Where this account's API lives, when the provider says so per account: a field of the token
/// response (Salesforce's `instance_url`, Pipedrive's `api_domain`), or its metadata endpoint
/// (Mailchimp: `api_endpoint`, of the account's data center). Such a provider that does not
/// say fails the sign-in: nothing could be called for that account.
pub(super) async fn api_base(
    provider: &Provider,
    http: &reqwest::Client,
    tokens: &TokenSet,
    token_fields: &Map<String, Value>,
) -> Result<Option<String>> {
    let name = &provider.name;
    let found = if let Some(field) = &provider.token_api_base {
        token_fields
            .get(field)
            .and_then(Value::as_str)
            .map(str::to_owned)
    } else if let Some(url) = &provider.metadata_url {
        // Mailchimp's metadata endpoint takes the token as `OAuth <token>`.
        let resp = http
            .get(url.clone())
            .header(
                reqwest::header::AUTHORIZATION,
                format!("OAuth {}", tokens.access.expose()),
            )
            .send()
            .await
            .map_err(|e| {
                super::client::unreachable(provider, "reading the account's data center", e)
            })?;
        if !resp.status().is_success() {
            return Err(Error::Upstream(format!(
                "{name} answered {} when asked for the account's data center. Nothing was connected; try again.",
                resp.status().as_u16()
            )));
        }
        let meta: Map<String, Value> = resp.json().await.map_err(|_| {
            Error::Upstream(format!(
                "{name} did not say which data center the account is in. Nothing was connected; try again."
            ))
        })?;
        meta.get("api_endpoint")
            .and_then(Value::as_str)
            .map(str::to_owned)
    } else {
        return Ok(None);
    };
    let url = found
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
        .filter(|u| u.scheme() == "https" || u.host_str() == Some("127.0.0.1"));
    match url {
        Some(u) => Ok(Some(u.as_str().trim_end_matches('/').to_string())),
        None => Err(Error::Upstream(format!(
            "{name} did not say where this account's API is (an https address was expected). Nothing was connected; try again."
        ))),
    }
}
