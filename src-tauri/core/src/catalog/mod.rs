//! The integration catalog: every integration the product offers, as one embedded data file.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use specta::Type;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
pub enum Category {
    #[serde(rename = "CRM")]
    Crm,
    Communication,
    Analytics,
    #[serde(rename = "E-commerce")]
    Ecommerce,
    Support,
    Marketing,
    Knowledge,
    Automation,
}

/// How the redirect of an OAuth flow reaches the app (RFC 8252).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum RedirectStyle {
    /// `pitchbar://oauth/callback`, through the deep-link handler.
    DeepLink,
    /// `http://127.0.0.1:<ephemeral port>/oauth/callback`, for providers that refuse custom schemes.
    Loopback,
}

/// How access is given back to the provider on disconnect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum RevocationStyle {
    /// RFC 7009 token revocation (`token=…` form POST).
    Rfc7009,
    /// Slack's `auth.revoke` Web API method.
    SlackAuthRevoke,
    /// Notion's revoke endpoint (basic auth of the client, JSON `token`).
    Notion,
    /// HubSpot: `DELETE /oauth/v1/refresh-tokens/{token}`.
    HubspotRefreshToken,
    /// Zendesk: `DELETE /api/v2/oauth/tokens/current`.
    ZendeskCurrentToken,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct Revocation {
    pub style: RevocationStyle,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct OAuthProvider {
    pub redirect: RedirectStyle,
    pub authorize_url: String,
    pub token_url: String,
    /// `None` where the provider offers no revocation call (access is removed in its own UI).
    pub revocation: Option<Revocation>,
    pub scopes: Vec<String>,
    /// Extra parameters of the authorization request the provider needs, e.g. Google's
    /// `access_type=offline` without which it issues no refresh token.
    #[serde(default)]
    pub authorize_params: std::collections::BTreeMap<String, String>,
    /// Where the OAuth app is registered (the provider's developer console).
    #[serde(default)]
    pub console_url: Option<String>,
    /// Short steps to register the app there, in the provider's own words for its menus.
    #[serde(default)]
    pub setup_steps: Vec<String>,
    /// What must be known about the account before signing in (filled into the URLs).
    #[serde(default)]
    pub asks: Vec<OAuthAsk>,
    /// The loopback port the provider needs registered exactly (it does not accept any port).
    #[serde(default)]
    pub loopback_port: Option<u16>,
    /// Whether the provider accepts both redirect styles, so the person may switch.
    #[serde(default)]
    pub redirect_choice: bool,
    /// A field of the token response naming where this account's API lives (Salesforce's
    /// `instance_url`, Pipedrive's `api_domain`).
    #[serde(default)]
    pub token_api_base: Option<String>,
    /// An endpoint that, given the access token, says where this account's API lives
    /// (Mailchimp's data center: `api_endpoint`).
    #[serde(default)]
    pub metadata_url: Option<String>,
}

/// A detail of the account asked before signing in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum OAuthAsk {
    /// Zendesk: the `{subdomain}` of `https://{subdomain}.zendesk.com`.
    Subdomain,
    /// Salesforce: production, sandbox, or the organisation's My Domain.
    LoginHost,
}

/// How an integration is connected.
// The catalog is read once into a static of 19 entries: a boxed variant would save nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ConnectionKind {
    Oauth(OAuthProvider),
    /// The user pastes a URL the provider gave them; we POST to it.
    IncomingWebhook {
        /// What the URL looks like, to check a paste and to say what is expected.
        url_prefix: String,
        help: String,
    },
    /// The user pastes a key or token the provider gave them (and the details that say where
    /// the account is); `apikeys` checks them with the provider before anything is kept.
    ApiKey {
        fields: Vec<ApiKeyField>,
        help: String,
    },
    /// Mail forwarded to a workspace address becomes conversations.
    Email {
        help: String,
    },
}

/// One field of an API-key connect form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct ApiKeyField {
    /// The name the value is sent and kept under (`api_key`, `subdomain`).
    pub key: String,
    pub label: String,
    /// A secret is typed into a password field and never shown again; every value goes to the
    /// keychain, but only the non-secret ones may appear on the card.
    pub secret: bool,
    /// An example of what to paste.
    pub placeholder: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct Integration {
    pub id: String,
    pub name: String,
    pub category: Category,
    /// One line, for cards.
    pub summary: String,
    /// A paragraph, for the detail modal.
    pub description: String,
    pub features: Vec<String>,
    /// What is requested, in human words.
    pub permissions: Vec<String>,
    pub connection: ConnectionKind,
    /// What the integration does once connected, for the success modal and the card.
    pub once_connected: String,
    /// The brand colour of the logo mark (`#rrggbb`).
    pub color: String,
}

const CATALOG_JSON: &str = include_str!("integrations.json");

/// The catalog, parsed once. The file is embedded and checked by the tests, so a parse
/// failure is a build defect, not a runtime condition.
pub fn all() -> &'static [Integration] {
    static CATALOG: OnceLock<Vec<Integration>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        serde_json::from_str(CATALOG_JSON).expect("the embedded catalog is valid (tested)")
    })
}

/// An integration's name as people know it ("HubSpot"), or its ID for one not in the catalog.
pub fn display_name(id: &str) -> String {
    get(id).map_or_else(|| id.to_owned(), |i| i.name.clone())
}

pub fn get(id: &str) -> Option<&'static Integration> {
    all().iter().find(|i| i.id == id)
}
