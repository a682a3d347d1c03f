//! The checks of what a person types into the notification settings: a pasted Teams or Discord
//! webhook URL (and its shortened, token-free form for the card), the daily summary's time.

use url::Url;

use super::types::{DISCORD, TEAMS};
use crate::catalog::{self, ConnectionKind};
use crate::error::{Error, Result};
use crate::oauth::OAuth;

/// "9:05" or "09:05" → "09:05".
pub(super) fn check_time(s: &str) -> Result<String> {
    let bad = || {
        Error::invalid(format!(
            "“{}” is not a time of day. Use 24-hour HH:MM, like 09:00.",
            s.chars().take(20).collect::<String>()
        ))
    };
    let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
    let h: u8 = h.parse().map_err(|_| bad())?;
    let m: u8 = m.parse().map_err(|_| bad())?;
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(format!("{h:02}:{m:02}"))
}

/// Teams Workflows and connector URLs are served from these hosts.
const TEAMS_HOSTS: &[&str] = &[
    ".logic.azure.com",
    ".webhook.office.com",
    ".powerplatform.com",
    ".powerautomate.com",
];

/// Checks a pasted incoming-webhook URL: the shape the provider gives out (the catalog's prefix,
/// or the providers file's `incoming_webhooks.<id>.url_prefix` for tests and proxies).
pub(super) fn check_webhook_url(
    oauth: &OAuth,
    integration: &catalog::Integration,
    url: &str,
) -> Result<Url> {
    let ConnectionKind::IncomingWebhook { url_prefix, .. } = &integration.connection else {
        return Err(Error::invalid(format!(
            "{} does not connect with a webhook URL.",
            integration.name
        )));
    };
    let name = &integration.name;
    if url.is_empty() {
        return Err(Error::invalid(format!("Paste the {name} webhook URL.")));
    }
    let overridden = oauth.providers()?.incoming_webhook_prefix(&integration.id);
    let prefix = overridden.clone().unwrap_or_else(|| url_prefix.clone());
    let parsed = Url::parse(url).map_err(|_| {
        Error::invalid(format!(
            "That is not a URL. Copy the whole {name} webhook URL, starting with {prefix}"
        ))
    })?;
    if !url.starts_with(&prefix) {
        return Err(Error::invalid(format!(
            "That is not a {name} webhook URL: it should start with {prefix}. {}",
            help_line(integration)
        )));
    }
    if overridden.is_none() {
        if integration.id == DISCORD {
            let parts: Vec<&str> = parsed
                .path()
                .trim_start_matches("/api/webhooks/")
                .split('/')
                .collect();
            let ok = parts.len() == 2
                && !parts[0].is_empty()
                && parts[0].chars().all(|c| c.is_ascii_digit())
                && parts[1].len() >= 20;
            if !ok {
                return Err(Error::invalid(
                    "That Discord webhook URL is incomplete: it should look like https://discord.com/api/webhooks/<number>/<token>. Copy it again with Copy Webhook URL.",
                ));
            }
        }
        if integration.id == TEAMS {
            let host = parsed.host_str().unwrap_or_default();
            if !TEAMS_HOSTS
                .iter()
                .any(|h| host.ends_with(h) || host == &h[1..])
            {
                return Err(Error::invalid(format!(
                    "That is not a Teams webhook URL (its host {host} is not Microsoft's). {}",
                    help_line(integration)
                )));
            }
        }
    }
    Ok(parsed)
}

fn help_line(integration: &catalog::Integration) -> String {
    match &integration.connection {
        ConnectionKind::IncomingWebhook { help, .. } => help.clone(),
        _ => String::new(),
    }
}

/// The URL for the card without what makes it a secret: the host and the path without its last
/// segment (Discord's token), never the query (Teams' `sig`). `discord.com/api/webhooks/123/…`
pub(super) fn shorten_url(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    let path = url.path().trim_end_matches('/');
    let kept = path.rsplit_once('/').map_or("", |(head, _)| head);
    let kept: String = kept.chars().take(48).collect();
    format!("{host}{kept}/…")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_shortened_url_keeps_no_token() {
        let shown = |u: &str| super::shorten_url(&url::Url::parse(u).unwrap());
        assert_eq!(
            shown("https://discord.com/api/webhooks/123456/abcdefTOKEN"),
            "discord.com/api/webhooks/123456/…"
        );
        let teams = shown("https://prod-01.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=SECRET");
        assert!(
            !teams.contains("SECRET") && !teams.contains("invoke"),
            "{teams}"
        );
    }
}
