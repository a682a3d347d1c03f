//! What an endpoint may be: the URL (http/https, a host, no user:password, a sane length; a
//! warning for plain http off loopback), the events, the policy, attempts and timeout — each
//! refusal a message that says what to enter instead.

use std::net::IpAddr;

use super::model::{
    EndpointInput, Policy, DEFAULT_AT_LEAST_ONCE_ATTEMPTS, DEFAULT_TIMEOUT_MS, MAX_ATTEMPTS,
    MAX_TIMEOUT_MS, MAX_URL_CHARS, MIN_TIMEOUT_MS,
};
use crate::error::{Error, Result};
use crate::webhooks::events::EventType;

pub(super) struct Checked {
    pub(super) url: String,
    pub(super) description: String,
    pub(super) events_json: String,
    pub(super) active: bool,
    pub(super) policy: Policy,
    pub(super) max_attempts: u32,
    pub(super) timeout_ms: u32,
    pub(super) standard_webhooks: bool,
}

impl Checked {
    /// The subscribed events in words: `lead.captured, conversation.closed` (or `*`).
    pub(super) fn events_words(&self) -> String {
        serde_json::from_str::<Vec<String>>(&self.events_json)
            .map(|events| events.join(", "))
            .unwrap_or_default()
    }
}

pub(super) fn checked(input: EndpointInput) -> Result<Checked> {
    let url = check_url(&input.url)?.0;
    let description = input.description.trim().to_owned();
    if description.chars().count() > 500 {
        return Err(Error::invalid(
            "Keep the description to 500 characters or fewer.",
        ));
    }
    let events = check_events(&input.events)?;
    let timeout_ms = input.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS);
    if !(MIN_TIMEOUT_MS..=MAX_TIMEOUT_MS).contains(&timeout_ms) {
        return Err(Error::invalid(format!(
            "The timeout must be between 1 and 60 seconds (it was {timeout_ms} ms). 5 seconds is the default; raise it only for debugging."
        )));
    }
    let max_attempts = match input.policy {
        Policy::Single => match input.max_attempts {
            None | Some(1) => 1,
            Some(n) => {
                return Err(Error::invalid(format!(
                    "A single-attempt endpoint sends each event once, so it cannot make {n} attempts. Choose at-least-once to retry."
                )))
            }
        },
        Policy::AtLeastOnce => {
            let n = input.max_attempts.unwrap_or(DEFAULT_AT_LEAST_ONCE_ATTEMPTS);
            if !(1..=MAX_ATTEMPTS).contains(&n) {
                return Err(Error::invalid(format!(
                    "The number of attempts must be between 1 and {MAX_ATTEMPTS} (it was {n})."
                )));
            }
            n
        }
    };
    Ok(Checked {
        url,
        description,
        events_json: serde_json::to_string(&events)
            .map_err(|_| Error::Internal("The events could not be saved; try again.".into()))?,
        active: input.active,
        policy: input.policy,
        max_attempts,
        timeout_ms,
        standard_webhooks: input.standard_webhooks,
    })
}

/// Checks a webhook URL: http or https, a host, no user:password, at most 2,048 characters.
/// Returns the URL as entered (trimmed) and a warning for plain http to a non-loopback host.
pub fn check_url(raw: &str) -> Result<(String, Option<String>)> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(Error::invalid(
            "Enter the URL that should receive the webhooks, like https://example.com/webhooks.",
        ));
    }
    if raw.chars().count() > MAX_URL_CHARS {
        return Err(Error::invalid(format!(
            "The URL is longer than {MAX_URL_CHARS} characters. Use a shorter one."
        )));
    }
    let shown: String = raw.chars().take(80).collect();
    let parsed = url::Url::parse(raw).map_err(|_| {
        Error::invalid(format!(
            "“{shown}” is not a valid URL. Enter a full address like https://example.com/webhooks."
        ))
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Error::invalid(format!(
            "Webhook URLs must start with https:// (or http:// for local testing), not {}://.",
            parsed.scheme()
        )));
    }
    let Some(host) = parsed.host() else {
        return Err(Error::invalid(format!(
            "“{shown}” has no host. Enter a full address like https://example.com/webhooks."
        )));
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Error::invalid(
            "Remove the user name and password from the URL: they would be sent in clear with every delivery. Verify deliveries with the signing secret instead.",
        ));
    }
    let loopback = match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost") || d.ends_with(".localhost"),
        url::Host::Ipv4(ip) => IpAddr::V4(ip).is_loopback(),
        url::Host::Ipv6(ip) => IpAddr::V6(ip).is_loopback(),
    };
    let warning = (parsed.scheme() == "http" && !loopback).then(|| {
        "This URL uses plain http: deliveries (lead names, emails, phone numbers) travel unencrypted. Use https outside local testing.".to_owned()
    });
    Ok((raw.to_owned(), warning))
}

/// Parses the event names: at least one, each a catalog event, no duplicates kept.
pub fn check_events(names: &[String]) -> Result<Vec<EventType>> {
    if names.is_empty() {
        let valid = EventType::ALL.map(EventType::as_str).join(", ");
        return Err(Error::invalid(format!(
            "Choose at least one event to send to this endpoint. Valid event types: {valid}."
        )));
    }
    let mut events = Vec::with_capacity(names.len());
    for name in names {
        let event: EventType = name.parse()?;
        if !events.contains(&event) {
            events.push(event);
        }
    }
    events.sort();
    Ok(events)
}
