//! Each destination provider's calls (one file each), and the one place that opens a
//! destination's client: its credentials, API base and auth.

mod activecampaign;
mod freshdesk;
mod ga4;
mod hubspot;
mod mailchimp;
mod pipedrive;
mod salesforce;
mod segment;
mod shared;
mod zendesk;

pub(crate) use shared::{Item, Outcome, Sent};

use super::cx::{Auth, CallTimes, Config, Cx, Failure};
use super::model::{Choice, TheirField};
use crate::apikeys::ApiKeyConnections;
use crate::catalog;
use crate::connections::{self, ConnectionStatus};
use crate::error::Error;
use crate::oauth::OAuth;
use crate::secret::Secret;
use crate::store::Store;

/// Sends `items` in order. Returns one outcome per item tried: it stops after a rate limit or
/// a refused token (the rest wait, untried).
pub(crate) async fn deliver(cx: &mut Cx<'_>, items: &[Item]) -> Vec<Outcome> {
    match cx.provider {
        "hubspot" => hubspot::deliver(cx, items).await,
        "salesforce" => salesforce::deliver(cx, items).await,
        "segment" => segment::deliver(cx, items).await,
        "google-analytics" => ga4::deliver(cx, items).await,
        _ => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                cx.serving = shared::event_ids(std::slice::from_ref(item));
                let outcome = one(cx, item).await;
                if shared::push_until_stop(&mut out, vec![outcome]) {
                    break;
                }
            }
            out
        }
    }
}

async fn one(cx: &mut Cx<'_>, item: &Item) -> Outcome {
    match cx.provider {
        "pipedrive" => pipedrive::one(cx, item).await,
        "zendesk" => zendesk::one(cx, item).await,
        "freshdesk" => freshdesk::one(cx, item).await,
        "mailchimp" => mailchimp::one(cx, item).await,
        "activecampaign" => activecampaign::one(cx, item).await,
        other => Err(Failure::Stop(format!("{other} is not a destination."))),
    }
}

/// The provider's properties a lead field can be mapped to, read live.
pub(crate) async fn their_fields(cx: &mut Cx<'_>) -> Result<Vec<TheirField>, Failure> {
    match cx.provider {
        "hubspot" => hubspot::fields(cx).await,
        "salesforce" => salesforce::fields(cx).await,
        "pipedrive" => pipedrive::fields(cx).await,
        "mailchimp" => mailchimp::fields(cx).await,
        "activecampaign" => activecampaign::fields(cx).await,
        _ => Ok(Vec::new()),
    }
}

/// What can be picked (audiences, lists, ticket groups), read live.
pub(crate) async fn targets(cx: &mut Cx<'_>) -> Result<Vec<Choice>, Failure> {
    match cx.provider {
        "zendesk" => zendesk::groups(cx).await,
        "freshdesk" => freshdesk::groups(cx).await,
        "mailchimp" => mailchimp::lists(cx).await,
        "activecampaign" => activecampaign::lists(cx).await,
        _ => Ok(Vec::new()),
    }
}

/// A check made when the configuration is saved (GA4's validation server).
pub(crate) async fn check_saved(cx: &mut Cx<'_>) -> Result<(), Failure> {
    match cx.provider {
        "google-analytics" => ga4::validate(cx).await,
        _ => Ok(()),
    }
}

/// How many queue items one pass hands over (a batch endpoint takes them in one call).
pub(crate) fn batch_size(provider: &str) -> usize {
    match provider {
        "hubspot" => 100,
        "salesforce" => 200,
        "segment" => 100,
        "google-analytics" => 25,
        _ => 10,
    }
}

/// Opens the destination's client: its credentials (a token renewed if it is about to expire,
/// or the API-key values), its API base and auth.
pub(crate) async fn open<'a>(
    store: &'a Store,
    times: &'a CallTimes,
    oauth: &OAuth,
    provider: &str,
    connection_id: &str,
    config: Config,
) -> crate::error::Result<Cx<'a>> {
    let kind = super::kinds::kind(provider)
        .ok_or_else(|| Error::NotFound(format!("{provider} is not a destination.")))?;
    let name = catalog::get(provider)
        .map(|i| i.name.clone())
        .unwrap_or_else(|| provider.to_owned());
    let connection = connections::get(store, connection_id)?;
    if connection.status != ConnectionStatus::Active {
        return Err(Error::Conflict(match connection.status {
            ConnectionStatus::NeedsReauth => connection
                .status_detail
                .unwrap_or_else(|| format!("Reconnect {name} to go on.")),
            _ => format!("{name} is not connected. Connect it first."),
        }));
    }
    let providers = oauth.providers()?;
    let timeout = oauth.request_timeout();
    let http = providers.http_client(timeout)?;
    let (base, auth, renew) = if crate::apikeys::is_api_key(provider) {
        let keys = ApiKeyConnections {
            oauth: oauth.clone(),
        };
        let (values, base) = keys.opened(connection_id, provider).await?;
        let value = |k: &str| values.get(k).cloned().unwrap_or_else(|| Secret::new(""));
        let auth = match provider {
            "freshdesk" => Auth::Basic(value("api_key"), Secret::new("X")),
            "activecampaign" => Auth::Header("Api-Token", value("api_key")),
            "segment" => Auth::Basic(value("write_key"), Secret::new("")),
            _ => Auth::Query(vec![
                ("measurement_id", value("measurement_id"), false),
                ("api_secret", value("api_secret"), true),
            ]),
        };
        // Segment's keys are checked at its CDN; its tracking API has a host of its own.
        let base = match provider {
            "segment" if base == "https://cdn.segment.com" => "https://api.segment.io".to_owned(),
            _ => base,
        };
        (base, auth, None)
    } else {
        let token = oauth.access_token(connection_id).await?;
        let (_, resolved) = oauth.provider(provider).await?;
        let base = providers
            .api_base_override(provider)
            .map(str::to_owned)
            .or(connection.api_base.clone())
            .or_else(|| default_base(provider, &resolved.authorize_url))
            .ok_or_else(|| {
                Error::Conflict(format!(
                    "{name} did not say where this account's API is. Reconnect {name}."
                ))
            })?;
        (
            base,
            Auth::Bearer(token),
            Some((oauth.clone(), connection_id.to_owned())),
        )
    };
    Ok(Cx {
        store,
        provider: kind.id,
        name,
        config,
        base: base.trim_end_matches('/').to_owned(),
        http,
        timeout,
        auth,
        renew,
        calls: Vec::new(),
        serving: Vec::new(),
        hold_until: 0,
        times,
    })
}

fn default_base(provider: &str, authorize_url: &url::Url) -> Option<String> {
    match provider {
        "hubspot" => Some("https://api.hubapi.com".into()),
        // https://<subdomain>.zendesk.com/oauth/authorizations/new
        "zendesk" => Some(authorize_url.origin().ascii_serialization()),
        _ => None,
    }
}
