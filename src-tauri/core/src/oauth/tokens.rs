//! A connection's tokens: one keychain entry (JSON inside a `Secret`), refreshed on use when
//! they are about to expire; a refused refresh marks the connection for reconnecting.

use std::fmt;

use oauth2::{RefreshToken, TokenResponse as _};
use serde::{Deserialize, Serialize};

use super::client::{self, Http, TokenResponse};
use super::events::OAuthEvent;
use super::hub::{blocking, OAuth};
use super::providers::Provider;
use crate::connections::{self, ConnectionStatus};
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::vault::VaultKey;

/// A token expiring within this is refreshed before use: it must survive the call it is for.
const REFRESH_MARGIN_MS: i64 = 60_000;

/// The tokens of one connection. Never printed; stored only in the keychain.
#[derive(Clone)]
pub(super) struct TokenSet {
    pub(super) access: Secret,
    pub(super) refresh: Option<Secret>,
    /// Unix ms; `None` when the provider gave no lifetime (Notion's tokens do not expire).
    pub(super) expires_at_ms: Option<i64>,
    pub(super) scopes: Vec<String>,
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("expires_at_ms", &self.expires_at_ms)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// The keychain form: borrowed strings out, owned strings in (moved straight into `Secret`s).
#[derive(Serialize, Deserialize)]
struct Stored<S> {
    access_token: S,
    refresh_token: Option<S>,
    expires_at_ms: Option<i64>,
    scopes: Vec<String>,
}

impl TokenSet {
    /// From a token response; what it leaves out (a refresh token not rotated, scopes not
    /// repeated) is kept from `previous`.
    pub(super) fn from_response(
        resp: &TokenResponse,
        now_ms: i64,
        previous: Option<&TokenSet>,
    ) -> Self {
        let expires_at_ms = resp
            .expires_in()
            .map(|d| now_ms.saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)));
        Self {
            access: Secret::new(resp.access_token().secret().clone()),
            refresh: resp
                .refresh_token()
                .map(|r| Secret::new(r.secret().clone()))
                .or_else(|| previous.and_then(|p| p.refresh.clone())),
            expires_at_ms,
            scopes: resp
                .scopes()
                .map(|s| s.iter().map(|s| s.to_string()).collect())
                .or_else(|| previous.map(|p| p.scopes.clone()))
                .unwrap_or_default(),
        }
    }

    pub(super) fn to_secret(&self) -> Secret {
        let stored = Stored {
            access_token: self.access.expose(),
            refresh_token: self.refresh.as_ref().map(Secret::expose),
            expires_at_ms: self.expires_at_ms,
            scopes: self.scopes.clone(),
        };
        Secret::new(serde_json::to_string(&stored).unwrap_or_default())
    }

    pub(super) fn from_secret(secret: &Secret) -> Result<Self> {
        let stored: Stored<String> = serde_json::from_str(secret.expose()).map_err(|_| {
            Error::Keychain(
                "The saved sign-in of this connection is damaged. Reconnect the integration."
                    .into(),
            )
        })?;
        Ok(Self {
            // Moved, not copied: the text is wiped when the `Secret` drops.
            access: Secret::new(stored.access_token),
            refresh: stored.refresh_token.map(Secret::new),
            expires_at_ms: stored.expires_at_ms,
            scopes: stored.scopes,
        })
    }

    fn expiring(&self, now_ms: i64) -> bool {
        self.expires_at_ms
            .is_some_and(|at| at.saturating_sub(REFRESH_MARGIN_MS) <= now_ms)
    }
}

impl OAuth {
    /// A valid access token for the connection, refreshed first if it expires within 60 s.
    /// A refresh the provider refuses marks the connection `needs_reauth` (with a message for
    /// its card) and says to reconnect.
    pub async fn access_token(&self, connection_id: &str) -> Result<Secret> {
        self.token(connection_id, false).await
    }

    /// A new access token for the connection, refreshed now: the provider refused the one we
    /// had before it said it would expire (Salesforce ends sessions early).
    pub async fn renewed_token(&self, connection_id: &str) -> Result<Secret> {
        self.token(connection_id, true).await
    }

    async fn token(&self, connection_id: &str, renew: bool) -> Result<Secret> {
        let connection = connections::get(&self.store, connection_id)?;
        match connection.status {
            ConnectionStatus::Active => {}
            ConnectionStatus::NeedsReauth => {
                return Err(Error::Conflict(connection.status_detail.unwrap_or_else(
                    || "This integration needs to be reconnected.".into(),
                )))
            }
            _ => {
                return Err(Error::NotFound(
                    "This integration is not connected any more. Connect it again to use it."
                        .into(),
                ))
            }
        }
        let ws = self.workspace_id()?;
        let key = VaultKey::connection_tokens(&ws, connection_id)?;
        // Held across the refresh: a second caller waits, then finds the fresh token.
        let _one_refresh = self.hub.refresh.lock().await;
        let read_key = key.clone();
        let Some(stored) = blocking(&self.vault, move |v| v.get(&read_key)).await? else {
            let message =
                "The saved sign-in of this integration is missing from the keychain. Reconnect it.";
            self.mark_needs_reauth(connection_id, message)?;
            return Err(Error::Conflict(message.into()));
        };
        let tokens = TokenSet::from_secret(&stored)?;
        if !renew && !tokens.expiring(self.hub.now_ms()) {
            return Ok(tokens.access);
        }
        let (_, provider) = self.provider(&connection.provider).await?;
        let Some(refresh) = tokens.refresh.clone() else {
            let message = format!(
                "{}'s access has expired and cannot be renewed without you. Reconnect it.",
                provider.name
            );
            self.mark_needs_reauth(connection_id, &message)?;
            return Err(Error::Conflict(message));
        };
        let fresh = match self.refresh(&provider, &refresh, &tokens).await {
            Ok(fresh) => fresh,
            Err(failure) if failure.grant_refused => {
                self.mark_needs_reauth(connection_id, &failure.error.to_string())?;
                return Err(Error::Conflict(failure.error.to_string()));
            }
            Err(failure) => return Err(failure.error),
        };
        let secret = fresh.to_secret();
        blocking(&self.vault, move |v| v.set(&key, &secret)).await?;
        Ok(fresh.access)
    }

    async fn refresh(
        &self,
        provider: &Provider,
        refresh: &Secret,
        previous: &TokenSet,
    ) -> std::result::Result<TokenSet, client::Failure> {
        let as_failure = |error| client::Failure {
            error,
            grant_refused: false,
        };
        let providers = self.providers().map_err(as_failure)?;
        let http = Http(
            providers
                .http_client(self.hub.config.request_timeout)
                .map_err(as_failure)?,
        );
        let oauth = client::client(provider, None).map_err(as_failure)?;
        let token = RefreshToken::new(refresh.expose().to_string());
        let resp = oauth
            .exchange_refresh_token(&token)
            .request_async(&http)
            .await
            .map_err(|e| client::failure(provider, "renewing access", e))?;
        Ok(TokenSet::from_response(
            &resp,
            self.hub.now_ms(),
            Some(previous),
        ))
    }

    /// The provider refused the connection's access (a 401 with a token we had): its card says
    /// to reconnect, with `message`, until it is.
    pub(crate) fn mark_needs_reauth(&self, connection_id: &str, message: &str) -> Result<()> {
        connections::set_status(
            &self.store,
            connection_id,
            ConnectionStatus::NeedsReauth,
            Some(message),
        )?;
        self.hub.publish(OAuthEvent::ConnectionsChanged);
        Ok(())
    }
}
