//! The providers file: per catalog id, overrides of the catalog's endpoints (self-hosted
//! instances, tests) and optionally an OAuth client id; plus extra CA certificates trusted for
//! all provider HTTP (corporate TLS, test CAs). And [`Providers::provider`]: the catalog's entry,
//! the file's overrides and the OAuth app entered in the window ([`AppSettings`]), as one.
//!
//! Secrets (`client_secret`, Slack's `app_token`) are still read from the file, but the OAuth
//! service moves them to the keychain and rewrites the file without them
//! ([`Providers::file_secrets`], [`Providers::rewrite_without_secrets`]).
//!
//! ```json
//! {
//!   "ca_certificates": ["corp-ca.pem"],
//!   "providers": {
//!     "notion": {
//!       "client_id": "…", "client_secret": "…",
//!       "authorize_url": "https://…", "token_url": "https://…",
//!       "revocation_url": "https://…", "revocation_style": "rfc7009",
//!       "userinfo_url": "https://…", "api_base_url": "https://…",
//!       "scopes": ["openid", "email"], "metadata_url": "https://…"
//!     }
//!   }
//! }
//! ```
//! Relative certificate paths are read from the file's folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use url::Url;

use crate::catalog::{self, ConnectionKind, RedirectStyle, RevocationStyle};
use crate::error::{Error, Result};
use crate::net::{self, CaCertificate, ClientSpec};
use crate::secret::Secret;

/// Names the providers file; without it, `<data dir>/providers.json` is used if present.
pub const PROVIDERS_FILE_ENV: &str = "PITCHBAR_PROVIDERS_FILE";
pub const DEFAULT_FILE_NAME: &str = "providers.json";

/// A providers file larger than this is not one (it holds a few URLs and ids).
const MAX_FILE_BYTES: u64 = 1024 * 1024;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileFormat {
    #[serde(default)]
    ca_certificates: Vec<PathBuf>,
    #[serde(default)]
    providers: BTreeMap<String, Override>,
    /// Per integration that connects by a pasted incoming-webhook URL: what the URL must start
    /// with instead of the catalog's prefix (a proxy, or a test receiver on 127.0.0.1).
    #[serde(default)]
    incoming_webhooks: BTreeMap<String, WebhookOverride>,
    /// Per integration that connects with an API key: where its API is instead of the
    /// provider's (`base_url`, with the same `{field}` placeholders; a proxy or a test fake).
    #[serde(default)]
    api_keys: BTreeMap<String, ApiKeyOverride>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ApiKeyOverride {
    base_url: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct WebhookOverride {
    url_prefix: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Override {
    client_id: Option<String>,
    client_secret: Option<String>,
    authorize_url: Option<String>,
    token_url: Option<String>,
    revocation_url: Option<String>,
    revocation_style: Option<RevocationStyle>,
    userinfo_url: Option<String>,
    api_base_url: Option<String>,
    scopes: Option<Vec<String>>,
    /// Slack: the app-level token (xapp-…) that opens Socket Mode, which OAuth does not give.
    app_token: Option<String>,
    /// Where the account's API base is read after sign-in (Mailchimp's metadata endpoint).
    metadata_url: Option<String>,
}

/// The providers file as read, with its certificates loaded.
pub struct Providers {
    file: PathBuf,
    overrides: BTreeMap<String, Override>,
    webhook_prefixes: BTreeMap<String, String>,
    api_key_bases: BTreeMap<String, String>,
    cas: Vec<CaCertificate>,
}

/// One OAuth provider: the catalog's entry with the file's overrides applied.
#[derive(Debug, Clone)]
pub struct Provider {
    pub id: String,
    pub name: String,
    pub redirect: RedirectStyle,
    /// The loopback port to listen on (the provider matches the redirect exactly); `None`:
    /// any free port (RFC 8252 §7.3).
    pub loopback_port: Option<u16>,
    pub authorize_url: Url,
    pub token_url: Url,
    pub revocation: Option<(RevocationStyle, Url)>,
    /// Where "who is connected" is read (OIDC userinfo or the provider's equivalent).
    pub userinfo_url: Option<Url>,
    pub api_base_url: Option<Url>,
    pub scopes: Vec<String>,
    /// From the catalog: what the provider needs beside the standard parameters.
    pub authorize_params: Vec<(String, String)>,
    pub client_id: String,
    pub client_secret: Option<Secret>,
    /// Slack's app-level token for Socket Mode, when one was given.
    pub app_token: Option<Secret>,
    /// The token response field naming this account's API base (catalog).
    pub token_api_base: Option<String>,
    /// The endpoint that says where this account's API lives (catalog, e.g. Mailchimp's).
    pub metadata_url: Option<Url>,
}

/// The OAuth app entered in the window for one provider, with its secrets from the keychain.
/// Each `Some` takes the place of the providers file's value.
#[derive(Debug, Clone, Default)]
pub struct AppSettings {
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    pub app_token: Option<Secret>,
    pub redirect: Option<RedirectStyle>,
    pub loopback_port: Option<u16>,
    /// Zendesk: fills `{subdomain}` in the provider's URLs.
    pub subdomain: Option<String>,
    /// Salesforce: the login host (login.salesforce.com, test.salesforce.com or a My Domain).
    pub login_host: Option<String>,
}

/// A secret the providers file holds, which belongs in the keychain.
#[derive(Debug)]
pub struct FileSecret {
    pub provider: String,
    /// `client_secret` or `app_token`.
    pub key: &'static str,
    pub value: Secret,
    /// The file's client id for this provider, if it has one.
    pub client_id: Option<String>,
}

impl Providers {
    /// Reads `file`. A missing file means "no overrides" unless `required` (it was named).
    pub fn load(file: &Path, required: bool) -> Result<Self> {
        let bad =
            |what: String| Error::invalid(format!("The providers file {} {what}", file.display()));
        let text = match std::fs::metadata(file) {
            Err(err) if err.kind() == std::io::ErrorKind::NotFound && !required => {
                return Self::parse(file, "{}")
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Err(bad(format!(
                    "does not exist. Create it, or unset {PROVIDERS_FILE_ENV} to use the default location."
                )))
            }
            Err(err) => return Err(bad(format!("cannot be read ({err})."))),
            Ok(meta) if meta.len() > MAX_FILE_BYTES => {
                return Err(bad("is larger than 1 MiB; it should hold a few URLs and ids.".into()))
            }
            Ok(_) => std::fs::read_to_string(file)
                .map_err(|err| bad(format!("cannot be read ({err}).")))?,
        };
        Self::parse(file, &text)
    }

    /// The providers file `file` whose text is `text` (certificates are read from its folder).
    #[doc(hidden)]
    pub fn parse(file: &Path, text: &str) -> Result<Self> {
        let bad =
            |what: String| Error::invalid(format!("The providers file {} {what}", file.display()));
        let format: FileFormat = serde_json::from_str(text).map_err(|err| {
            bad(format!(
                "is not valid: {err}. It holds a \"providers\" object keyed by integration id, and optionally \"ca_certificates\" (a list of PEM files)."
            ))
        })?;
        for id in format.providers.keys() {
            match catalog::get(id).map(|i| &i.connection) {
                Some(ConnectionKind::Oauth(_)) => {}
                Some(_) => {
                    return Err(bad(format!(
                        "configures \"{id}\", which does not connect with OAuth."
                    )))
                }
                None => {
                    return Err(bad(format!(
                        "configures \"{id}\", which is not an integration id of the catalog."
                    )))
                }
            }
        }
        let mut webhook_prefixes = BTreeMap::new();
        for (id, o) in format.incoming_webhooks {
            if !matches!(
                catalog::get(&id).map(|i| &i.connection),
                Some(ConnectionKind::IncomingWebhook { .. })
            ) {
                return Err(bad(format!(
                    "configures incoming_webhooks.\"{id}\", which does not connect with a webhook URL."
                )));
            }
            if let Some(prefix) = o.url_prefix.filter(|p| !p.trim().is_empty()) {
                webhook_prefixes.insert(id, prefix);
            }
        }
        let mut api_key_bases = BTreeMap::new();
        for (id, o) in format.api_keys {
            if !matches!(
                catalog::get(&id).map(|i| &i.connection),
                Some(ConnectionKind::ApiKey { .. })
            ) {
                return Err(bad(format!(
                    "configures api_keys.\"{id}\", which does not connect with an API key."
                )));
            }
            if let Some(base) = o.base_url.filter(|b| !b.trim().is_empty()) {
                api_key_bases.insert(id, base);
            }
        }
        let folder = file.parent().unwrap_or(Path::new("."));
        let mut cas = Vec::new();
        for cert in &format.ca_certificates {
            let ca = CaCertificate::read(&folder.join(cert))
                .map_err(|err| bad(format!("lists a CA certificate it cannot use: {err}")))?;
            cas.push(ca);
        }
        Ok(Self {
            file: file.to_path_buf(),
            overrides: format.providers,
            webhook_prefixes,
            api_key_bases,
            cas,
        })
    }

    /// The provider `id` from the catalog and the file alone (no app entered in the window).
    pub fn provider(&self, id: &str) -> Result<Provider> {
        self.resolve(id, &AppSettings::default())
    }

    /// The provider `id`, ready to connect: the catalog, the file's overrides, and `app` over
    /// them. Refused plainly when it has no OAuth client or lacks a detail it needs.
    pub fn resolve(&self, id: &str, app: &AppSettings) -> Result<Provider> {
        let integration = catalog::get(id)
            .ok_or_else(|| Error::NotFound(format!("There is no integration “{id}”.")))?;
        let ConnectionKind::Oauth(oauth) = &integration.connection else {
            return Err(Error::invalid(format!(
                "{} is not connected with OAuth.",
                integration.name
            )));
        };
        let empty = Override::default();
        let o = self.overrides.get(id).unwrap_or(&empty);
        let client_id = app
            .client_id
            .clone()
            .or_else(|| o.client_id.clone())
            .filter(|c| !c.trim().is_empty())
            .ok_or_else(|| {
                Error::invalid(format!(
                    "{name} cannot be connected yet: it has no OAuth app. An Owner or Admin adds \
                     its client ID and secret in Settings → OAuth apps.",
                    name = integration.name,
                ))
            })?;
        let fill = Fill::new(&integration.name, app);
        // The file's URLs are the person's own: the subdomain is filled in, the host kept.
        let url = |key: &str, value: &str| self.url(id, key, &fill.apply(value, false)?);
        let catalog_url = |key: &str, value: &str| self.url(id, key, &fill.apply(value, true)?);
        let revocation = match (&oauth.revocation, &o.revocation_url, o.revocation_style) {
            (_, Some(u), Some(style)) => Some((style, url("revocation_url", u.as_str())?)),
            (Some(r), Some(u), None) => Some((r.style, url("revocation_url", u.as_str())?)),
            (Some(r), None, style) => Some((
                style.unwrap_or(r.style),
                catalog_url("revocation_url", r.url.as_str())?,
            )),
            (None, None, Some(_)) => {
                return Err(self.bad_key(
                    id,
                    "revocation_style",
                    "needs a revocation_url too: the catalog has none for this provider",
                ))
            }
            (None, _, None) => None,
        };
        Ok(Provider {
            id: id.to_string(),
            name: integration.name.clone(),
            redirect: app.redirect.unwrap_or(oauth.redirect),
            loopback_port: app.loopback_port.or(oauth.loopback_port),
            authorize_url: match &o.authorize_url {
                Some(u) => url("authorize_url", u)?,
                None => catalog_url("authorize_url", &oauth.authorize_url)?,
            },
            token_url: match &o.token_url {
                Some(u) => url("token_url", u)?,
                None => catalog_url("token_url", &oauth.token_url)?,
            },
            revocation,
            userinfo_url: o
                .userinfo_url
                .as_deref()
                .map(|u| url("userinfo_url", u))
                .transpose()?,
            api_base_url: o
                .api_base_url
                .as_deref()
                .map(|u| url("api_base_url", u))
                .transpose()?,
            scopes: o.scopes.clone().unwrap_or_else(|| oauth.scopes.clone()),
            authorize_params: oauth
                .authorize_params
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            client_id,
            client_secret: app.client_secret.clone().or_else(|| {
                o.client_secret
                    .clone()
                    .filter(|s| !s.is_empty())
                    .map(Secret::new)
            }),
            app_token: app.app_token.clone().or_else(|| {
                o.app_token
                    .clone()
                    .filter(|s| !s.trim().is_empty())
                    .map(Secret::new)
            }),
            token_api_base: oauth.token_api_base.clone(),
            metadata_url: o
                .metadata_url
                .as_deref()
                .or(oauth.metadata_url.as_deref())
                .map(|u| url("metadata_url", u))
                .transpose()?,
        })
    }

    /// The URL of the file's `api_base_url` for `id`, with `{subdomain}` filled (Zendesk's
    /// subdomain check runs against it when the file points Zendesk elsewhere).
    pub fn api_base_override(&self, id: &str) -> Option<&str> {
        self.overrides.get(id)?.api_base_url.as_deref()
    }

    /// The client id the file names for `id`, if any.
    pub fn file_client_id(&self, id: &str) -> Option<String> {
        self.overrides
            .get(id)?
            .client_id
            .clone()
            .filter(|c| !c.trim().is_empty())
    }

    /// The secrets the file holds: each is to be moved to the keychain.
    pub fn file_secrets(&self) -> Vec<FileSecret> {
        let mut out = Vec::new();
        for (id, o) in &self.overrides {
            for (key, value) in [
                ("client_secret", &o.client_secret),
                ("app_token", &o.app_token),
            ] {
                if let Some(v) = value.as_deref().filter(|v| !v.trim().is_empty()) {
                    out.push(FileSecret {
                        provider: id.clone(),
                        key,
                        value: Secret::new(v.to_string()),
                        client_id: o.client_id.clone().filter(|c| !c.trim().is_empty()),
                    });
                }
            }
        }
        out
    }

    /// Rewrites the file without any `client_secret` or `app_token` (everything else kept), by
    /// writing a new file beside it and renaming it over: never half-written.
    pub fn rewrite_without_secrets(&self) -> Result<()> {
        let failed = |err: &dyn std::fmt::Display| {
            tracing::error!(error = %err, "the providers file could not be rewritten");
            Error::Storage(format!(
                "The secrets in the providers file {} were copied to the keychain, but the file could not be rewritten without them. Remove \"client_secret\" and \"app_token\" from it by hand.",
                self.file.display()
            ))
        };
        let text = std::fs::read_to_string(&self.file).map_err(|e| failed(&e))?;
        let mut value: serde_json::Value = serde_json::from_str(&text).map_err(|e| failed(&e))?;
        if let Some(providers) = value
            .get_mut("providers")
            .and_then(serde_json::Value::as_object_mut)
        {
            for entry in providers.values_mut() {
                if let Some(entry) = entry.as_object_mut() {
                    entry.remove("client_secret");
                    entry.remove("app_token");
                }
            }
        }
        let mut body = serde_json::to_vec_pretty(&value).map_err(|e| failed(&e))?;
        body.push(b'\n');
        let tmp = self.file.with_extension("json.rewrite");
        std::fs::write(&tmp, &body).map_err(|e| failed(&e))?;
        std::fs::rename(&tmp, &self.file).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            failed(&e)
        })
    }

    /// What a pasted incoming-webhook URL of `id` must start with, if the file overrides it.
    pub fn incoming_webhook_prefix(&self, id: &str) -> Option<String> {
        self.webhook_prefixes.get(id).cloned()
    }

    /// Where the API of API-key integration `id` is, if the file overrides it, checked as the
    /// OAuth endpoints are (https, or http only to this computer).
    pub fn api_key_base(&self, id: &str) -> Result<Option<String>> {
        let Some(base) = self.api_key_bases.get(id) else {
            return Ok(None);
        };
        // The placeholders are filled later; a stand-in makes the rest checkable now.
        self.url(id, "base_url", &base.replace(['{', '}'], ""))
            .map_err(|_| {
                Error::invalid(format!(
                    "In the providers file {}, api_keys.{id}.base_url must be an https:// URL (http:// only to 127.0.0.1 or localhost).",
                    self.file.display()
                ))
            })?;
        Ok(Some(base.clone()))
    }

    /// The extra CA certificates the file lists, for every outbound connection.
    pub fn cas(&self) -> &[CaCertificate] {
        &self.cas
    }

    /// TLS settings for connections reqwest does not make (Slack's Socket Mode WebSocket).
    pub fn rustls_config(&self) -> Result<std::sync::Arc<rustls::ClientConfig>> {
        net::rustls_config(&self.cas)
    }

    /// The HTTP client for provider calls: see [`net::ClientSpec`].
    pub fn http_client(&self, timeout: Duration) -> Result<reqwest::Client> {
        ClientSpec::new("providers")
            .timeout(timeout)
            .build(&self.cas)
    }

    fn url(&self, id: &str, key: &str, value: &str) -> Result<Url> {
        let parsed = Url::parse(value)
            .map_err(|_| self.bad_key(id, key, &format!("is not a URL (“{value}”)")))?;
        // Codes and tokens travel to these addresses: only over TLS, except to this computer
        // (a local proxy or test server), which RFC 8252 treats alike for loopback redirects.
        let loopback = match parsed.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d == "localhost",
            None => false,
        };
        if parsed.scheme() != "https" && !(parsed.scheme() == "http" && loopback) {
            return Err(self.bad_key(
                id,
                key,
                &format!(
                    "must be an https:// URL (“{value}”); http:// only to 127.0.0.1 or localhost"
                ),
            ));
        }
        Ok(parsed)
    }

    pub(super) fn bad_key(&self, id: &str, key: &str, what: &str) -> Error {
        Error::invalid(format!(
            "In the providers file {}, providers.{id}.{key} {what}.",
            self.file.display()
        ))
    }
}

/// The account details the catalog's URLs need, filled in: Zendesk's `{subdomain}`, and
/// Salesforce's login host in place of login.salesforce.com.
struct Fill<'a> {
    subdomain: Option<&'a str>,
    login_host: Option<&'a str>,
    name: &'a str,
}

impl<'a> Fill<'a> {
    /// A detail is asked for only where a URL in use has its placeholder: a providers file
    /// that gives every URL in full (a self-hosted instance, a test) needs none.
    fn new(name: &'a str, app: &'a AppSettings) -> Self {
        Self {
            subdomain: app.subdomain.as_deref().filter(|s| !s.is_empty()),
            login_host: app.login_host.as_deref().filter(|s| !s.is_empty()),
            name,
        }
    }

    /// `value` with the details filled; `catalog`: the URL is the catalog's, so its host may be
    /// replaced by the login host.
    fn apply(&self, value: &str, catalog: bool) -> Result<String> {
        let mut out = value.to_string();
        if out.contains("{subdomain}") {
            let Some(sub) = self.subdomain else {
                return Err(Error::invalid(format!(
                    "{} needs your account's subdomain before it can be connected: add it to the OAuth app in Settings → OAuth apps.",
                    self.name
                )));
            };
            out = out.replace("{subdomain}", sub);
        }
        if let (true, Some(host)) = (catalog, self.login_host) {
            out = out.replacen("://login.salesforce.com/", &format!("://{host}/"), 1);
        }
        Ok(out)
    }
}
