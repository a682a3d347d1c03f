//! What the notifier's tasks (sending, Socket Mode) and the settings service share: the task
//! context, and one Slack connection's API with its tokens.

use std::sync::Arc;
use std::time::Duration;

use url::Url;

use super::hub::Hub;
use super::slack::{self, SlackApi};
use super::types::{NotifyConfig, SLACK};
use crate::error::{Error, Result};
use crate::oauth::{OAuth, Providers};
use crate::secret::Secret;
use crate::store::Store;
use crate::vault::Vault;

/// Everything the notifier's tasks share.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub store: Arc<Store>,
    pub vault: Arc<Vault>,
    pub oauth: OAuth,
    pub hub: Arc<Hub>,
    pub outbox: Arc<crate::outbox::Hub>,
    pub config: NotifyConfig,
}

/// Slack's API, the bot token and (for Socket Mode) the app-level token of one connection.
pub(crate) struct SlackContext {
    pub http: reqwest::Client,
    pub base: Url,
    pub token: Secret,
    pub app_token: Option<Secret>,
    pub providers: Providers,
}

impl SlackContext {
    pub async fn load(oauth: &OAuth, connection_id: &str, timeout: Duration) -> Result<Self> {
        let (providers, provider) = oauth.provider(SLACK).await?;
        let base = match provider.api_base_url {
            Some(u) => u,
            None => Url::parse(slack::DEFAULT_API_BASE)
                .map_err(|_| Error::Internal("Slack's API address is invalid.".into()))?,
        };
        let http = providers.http_client(timeout)?;
        let token = oauth.access_token(connection_id).await?;
        Ok(Self {
            http,
            base,
            token,
            app_token: provider.app_token,
            providers,
        })
    }

    pub fn api(&self) -> SlackApi<'_> {
        SlackApi {
            http: &self.http,
            base: &self.base,
            token: &self.token,
        }
    }
}
