//! The providers file: per catalog id, the OAuth client (which the catalog cannot hold) and
//! overrides of the catalog's endpoints (self-hosted instances, tests); plus extra CA
//! certificates trusted for all provider HTTP (corporate TLS, test CAs).
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
//!       "scopes": ["openid", "email"]
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
}

/// The providers file as read, with its certificates loaded.
pub struct Providers {
    file: PathBuf,
    overrides: BTreeMap<String, Override>,
    ca_pems: Vec<Vec<u8>>,
}

/// One OAuth provider: the catalog's entry with the file's overrides applied.
#[derive(Debug, Clone)]
pub struct Provider {
    pub id: String,
    pub name: String,
    pub redirect: RedirectStyle,
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
}

impl Providers {
    /// Reads `file`. A missing file means "no overrides" unless `required` (it was named).
    pub fn load(file: &Path, required: bool) -> Result<Self> {
        let bad =
            |what: String| Error::invalid(format!("The providers file {} {what}", file.display()));
        let format = match std::fs::metadata(file) {
            Err(err) if err.kind() == std::io::ErrorKind::NotFound && !required => {
                FileFormat::default()
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
            Ok(_) => {
                let text = std::fs::read_to_string(file)
                    .map_err(|err| bad(format!("cannot be read ({err}).")))?;
                serde_json::from_str(&text).map_err(|err| {
                    bad(format!(
                        "is not valid: {err}. It holds a \"providers\" object keyed by integration id, and optionally \"ca_certificates\" (a list of PEM files)."
                    ))
                })?
            }
        };
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
        let folder = file.parent().unwrap_or(Path::new("."));
        let mut ca_pems = Vec::new();
        for cert in &format.ca_certificates {
            let path = folder.join(cert);
            let pem = std::fs::read(&path).map_err(|err| {
                bad(format!(
                    "lists the CA certificate {}, which cannot be read ({err}).",
                    path.display()
                ))
            })?;
            if !reqwest::Certificate::from_pem_bundle(&pem).is_ok_and(|certs| !certs.is_empty()) {
                return Err(bad(format!(
                    "lists {}, which is not a PEM certificate (-----BEGIN CERTIFICATE-----).",
                    path.display()
                )));
            }
            ca_pems.push(pem);
        }
        Ok(Self {
            file: file.to_path_buf(),
            overrides: format.providers,
            ca_pems,
        })
    }

    /// The provider `id`, ready to connect: refused plainly when it has no OAuth client.
    pub fn provider(&self, id: &str) -> Result<Provider> {
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
        let client_id = o
            .client_id
            .clone()
            .filter(|c| !c.trim().is_empty())
            .ok_or_else(|| {
                Error::invalid(format!(
                    "{name} cannot be connected yet: no OAuth client is configured for it. \
                 Set providers.{id}.client_id (and client_secret) in the providers file {file}, \
                 or name another file with {PROVIDERS_FILE_ENV}.",
                    name = integration.name,
                    file = self.file.display()
                ))
            })?;
        let url = |key: &str, value: &str| self.url(id, key, value);
        let revocation = match (&oauth.revocation, &o.revocation_url, o.revocation_style) {
            (_, Some(u), Some(style)) => Some((style, url("revocation_url", u.as_str())?)),
            (Some(r), Some(u), None) => Some((r.style, url("revocation_url", u.as_str())?)),
            (Some(r), None, style) => Some((
                style.unwrap_or(r.style),
                url("revocation_url", r.url.as_str())?,
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
            redirect: oauth.redirect,
            authorize_url: url(
                "authorize_url",
                o.authorize_url.as_deref().unwrap_or(&oauth.authorize_url),
            )?,
            token_url: url(
                "token_url",
                o.token_url.as_deref().unwrap_or(&oauth.token_url),
            )?,
            revocation,
            userinfo_url: o
                .userinfo_url
                .as_deref()
                .map(|u| url("userinfo_url", u))
                .transpose()?,
            api_base_url: o
                .api_base_url
                .as_deref()
                .map(|u| self.api_url(id, u))
                .transpose()?,
            scopes: o.scopes.clone().unwrap_or_else(|| oauth.scopes.clone()),
            authorize_params: oauth
                .authorize_params
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            client_id,
            client_secret: o
                .client_secret
                .clone()
                .filter(|s| !s.is_empty())
                .map(Secret::new),
        })
    }

    /// The HTTP client for provider calls: rustls with the extra CAs, explicit timeouts, and
    /// no redirects (a token endpoint that redirects is not to be followed with our secrets).
    pub fn http_client(&self, timeout: Duration) -> Result<reqwest::Client> {
        // Whoever installed a provider first wins; ring is ours when no one did.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("PitchbarAdmin/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .timeout(timeout);
        // Merged with the system's roots: the extra CAs add to them, never replace them.
        for pem in &self.ca_pems {
            builder = builder
                .tls_certs_merge(reqwest::Certificate::from_pem_bundle(pem).unwrap_or_default());
        }
        builder.build().map_err(|err| {
            tracing::error!(error = %err, "cannot build the provider HTTP client");
            Error::Internal("The HTTP client for providers could not start.".into())
        })
    }

    fn url(&self, id: &str, key: &str, value: &str) -> Result<Url> {
        let parsed = Url::parse(value)
            .map_err(|_| self.bad_key(id, key, &format!("is not a URL (“{value}”)")))?;
        // Codes and tokens travel to these addresses: only over TLS.
        if parsed.scheme() != "https" {
            return Err(self.bad_key(id, key, &format!("must be an https:// URL (“{value}”)")));
        }
        Ok(parsed)
    }

    /// An API base: https, or plain http to this machine's loopback (a local stand-in for the
    /// provider: its requests never leave the machine).
    fn api_url(&self, id: &str, value: &str) -> Result<Url> {
        let parsed = Url::parse(value)
            .map_err(|_| self.bad_key(id, "api_base_url", &format!("is not a URL (“{value}”)")))?;
        let loopback = match parsed.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d == "localhost",
            None => false,
        };
        match parsed.scheme() {
            "https" => Ok(parsed),
            "http" if loopback => Ok(parsed),
            _ => Err(self.bad_key(
                id,
                "api_base_url",
                &format!("must be an https:// URL, or http:// on 127.0.0.1 (“{value}”)"),
            )),
        }
    }

    fn bad_key(&self, id: &str, key: &str, what: &str) -> Error {
        Error::invalid(format!(
            "In the providers file {}, providers.{id}.{key} {what}.",
            self.file.display()
        ))
    }
}
