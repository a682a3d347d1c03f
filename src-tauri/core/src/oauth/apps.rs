//! OAuth apps entered in the window: one client per provider (its ID and settings in the
//! database, its secret in the keychain only), the guide to register one at the provider, and
//! the secrets a providers file still holds, moved to the keychain. Also where a provider is
//! resolved for use: the catalog, the providers file and the app as one ([`OAuth::provider`]).

use std::time::Duration;

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use specta::Type;

use super::app_input::{
    check_client_id, check_login_host, check_secret, check_subdomain, SALESFORCE_PRODUCTION,
};
use super::config::DEEP_LINK_CALLBACK;
use super::events::OAuthEvent;
use super::hub::{blocking, OAuth};
use super::providers::{AppSettings, Provider, Providers};
use crate::audit::{self, Area};
use crate::catalog::{self, ConnectionKind, OAuthAsk, OAuthProvider, RedirectStyle};
use crate::error::{Error, Result};
use crate::vault::VaultKey;
use crate::workspace::Actor;

/// An OAuth app as entered in the window.
#[derive(Debug, Clone, Deserialize, Type)]
pub struct OAuthAppInput {
    pub provider: String,
    pub client_id: String,
    /// Empty or absent when editing: the saved secret is kept. Required for a new app.
    pub client_secret: Option<String>,
    /// `None`: the catalog's redirect style.
    pub redirect: Option<RedirectStyle>,
    /// `None`: the catalog's port (or any free port when the provider accepts any).
    pub loopback_port: Option<u16>,
    /// Zendesk's subdomain (`acme`, or `acme.zendesk.com`).
    pub subdomain: Option<String>,
    /// Salesforce: `login.salesforce.com`, `test.salesforce.com` or a My Domain host.
    pub login_host: Option<String>,
}

/// Where a provider's OAuth client comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum AppSource {
    /// No client: the provider cannot be connected yet.
    None,
    /// Entered in the window.
    Window,
    /// The providers file names a client ID (its secret, if any, was moved to the keychain).
    ProvidersFile,
}

/// One OAuth provider as the OAuth apps form and guide show it.
#[derive(Debug, Clone, PartialEq, Serialize, Type)]
pub struct OAuthAppView {
    pub provider: String,
    pub name: String,
    pub source: AppSource,
    pub client_id: Option<String>,
    /// Whether a client secret is saved (it is never shown).
    pub has_secret: bool,
    pub redirect: RedirectStyle,
    pub loopback_port: Option<u16>,
    /// The exact redirect URI to register with the provider.
    pub redirect_uri: String,
    /// Whether the provider accepts the other redirect style too.
    pub redirect_choice: bool,
    /// Whether the provider matches the loopback port exactly (so a port is fixed).
    pub fixed_port: bool,
    pub scopes: Vec<String>,
    pub console_url: Option<String>,
    pub setup_steps: Vec<String>,
    pub asks: Vec<OAuthAsk>,
    pub subdomain: Option<String>,
    pub login_host: Option<String>,
    /// Connections that use this client (connected, to reconnect, or being revoked).
    pub connections: u32,
}

/// The row of `oauth_app`.
#[derive(Debug, Clone, Default)]
struct Row {
    client_id: String,
    has_secret: bool,
    redirect: Option<RedirectStyle>,
    loopback_port: Option<u16>,
    subdomain: Option<String>,
    login_host: Option<String>,
}

fn load_row(store: &crate::store::Store, provider: &str) -> Result<Option<Row>> {
    Ok(store
        .conn()
        .query_row(
            "SELECT client_id, has_secret, redirect, loopback_port, subdomain, login_host
             FROM oauth_app WHERE provider = ?1",
            [provider],
            |r| {
                Ok(Row {
                    client_id: r.get(0)?,
                    has_secret: r.get(1)?,
                    redirect: r.get::<_, Option<String>>(2)?.map(|s| style_from_str(&s)),
                    loopback_port: r.get(3)?,
                    subdomain: r.get(4)?,
                    login_host: r.get(5)?,
                })
            },
        )
        .optional()?)
}

fn style_from_str(s: &str) -> RedirectStyle {
    if s == "loopback" {
        RedirectStyle::Loopback
    } else {
        RedirectStyle::DeepLink
    }
}

fn style_str(s: RedirectStyle) -> &'static str {
    match s {
        RedirectStyle::DeepLink => "deep_link",
        RedirectStyle::Loopback => "loopback",
    }
}

/// The redirect URI a provider must have registered: the deep link, or the loopback address
/// (with its port when the port is fixed; without one, RFC 8252 §7.3 lets any port match).
pub fn redirect_uri(style: RedirectStyle, port: Option<u16>) -> String {
    match (style, port) {
        (RedirectStyle::DeepLink, _) => DEEP_LINK_CALLBACK.to_string(),
        (RedirectStyle::Loopback, Some(port)) => format!("http://127.0.0.1:{port}/oauth/callback"),
        (RedirectStyle::Loopback, None) => "http://127.0.0.1/oauth/callback".to_string(),
    }
}

fn oauth_entry(provider: &str) -> Result<(&'static catalog::Integration, &'static OAuthProvider)> {
    let integration = catalog::get(provider)
        .ok_or_else(|| Error::NotFound(format!("There is no integration “{provider}”.")))?;
    match &integration.connection {
        ConnectionKind::Oauth(o) => Ok((integration, o)),
        _ => Err(Error::invalid(format!(
            "{} is not connected with OAuth, so it has no OAuth app.",
            integration.name
        ))),
    }
}

fn secret_key(ws: &str, provider: &str) -> Result<VaultKey> {
    VaultKey::new(ws, &format!("oauth-app/{provider}/client-secret"))
}

fn app_token_key(ws: &str, provider: &str) -> Result<VaultKey> {
    VaultKey::new(ws, &format!("oauth-app/{provider}/app-token"))
}

impl OAuth {
    /// The provider `id` as it is used now: the catalog, the providers file's overrides, and the
    /// OAuth app entered in the window (its secrets read from the keychain). Secrets the file
    /// still holds are moved to the keychain first. The providers file comes back too, for its
    /// HTTP client.
    pub async fn provider(&self, id: &str) -> Result<(Providers, Provider)> {
        let providers = self.providers()?;
        self.adopt_file_secrets(&providers).await;
        let settings = self.app_settings(id).await?;
        let provider = providers.resolve(id, &settings)?;
        Ok((providers, provider))
    }

    async fn app_settings(&self, id: &str) -> Result<AppSettings> {
        let Ok(ws) = self.workspace_id() else {
            return Ok(AppSettings::default());
        };
        let row = load_row(&self.store, id)?;
        let (secret, token) = (secret_key(&ws, id)?, app_token_key(&ws, id)?);
        let (client_secret, app_token) =
            blocking(&self.vault, move |v| Ok((v.get(&secret)?, v.get(&token)?))).await?;
        let row = row.unwrap_or_default();
        Ok(AppSettings {
            client_id: Some(row.client_id).filter(|c| !c.is_empty()),
            client_secret,
            app_token,
            redirect: row.redirect,
            loopback_port: row.loopback_port,
            subdomain: row.subdomain,
            login_host: row.login_host,
        })
    }

    /// Every OAuth provider of the catalog with its app (or none yet), for Settings.
    pub async fn list_apps(&self) -> Result<Vec<OAuthAppView>> {
        let providers = self.providers()?;
        self.adopt_file_secrets(&providers).await;
        let mut out = Vec::new();
        for integration in catalog::all() {
            if matches!(integration.connection, ConnectionKind::Oauth(_)) {
                out.push(self.view(&providers, &integration.id)?);
            }
        }
        Ok(out)
    }

    /// One provider's app (or none yet) and its guide.
    pub async fn app(&self, provider: &str) -> Result<OAuthAppView> {
        let providers = self.providers()?;
        self.adopt_file_secrets(&providers).await;
        self.view(&providers, provider)
    }

    fn view(&self, providers: &Providers, id: &str) -> Result<OAuthAppView> {
        let (integration, oauth) = oauth_entry(id)?;
        let row = load_row(&self.store, id)?;
        let file_client = providers
            .provider(id)
            .ok()
            .map(|p| p.client_id)
            .or_else(|| providers.file_client_id(id));
        let (source, client_id) = match (&row, file_client) {
            (Some(r), _) => (AppSource::Window, Some(r.client_id.clone())),
            (None, Some(c)) => (AppSource::ProvidersFile, Some(c)),
            (None, None) => (AppSource::None, None),
        };
        let row = row.unwrap_or_default();
        let redirect = row.redirect.unwrap_or(oauth.redirect);
        let loopback_port = row.loopback_port.or(oauth.loopback_port);
        let console_url = match (&oauth.asks[..], &row.subdomain) {
            (asks, Some(sub)) if asks.contains(&OAuthAsk::Subdomain) => Some(format!(
                "https://{sub}.zendesk.com/admin/apps-integrations/apis/zendesk-api/oauth_clients"
            )),
            _ => oauth.console_url.clone(),
        };
        Ok(OAuthAppView {
            provider: id.to_string(),
            name: integration.name.clone(),
            source,
            client_id,
            has_secret: row.has_secret,
            redirect,
            loopback_port,
            redirect_uri: redirect_uri(redirect, loopback_port),
            redirect_choice: oauth.redirect_choice,
            fixed_port: oauth.loopback_port.is_some(),
            scopes: oauth.scopes.clone(),
            console_url,
            setup_steps: oauth.setup_steps.clone(),
            asks: oauth.asks.clone(),
            subdomain: row.subdomain,
            login_host: row.login_host,
            connections: self.connection_count(id)?,
        })
    }

    fn connection_count(&self, provider: &str) -> Result<u32> {
        Ok(self.store.conn().query_row(
            "SELECT count(*) FROM integration_connection WHERE provider = ?1 AND status != 'inactive'",
            [provider],
            |r| r.get(0),
        )?)
    }

    /// Saves the OAuth app of `input.provider`: checked first (a Zendesk subdomain at Zendesk),
    /// then the secret to the keychain, then the row. A failure at any step leaves what was
    /// there before.
    pub async fn save_app(&self, actor: &Actor, input: OAuthAppInput) -> Result<OAuthAppView> {
        actor.require_manage()?;
        let (integration, oauth) = oauth_entry(&input.provider)?;
        let name = &integration.name;
        let ws = self.workspace_id()?;
        let provider = input.provider.clone();
        let client_id = check_client_id(name, &input.client_id)?;
        let secret = match input.client_secret.as_deref().map(str::trim) {
            Some(s) if !s.is_empty() => Some(check_secret(name, s)?),
            _ => None,
        };
        let existing = load_row(&self.store, &provider)?;
        if secret.is_none() && !existing.as_ref().is_some_and(|r| r.has_secret) {
            return Err(Error::invalid(format!(
                "Enter the client secret of your {name} app: it is shown where you copied the client ID."
            )));
        }
        let redirect = match input.redirect {
            Some(style) if style != oauth.redirect && !oauth.redirect_choice => {
                return Err(Error::invalid(format!(
                    "{name} accepts only the {} redirect, so it cannot be changed.",
                    match oauth.redirect {
                        RedirectStyle::DeepLink => "pitchbar:// link",
                        RedirectStyle::Loopback => "loopback (http://127.0.0.1)",
                    }
                )))
            }
            Some(style) if style == oauth.redirect => None,
            other => other,
        };
        let loopback_port = match input.loopback_port {
            Some(port) if port < 1024 => return Err(Error::invalid(
                "Choose a loopback port from 1024 to 65535: lower ports need administrator rights.",
            )),
            Some(port) if Some(port) == oauth.loopback_port => None,
            other => other,
        };
        let subdomain = if oauth.asks.contains(&OAuthAsk::Subdomain) {
            let sub = check_subdomain(name, input.subdomain.as_deref().unwrap_or(""))?;
            self.check_zendesk_account(name, &provider, &sub).await?;
            Some(sub)
        } else {
            None
        };
        let login_host = if oauth.asks.contains(&OAuthAsk::LoginHost) {
            Some(check_login_host(input.login_host.as_deref())?)
                .filter(|h| h != SALESFORCE_PRODUCTION)
        } else {
            None
        };

        // The secret first: a row never claims a secret the keychain does not hold. The secret
        // it replaces is kept in hand, to put back if the row cannot be written.
        let key = secret_key(&ws, &provider)?;
        let previous = match &secret {
            Some(new) => {
                let (key, new) = (key.clone(), new.clone());
                blocking(&self.vault, move |v| {
                    let old = v.get(&key)?;
                    v.set(&key, &new)?;
                    Ok(old)
                })
                .await?
            }
            None => None,
        };
        let now = crate::clock::now_rfc3339();
        let written = self.store.write(|tx| {
            tx.execute(
                "INSERT INTO oauth_app (provider, client_id, has_secret, redirect, loopback_port, subdomain, login_host, updated_at)
                 VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (provider) DO UPDATE SET client_id = excluded.client_id, has_secret = 1,
                     redirect = excluded.redirect, loopback_port = excluded.loopback_port,
                     subdomain = excluded.subdomain, login_host = excluded.login_host,
                     updated_at = excluded.updated_at",
                params![
                    provider,
                    client_id,
                    redirect.map(style_str),
                    loopback_port,
                    subdomain,
                    login_host,
                    now
                ],
            )?;
            audit::record(
                tx,
                actor,
                Area::OauthApps,
                if existing.is_some() {
                    "oauth_app.updated"
                } else {
                    "oauth_app.added"
                },
                name,
                format!(
                    "{} the {name} OAuth app (client ID {client_id}{}).",
                    if existing.is_some() { "Updated" } else { "Added" },
                    if secret.is_some() {
                        ", new client secret"
                    } else {
                        ""
                    }
                ),
            )
        });
        if let Err(err) = written {
            if secret.is_some() {
                let _ = blocking(&self.vault, move |v| match previous {
                    Some(old) => v.set(&key, &old),
                    None => v.delete(&key),
                })
                .await;
            }
            return Err(err);
        }
        tracing::info!(provider = %provider, "OAuth app saved");
        self.app(&provider).await
    }

    /// What removing `provider`'s app does, said before it is done.
    pub fn remove_app_impact(&self, provider: &str) -> Result<String> {
        let (integration, _) = oauth_entry(provider)?;
        let name = &integration.name;
        Ok(match self.connection_count(provider)? {
            0 => format!(
                "The client ID and secret of {name} are deleted from this computer (the secret from the keychain). \
                 The app stays registered at {name}; you can add it here again at any time."
            ),
            n => format!(
                "The client ID and secret of {name} are deleted from this computer (the secret from the keychain). \
                 {n} {} of {name} stop working: {} cannot renew {} access and {} marked to reconnect. \
                 To give access back to {name} first, disconnect {} before removing the app.",
                if n == 1 { "connection" } else { "connections" },
                if n == 1 { "it" } else { "they" },
                if n == 1 { "its" } else { "their" },
                if n == 1 { "is" } else { "are" },
                if n == 1 { "it" } else { "them" },
            ),
        })
    }

    /// Removes `provider`'s app: its secrets from the keychain first (a failure leaves the app
    /// as it was), then its row; its connections are marked to reconnect.
    pub async fn remove_app(&self, actor: &Actor, provider: &str) -> Result<()> {
        actor.require_manage()?;
        let (integration, _) = oauth_entry(provider)?;
        let ws = self.workspace_id()?;
        if load_row(&self.store, provider)?.is_none() {
            return Err(Error::NotFound(format!(
                "{} has no OAuth app entered in the window.",
                integration.name
            )));
        }
        let (secret, token) = (secret_key(&ws, provider)?, app_token_key(&ws, provider)?);
        blocking(&self.vault, move |v| {
            v.delete(&secret)?;
            v.delete(&token)
        })
        .await?;
        let detail = format!(
            "Its OAuth app was removed. Add the app again in Settings → OAuth apps, then reconnect {}.",
            integration.name
        );
        self.store.write(|tx| {
            tx.execute("DELETE FROM oauth_app WHERE provider = ?1", [provider])?;
            tx.execute(
                "UPDATE integration_connection SET status = 'needs_reauth', status_detail = ?2
                 WHERE provider = ?1 AND status IN ('active', 'needs_reauth')",
                params![provider, detail],
            )?;
            audit::record(
                tx,
                actor,
                Area::OauthApps,
                "oauth_app.removed",
                &integration.name,
                format!(
                    "Removed the {} OAuth app; its client secret was deleted from the keychain.",
                    integration.name
                ),
            )
        })?;
        tracing::info!(provider = %provider, "OAuth app removed");
        self.hub.publish(OAuthEvent::ConnectionsChanged);
        Ok(())
    }

    /// Moves the secrets a providers file holds to the keychain and rewrites the file without
    /// them, with a notice. The app keeps working from the file if the keychain refuses (said
    /// in the log); a secret entered in the window is not overwritten by the file's.
    async fn adopt_file_secrets(&self, providers: &Providers) {
        let found = providers.file_secrets();
        if found.is_empty() {
            return;
        }
        let Ok(ws) = self.workspace_id() else { return };
        let mut moved = Vec::new();
        for s in found {
            let row = match load_row(&self.store, &s.provider) {
                Ok(row) => row,
                Err(_) => return,
            };
            let window_secret = row.as_ref().is_some_and(|r| r.has_secret);
            let key = match s.key {
                "client_secret" => secret_key(&ws, &s.provider),
                _ => app_token_key(&ws, &s.provider),
            };
            let Ok(key) = key else { return };
            if !(s.key == "client_secret" && window_secret) {
                let value = s.value.clone();
                if let Err(err) = blocking(&self.vault, move |v| v.set(&key, &value)).await {
                    tracing::warn!(error = %err, "the providers file's secrets could not be moved to the keychain");
                    return;
                }
            }
            if s.key == "client_secret" && row.is_none() {
                if let Some(client_id) = &s.client_id {
                    let now = crate::clock::now_rfc3339();
                    let inserted = self.store.write(|tx| {
                        tx.execute(
                            "INSERT INTO oauth_app (provider, client_id, has_secret, updated_at)
                             VALUES (?1, ?2, 1, ?3) ON CONFLICT (provider) DO NOTHING",
                            params![s.provider, client_id, now],
                        )?;
                        Ok(())
                    });
                    if inserted.is_err() {
                        return;
                    }
                }
            }
            moved.push(format!("{} of {}", s.key, s.provider));
        }
        let message = match providers.rewrite_without_secrets() {
            Ok(()) => format!(
                "The providers file held secrets ({}). They were moved to the keychain and the file was rewritten without them; the OAuth apps are in Settings → OAuth apps.",
                moved.join(", ")
            ),
            Err(err) => err.to_string(),
        };
        tracing::info!(
            count = moved.len(),
            "providers file secrets moved to the keychain"
        );
        self.hub.publish(OAuthEvent::Notice { message });
    }

    /// Asks Zendesk whether `sub` is an account: its public locales list answers 200 for an
    /// account and 404 for none, without signing in.
    async fn check_zendesk_account(&self, name: &str, provider: &str, sub: &str) -> Result<()> {
        let providers = self.providers()?;
        let base = match providers.api_base_override(provider) {
            Some(over) => over.replace("{subdomain}", sub),
            None => format!("https://{sub}.zendesk.com"),
        };
        let url = format!("{}/api/v2/locales/public.json", base.trim_end_matches('/'));
        let http =
            providers.http_client(self.hub.config.request_timeout.min(Duration::from_secs(10)))?;
        let host = format!("{sub}.zendesk.com");
        match http.get(&url).send().await {
            Ok(resp) if resp.status().is_success() => Ok(()),
            Ok(resp) if resp.status() == reqwest::StatusCode::NOT_FOUND => Err(Error::invalid(format!(
                "There is no {name} account at {host}. Check the subdomain: it is the first part of the address you sign in to {name} at."
            ))),
            Ok(resp) => Err(Error::Upstream(format!(
                "{name} answered {} when asked about {host}, so the subdomain could not be checked. Nothing was saved; try again later.",
                resp.status().as_u16()
            ))),
            Err(err) => {
                tracing::warn!(error = %crate::net::describe(&err.without_url()), "zendesk subdomain check failed");
                Err(Error::Upstream(format!(
                    "{name} did not answer when asked about {host}, so the subdomain could not be checked. Nothing was saved; check the internet connection and try again."
                )))
            }
        }
    }
}
