//! The OAuth app form's values, checked before anything is saved or asked of the provider:
//! client ID, client secret, Zendesk subdomain and Salesforce login host.

use crate::error::{Error, Result};
use crate::secret::Secret;

/// Salesforce's login hosts other than a My Domain.
pub const SALESFORCE_PRODUCTION: &str = "login.salesforce.com";
pub const SALESFORCE_SANDBOX: &str = "test.salesforce.com";

pub(super) fn check_client_id(name: &str, raw: &str) -> Result<String> {
    let id = raw.trim();
    if id.is_empty() {
        return Err(Error::invalid(format!(
            "Enter the client ID of your {name} app: it is shown where the app is registered at {name}."
        )));
    }
    if id.len() > 256
        || id.chars().any(|c| c.is_whitespace() || c.is_control())
        || id.contains("://")
    {
        return Err(Error::invalid(format!(
            "That does not look like a {name} client ID (it has spaces, is a URL or is too long). Copy the client ID itself from the app's page at {name}."
        )));
    }
    Ok(id.to_string())
}

pub(super) fn check_secret(name: &str, secret: &str) -> Result<Secret> {
    if secret.len() > 1024 || secret.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::invalid(format!(
            "That does not look like a {name} client secret (it has spaces or is too long). Copy the secret itself from the app's page at {name}."
        )));
    }
    Ok(Secret::new(secret.to_string()))
}

/// `acme`, `acme.zendesk.com` or `https://acme.zendesk.com/…` → `acme`.
pub(super) fn check_subdomain(name: &str, raw: &str) -> Result<String> {
    let s = raw.trim().to_ascii_lowercase();
    let s = s
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let s = s.split('/').next().unwrap_or("");
    let s = s.strip_suffix(".zendesk.com").unwrap_or(s);
    if s.is_empty() {
        return Err(Error::invalid(format!(
            "Enter your {name} subdomain: the “acme” of acme.zendesk.com."
        )));
    }
    let ok = s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if !ok {
        return Err(Error::invalid(format!(
            "“{}” is not a {name} subdomain: use the letters, digits and hyphens before .zendesk.com.",
            raw.trim().chars().take(80).collect::<String>()
        )));
    }
    Ok(s.to_string())
}

/// `login.salesforce.com`, `test.salesforce.com`, or a My Domain (`acme.my.salesforce.com`).
pub(super) fn check_login_host(raw: Option<&str>) -> Result<String> {
    let h = raw.unwrap_or("").trim().to_ascii_lowercase();
    let h = h
        .trim_start_matches("https://")
        .split('/')
        .next()
        .unwrap_or("")
        .to_string();
    if h.is_empty() || h == SALESFORCE_PRODUCTION || h == SALESFORCE_SANDBOX {
        return Ok(if h.is_empty() {
            SALESFORCE_PRODUCTION.into()
        } else {
            h
        });
    }
    let labels_ok = h.split('.').all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
    });
    if !labels_ok || !h.ends_with(".my.salesforce.com") {
        return Err(Error::invalid(
            "A My Domain login host ends with .my.salesforce.com (for example acme.my.salesforce.com, or acme--dev.sandbox.my.salesforce.com). Copy it from Setup → My Domain.",
        ));
    }
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdomains_are_read_from_what_people_paste() {
        for raw in [
            "acme",
            " Acme ",
            "acme.zendesk.com",
            "https://acme.zendesk.com/agent",
        ] {
            assert_eq!(check_subdomain("Zendesk", raw).unwrap(), "acme", "{raw}");
        }
        for raw in ["", "ac me", "-acme", "acme_1", "https://"] {
            assert!(check_subdomain("Zendesk", raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn login_hosts_are_production_sandbox_or_a_my_domain() {
        assert_eq!(check_login_host(None).unwrap(), SALESFORCE_PRODUCTION);
        assert_eq!(
            check_login_host(Some("test.salesforce.com")).unwrap(),
            SALESFORCE_SANDBOX
        );
        assert_eq!(
            check_login_host(Some("https://Acme.my.salesforce.com/")).unwrap(),
            "acme.my.salesforce.com"
        );
        for bad in [
            "evil.example.com",
            "acme.salesforce.com.evil.io",
            "a b.my.salesforce.com",
        ] {
            assert!(check_login_host(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn client_ids_are_one_token() {
        assert_eq!(
            check_client_id("X", "  abc.apps.example ").unwrap(),
            "abc.apps.example"
        );
        for bad in [
            "",
            "   ",
            "abc def",
            "https://example.com/app",
            &"a".repeat(300),
        ] {
            assert!(check_client_id("X", bad).is_err(), "{bad}");
        }
    }
}
