//! Who a connection is signed in as, for the card ("Connected to: Acme Corp"): the provider's
//! userinfo (OIDC or its equivalent) if the providers file names one, else what the token
//! response says (Notion's `workspace_name`, Slack's `team.name`, HubSpot's `hub_domain`).

use serde_json::{Map, Value};

use super::providers::Provider;
use super::tokens::TokenSet;

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
