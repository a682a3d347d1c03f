//! API-key connections (Freshdesk, Segment, Shopify, WooCommerce, ActiveCampaign, WhatsApp
//! Business, Google Analytics' Measurement Protocol): the form's values checked, proved with
//! the provider, kept in the keychain (one entry per connection), and forgotten on disconnect.

mod check;
mod fields;
mod table;

use std::collections::BTreeMap;

use crate::catalog::{self, ConnectionKind};
use crate::connections::{self, Connection, ConnectionStatus};
use crate::error::{Error, Result};
use crate::oauth::{blocking, OAuth};
use crate::secret::Secret;
use crate::vault::VaultKey;
use crate::workspace::Actor;

/// The API-key connections of the workspace.
pub struct ApiKeyConnections {
    /// The store and keychain it shares, the providers file (endpoint overrides, extra CAs)
    /// and the request timeout of provider calls.
    pub(crate) oauth: OAuth,
}

/// Whether `provider` connects with an API key (then [`ApiKeyConnections`] owns it).
pub fn is_api_key(provider: &str) -> bool {
    matches!(
        catalog::get(provider).map(|i| &i.connection),
        Some(ConnectionKind::ApiKey { .. })
    )
}

/// Where a connection's credentials are: one keychain entry holding the form's values.
fn credentials_key(workspace_id: &str, connection_id: &str) -> Result<VaultKey> {
    VaultKey::new(
        workspace_id,
        &format!("connection/{connection_id}/credentials"),
    )
}

impl ApiKeyConnections {
    /// Checks `values` (field key → value) for `provider`, proves them with the provider, then
    /// keeps them in the keychain and marks the connection active. A refusal, bad input or a
    /// provider that does not answer changes nothing.
    pub async fn connect(
        &self,
        actor: &Actor,
        provider: &str,
        values: BTreeMap<String, String>,
    ) -> Result<Connection> {
        actor.require_manage()?;
        let integration = catalog::get(provider)
            .ok_or_else(|| Error::NotFound(format!("There is no integration “{provider}”.")))?;
        let (ConnectionKind::ApiKey { fields, .. }, Some(spec)) =
            (&integration.connection, table::spec(provider))
        else {
            return Err(Error::invalid(format!(
                "{} does not connect with an API key.",
                integration.name
            )));
        };
        let name = integration.name.as_str();
        let values = fields::check(name, fields, spec.formats, values)?;
        if let Some(active) = connections::latest_for_provider(&self.oauth.store, provider)?
            .filter(|c| c.status == ConnectionStatus::Active)
        {
            return Err(Error::Conflict(format!(
                "{name} is already connected{}. Disconnect it first to use other credentials.",
                active
                    .account_label
                    .map(|l| format!(" ({l})"))
                    .unwrap_or_default()
            )));
        }

        let providers = self.oauth.providers()?;
        let template = providers
            .api_key_base(provider)?
            .unwrap_or_else(|| spec.base.to_owned());
        let base = values.fill(&template, false);
        let timeout = self.oauth.request_timeout();
        let http = providers.http_client(timeout)?;
        let account = check::run(&http, timeout, name, spec, &base, &values).await?;
        let label = account.unwrap_or_else(|| values.fill(spec.label, false));

        let ws = self.oauth.workspace_id()?;
        let connection_id = connections::latest_for_provider(&self.oauth.store, provider)?
            .map(|c| c.id)
            .unwrap_or_else(crate::ids::new_id);
        let key = credentials_key(&ws, &connection_id)?;
        let secret = values.to_secret();
        let saved = key.clone();
        blocking(&self.oauth.vault, move |v| v.set(&saved, &secret)).await?;
        let now = crate::clock::now_rfc3339();
        let bound = self.oauth.store.write(|tx| {
            connections::bind(
                tx,
                &connection_id,
                provider,
                Some(&label),
                None,
                &actor.into(),
                &now,
            )
        });
        if let Err(err) = bound {
            // Nothing half-stored: the credentials go with the row that failed.
            let _ = blocking(&self.oauth.vault, move |v| v.delete(&key)).await;
            return Err(err);
        }
        tracing::info!(provider, connection = %connection_id, "connected with an API key");
        connections::get(&self.oauth.store, &connection_id)
    }

    /// The connection's kept values (field key → value) and its API base with them filled in,
    /// for a destination's calls.
    pub(crate) async fn opened(
        &self,
        connection_id: &str,
        provider: &str,
    ) -> Result<(BTreeMap<String, Secret>, String)> {
        let spec = table::spec(provider)
            .ok_or_else(|| Error::invalid("This integration does not use an API key."))?;
        let ws = self.oauth.workspace_id()?;
        let key = credentials_key(&ws, connection_id)?;
        let stored = blocking(&self.oauth.vault, move |v| v.get(&key)).await?;
        let Some(stored) = stored else {
            return Err(Error::Conflict(
                "The saved key of this integration is missing from the keychain. Connect it again."
                    .into(),
            ));
        };
        let plain: BTreeMap<String, String> =
            serde_json::from_str(stored.expose()).map_err(|_| {
                Error::Keychain(
                    "The saved key of this integration is damaged. Connect it again.".into(),
                )
            })?;
        let values = fields::Values(
            plain
                .into_iter()
                .map(|(k, v)| (k, Secret::new(v)))
                .collect(),
        );
        let template = self
            .oauth
            .providers()?
            .api_key_base(provider)?
            .unwrap_or_else(|| spec.base.to_owned());
        let base = values.fill(&template, false);
        Ok((values.0, base.trim_end_matches('/').to_owned()))
    }

    /// Disconnects: the credentials leave the keychain and the connection becomes `inactive`.
    /// There is nothing to revoke upstream from here: the key stays valid at the provider
    /// until it is deleted there.
    pub async fn disconnect(&self, actor: &Actor, connection_id: &str) -> Result<Connection> {
        actor.require_manage()?;
        let connection = connections::get(&self.oauth.store, connection_id)?;
        if !is_api_key(&connection.provider) {
            return Err(Error::invalid("This connection does not use an API key."));
        }
        let ws = self.oauth.workspace_id()?;
        let key = credentials_key(&ws, connection_id)?;
        blocking(&self.oauth.vault, move |v| v.delete(&key)).await?;
        connections::set_status(
            &self.oauth.store,
            connection_id,
            ConnectionStatus::Inactive,
            None,
        )?;
        connections::audit_disconnect(
            &self.oauth.store,
            actor,
            &connection,
            "its credentials were deleted from the keychain.",
        )?;
        tracing::info!(provider = %connection.provider, connection = connection_id, "disconnected an API key");
        connections::get(&self.oauth.store, connection_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table and the catalog describe the same providers and the same fields.
    #[test]
    fn every_api_key_entry_has_one_spec_with_its_fields() {
        for integration in catalog::all() {
            let ConnectionKind::ApiKey { fields, .. } = &integration.connection else {
                assert!(table::spec(&integration.id).is_none(), "{}", integration.id);
                continue;
            };
            let spec = table::spec(&integration.id)
                .unwrap_or_else(|| panic!("{} has no credential check", integration.id));
            let keys: Vec<&str> = fields.iter().map(|f| f.key.as_str()).collect();
            let formats: Vec<&str> = spec.formats.iter().map(|(k, _)| *k).collect();
            assert_eq!(keys, formats, "{}", integration.id);
            assert!(fields.iter().any(|f| f.secret), "{}", integration.id);
        }
    }
}
