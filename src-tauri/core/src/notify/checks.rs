//! The checks of what a person types into the notification settings: a pasted Teams or Discord
//! webhook URL (and its shortened, token-free form for the card), the daily summary's time, the
//! Slack members who may reply.

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

/// Slack members allowed to reply, at most.
const MAX_REPLY_USERS: usize = 200;

/// Slack member IDs as typed (`u012ab3cd`, with stray spaces or an `@`): upper-cased, each
/// once, in order. Anything else is refused naming it, with where to find the real ID.
pub(super) fn check_slack_users(ids: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for raw in ids {
        let id = raw.trim().trim_start_matches('@').to_ascii_uppercase();
        if id.is_empty() {
            continue;
        }
        let valid = id.len() >= 3
            && id.len() <= 32
            && matches!(id.as_bytes()[0], b'U' | b'W')
            && id.bytes().all(|b| b.is_ascii_alphanumeric());
        if !valid {
            return Err(Error::invalid(format!(
                "“{}” is not a Slack member ID. Member IDs look like U012AB3CD: in Slack, open the person's profile, choose ⋮ (More), then Copy member ID.",
                raw.trim().chars().take(40).collect::<String>()
            )));
        }
        if !out.contains(&id) {
            out.push(id);
        }
    }
    if out.len() > MAX_REPLY_USERS {
        return Err(Error::invalid(format!(
            "At most {MAX_REPLY_USERS} Slack members can be listed. Leave the list empty to let anyone of the connected workspace reply."
        )));
    }
    Ok(out)
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
    fn slack_member_ids_are_tidied_or_refused_naming_them() {
        let ids = |v: &[&str]| {
            super::check_slack_users(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        };
        assert_eq!(
            ids(&[" u012ab3cd ", "@W0ENT", "U012AB3CD", ""]).unwrap(),
            vec!["U012AB3CD", "W0ENT"]
        );
        let err = ids(&["U0OK", "alice@example.com"]).unwrap_err().to_string();
        assert!(
            err.contains("“alice@example.com” is not a Slack member ID"),
            "{err}"
        );
        assert!(ids(&["T0PITCHBAR"]).is_err());
        assert!(ids(&[]).unwrap().is_empty());
    }

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
