//! The in-memory form of every secret (signing secrets, API keys, tokens): never printed, never
//! serialized by accident, wiped from memory when dropped.

use std::fmt;

use zeroize::Zeroizing;

/// Prefixes that say what a secret is without giving any of it away; `redacted()` keeps them
/// whole so a person can still tell a signing secret from an API key.
const KNOWN_PREFIXES: &[&str] = &["whsec_", "sk_live_", "sk_test_"];

/// How many characters after the prefix the redacted form shows: enough to tell two secrets
/// apart at a glance, far too few to guess the rest.
const SHOWN_CHARS: usize = 4;

/// Below this many characters after the prefix, nothing of it is shown: four characters of a
/// short secret would be a real part of it.
const MIN_CHARS_TO_SHOW: usize = 12;

/// A secret string. `Debug` and `Display` print `<redacted>`, there is deliberately no
/// `Serialize` (a view sent to the UI carries [`Secret::redacted`] instead), and the bytes are
/// zeroed on drop. Read it with [`Secret::expose`] only where the secret itself is needed.
#[derive(Clone, Default)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// The secret itself. Named so that every use stands out in review.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The form the UI shows: a known prefix, the first four characters after it, then `…`
    /// (`whsec_abc1…`). A secret too short to spare four characters shows only its prefix.
    pub fn redacted(&self) -> String {
        let (prefix, rest) = KNOWN_PREFIXES
            .iter()
            .find_map(|p| self.0.strip_prefix(p).map(|rest| (*p, rest)))
            .unwrap_or(("", self.0.as_str()));
        let shown: String = if rest.chars().count() >= MIN_CHARS_TO_SHOW {
            rest.chars().take(SHOWN_CHARS).collect()
        } else {
            String::new()
        };
        format!("{prefix}{shown}…")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_printed() {
        let s = Secret::new("whsec_supersecretvalue1234567890");
        assert_eq!(format!("{s}"), "<redacted>");
        assert_eq!(format!("{s:?}"), "<redacted>");
        assert_eq!(format!("{:?}", Some(&s)), "Some(<redacted>)");
        assert_eq!(s.expose(), "whsec_supersecretvalue1234567890");
    }

    #[test]
    fn redacted_keeps_known_prefix_and_four_chars() {
        assert_eq!(
            Secret::new("whsec_abc123xyz456def789").redacted(),
            "whsec_abc1…"
        );
        assert_eq!(
            Secret::new("sk_live_abc123abc123abc123").redacted(),
            "sk_live_abc1…"
        );
        assert_eq!(
            Secret::new("sk_test_Zz9yXx8wWw7vVv6u").redacted(),
            "sk_test_Zz9y…"
        );
        // No known prefix: the first four characters of the whole.
        assert_eq!(Secret::new("xoxb-1234-5678-abcdef").redacted(), "xoxb…");
    }

    #[test]
    fn short_secrets_show_nothing_of_themselves() {
        assert_eq!(Secret::new("whsec_abc123xyz").redacted(), "whsec_…");
        assert_eq!(Secret::new("hunter2").redacted(), "…");
        assert_eq!(Secret::new("").redacted(), "…");
    }

    #[test]
    fn redacted_counts_characters_not_bytes() {
        assert_eq!(Secret::new("whsec_ééééééééééééé").redacted(), "whsec_éééé…");
    }
}
