//! Disconnecting: give access back upstream in the provider's own way (RFC 7009, Slack's
//! `auth.revoke`, Notion's revoke endpoint, HubSpot's and Zendesk's DELETEs), then forget the
//! tokens. A provider that cannot be reached gets a queued revocation (see retrier.rs); the
//! queue's format and its backoff delays are defined here, below the retrier that works it off.

use backon::{BackoffBuilder, ExponentialBuilder};
use oauth2::{AccessToken, RefreshToken, StandardRevocableToken};
use rusqlite::params;

use super::client::{self, Http};
use super::config::OAuthConfig;
use super::events::OAuthEvent;
use super::hub::{blocking, OAuth};
use super::tokens::TokenSet;
use crate::catalog::{self, ConnectionKind, RevocationStyle};
use crate::clock::now_rfc3339;
use crate::connections::{self, Connection, ConnectionStatus};
use crate::error::{Error, Result};
use crate::notices::{self, NoticeKind};
use crate::secret::Secret;
use crate::vault::VaultKey;
use crate::workspace::Actor;

/// The delay before attempt `attempts + 1`, in ms.
pub(super) fn delay_ms(config: &OAuthConfig, attempts: u32) -> i64 {
    let delay = ExponentialBuilder::default()
        .with_min_delay(config.retry_min_delay)
        .with_max_delay(config.retry_max_delay)
        .with_factor(2.0)
        .with_jitter()
        .without_max_times()
        .build()
        .nth(usize::try_from(attempts).unwrap_or(usize::MAX))
        .unwrap_or(config.retry_max_delay);
    i64::try_from(delay.as_millis()).unwrap_or(i64::MAX)
}

/// Which token a provider's revocation call takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TokenKind {
    Access,
    Refresh,
}

impl TokenKind {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            TokenKind::Access => "access_token",
            TokenKind::Refresh => "refresh_token",
        }
    }

    pub(super) fn parse(s: &str) -> Self {
        if s == "refresh_token" {
            TokenKind::Refresh
        } else {
            TokenKind::Access
        }
    }
}

/// How one revocation attempt went.
pub(super) enum Attempt {
    /// The provider confirmed, or the token was already dead: nothing is owed any more.
    Done,
    /// Not confirmed (unreachable, server error, client refused): try again later.
    Retry(Error),
}

impl OAuth {
    /// Disconnects at once: the provider is asked to revoke access, the tokens leave the
    /// keychain, the connection becomes `inactive`, and its configuration and sources stay for
    /// a reconnect. If the provider cannot confirm, the token needed to revoke is kept (in the
    /// keychain only), the status is `revocation_pending`, and the retrier keeps trying.
    pub async fn disconnect(&self, actor: &Actor, connection_id: &str) -> Result<Connection> {
        actor.require_manage()?;
        let connection = connections::get(&self.store, connection_id)?;
        if matches!(
            connection.status,
            ConnectionStatus::Inactive | ConnectionStatus::RevocationPending
        ) {
            return Ok(connection);
        }
        let ws = self.workspace_id()?;
        let key = VaultKey::connection_tokens(&ws, connection_id)?;
        let read = key.clone();
        let stored = blocking(&self.vault, move |v| v.get(&read)).await?;
        // A damaged entry cannot be revoked with; it is still removed below.
        let tokens = stored.and_then(|s| TokenSet::from_secret(&s).ok());
        let style = self.revocation_style(&connection.provider);
        let target = tokens.and_then(|t| token_to_revoke(style, t));
        let attempt = match &target {
            Some((kind, token)) => self.revoke(&connection.provider, *kind, token).await,
            None => Attempt::Done,
        };
        let outcome = match (attempt, target) {
            (Attempt::Retry(why), Some((kind, token))) => {
                self.queue_revocation(&ws, &connection, kind, token, &why)
                    .await?;
                blocking(&self.vault, move |v| v.delete(&key)).await?;
                let name =
                    catalog::get(&connection.provider).map_or("The provider", |i| i.name.as_str());
                let detail = format!(
                    "Disconnected here. {name} has not confirmed that Pitchbar's access is revoked yet ({why}); the app keeps trying."
                );
                connections::set_status(
                    &self.store,
                    connection_id,
                    ConnectionStatus::RevocationPending,
                    Some(&detail),
                )?;
                self.hub.retrier_wake.notify_one();
                "the provider has not confirmed the revocation yet; the app keeps trying."
            }
            (_, had_token) => {
                blocking(&self.vault, move |v| v.delete(&key)).await?;
                connections::set_status(
                    &self.store,
                    connection_id,
                    ConnectionStatus::Inactive,
                    None,
                )?;
                if had_token.is_some() {
                    "its access was revoked at the provider and its tokens deleted from the keychain."
                } else {
                    "its tokens were deleted from the keychain (the provider offers no revocation)."
                }
            }
        };
        connections::audit_disconnect(&self.store, actor, &connection, outcome)?;
        tracing::info!(provider = %connection.provider, connection = connection_id, "disconnected");
        self.hub.publish(OAuthEvent::ConnectionsChanged);
        connections::get(&self.store, connection_id)
    }

    /// The token goes to the keychain before the row that points at it: a crash in between
    /// leaves an unused entry, never a row the retrier cannot act on.
    async fn queue_revocation(
        &self,
        ws: &str,
        connection: &Connection,
        kind: TokenKind,
        token: Secret,
        why: &Error,
    ) -> Result<()> {
        let id = crate::ids::new_id();
        let key = VaultKey::pending_revocation(ws, &connection.id, &id)?;
        blocking(&self.vault, move |v| v.set(&key, &token)).await?;
        let next = self
            .hub
            .now_ms()
            .saturating_add(delay_ms(&self.hub.config, 0));
        self.store.write(|tx| {
            tx.execute(
                "INSERT INTO oauth_revocation (id, connection_id, provider, token_kind, attempts, next_attempt_at, last_error, created_at)
                 VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?7)",
                params![id, connection.id, connection.provider, kind.as_str(), next, why.to_string(), now_rfc3339()],
            )?;
            let name = crate::catalog::display_name(&connection.provider);
            notices::raise(
                tx,
                NoticeKind::RevocationPending,
                &connection.id,
                &format!("{name} has not confirmed the disconnection"),
                &format!(
                    "The integration is disconnected here, but {name} did not confirm that its access was revoked ({}). Pitchbar Admin keeps asking; you can also revoke it in {name}'s settings.",
                    why.to_string().trim_end_matches('.')
                ),
                "connected",
            )?;
            Ok(())
        })
    }

    fn revocation_style(&self, provider_id: &str) -> Option<RevocationStyle> {
        match self.providers().and_then(|p| p.provider(provider_id)) {
            Ok(p) => p.revocation.map(|(style, _)| style),
            // Without a usable providers file, the catalog still says what the call takes.
            Err(_) => match catalog::get(provider_id).map(|i| &i.connection) {
                Some(ConnectionKind::Oauth(o)) => o.revocation.as_ref().map(|r| r.style),
                _ => None,
            },
        }
    }

    /// One revocation call in the provider's style.
    pub(super) async fn revoke(
        &self,
        provider_id: &str,
        kind: TokenKind,
        token: &Secret,
    ) -> Attempt {
        let (providers, provider) = match self.provider(provider_id).await {
            Ok(p) => p,
            Err(err) => return Attempt::Retry(err),
        };
        let Some((style, url)) = provider.revocation.clone() else {
            return Attempt::Done;
        };
        let http = match providers.http_client(self.hub.config.request_timeout) {
            Ok(h) => h,
            Err(err) => return Attempt::Retry(err),
        };
        let doing = "revoking access";
        if style == RevocationStyle::Rfc7009 {
            let client = match client::client(&provider, None) {
                Ok(c) => c,
                Err(err) => return Attempt::Retry(err),
            };
            let token = match kind {
                TokenKind::Access => {
                    StandardRevocableToken::AccessToken(AccessToken::new(token.expose().into()))
                }
                TokenKind::Refresh => {
                    StandardRevocableToken::RefreshToken(RefreshToken::new(token.expose().into()))
                }
            };
            let request = match client.revoke_token(token) {
                Ok(r) => r,
                Err(_) => {
                    return Attempt::Retry(Error::invalid(format!(
                        "{}'s revocation URL must be https.",
                        provider.name
                    )))
                }
            };
            return match request.request_async(&Http(http)).await {
                Ok(()) => Attempt::Done,
                Err(e) => {
                    let failure = client::failure(&provider, doing, e);
                    if failure.grant_refused {
                        Attempt::Done
                    } else {
                        Attempt::Retry(failure.error)
                    }
                }
            };
        }
        let request = match style {
            RevocationStyle::Notion => http
                .post(url)
                .basic_auth(
                    &provider.client_id,
                    provider.client_secret.as_ref().map(Secret::expose),
                )
                .json(&serde_json::json!({ "token": token.expose() })),
            RevocationStyle::SlackAuthRevoke => http.post(url).form(&[("token", token.expose())]),
            RevocationStyle::HubspotRefreshToken => {
                let mut url = url;
                if let Ok(mut segments) = url.path_segments_mut() {
                    segments.pop_if_empty().push(token.expose());
                }
                http.delete(url)
            }
            RevocationStyle::ZendeskCurrentToken => http.delete(url).bearer_auth(token.expose()),
            RevocationStyle::Rfc7009 => unreachable!("handled above"),
        };
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => return Attempt::Retry(client::unreachable(&provider, doing, e)),
        };
        let status = response.status();
        let already_dead = match style {
            RevocationStyle::Notion => status == 400,
            RevocationStyle::HubspotRefreshToken => status == 404,
            RevocationStyle::ZendeskCurrentToken => status == 401,
            _ => false,
        };
        if style == RevocationStyle::SlackAuthRevoke && status.is_success() {
            // Slack answers 200 either way; `ok` and `error` say what happened.
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            let ok = body["ok"].as_bool() == Some(true);
            let dead = matches!(
                body["error"].as_str(),
                Some("invalid_auth" | "token_revoked" | "account_inactive" | "not_authed")
            );
            return if ok || dead {
                Attempt::Done
            } else {
                Attempt::Retry(Error::Upstream(format!(
                    "{} did not revoke access ({}).",
                    provider.name,
                    body["error"].as_str().unwrap_or("no reason given")
                )))
            };
        }
        if status.is_success() || already_dead {
            Attempt::Done
        } else {
            tracing::warn!(provider = provider_id, %status, "revocation not confirmed");
            Attempt::Retry(Error::Upstream(format!(
                "{} answered {} to the revocation",
                provider.name,
                status.as_u16()
            )))
        }
    }
}

/// The token the provider's call takes: RFC 7009 revokes the whole grant through the refresh
/// token when there is one; HubSpot takes only refresh tokens; the others take the access token.
fn token_to_revoke(
    style: Option<RevocationStyle>,
    tokens: TokenSet,
) -> Option<(TokenKind, Secret)> {
    match style? {
        RevocationStyle::Rfc7009 => Some(match tokens.refresh {
            Some(r) => (TokenKind::Refresh, r),
            None => (TokenKind::Access, tokens.access),
        }),
        RevocationStyle::HubspotRefreshToken => tokens.refresh.map(|r| (TokenKind::Refresh, r)),
        RevocationStyle::Notion
        | RevocationStyle::SlackAuthRevoke
        | RevocationStyle::ZendeskCurrentToken => Some((TokenKind::Access, tokens.access)),
    }
}
