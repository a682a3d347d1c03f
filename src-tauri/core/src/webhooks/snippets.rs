//! Copy-paste receivers that verify `X-Pitchbar-Signature`, one per language, with the
//! endpoint's secret filled in. The templates live beside this file (`snippets/`) so they can be
//! read, linted and run as the code they are.

use serde::{Deserialize, Serialize};
use specta::Type;

/// Where the secret goes in every template: inside the language's own string quotes, so each
/// template stays valid code as it is (the Rust one is compiled by this crate's tests).
pub const SECRET_TOKEN: &str = "__PITCHBAR_SECRET__";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    Node,
    Python,
    Php,
    Ruby,
    Go,
    Rust,
}

impl Language {
    /// In the order the UI offers them.
    pub const ALL: [Language; 6] = [
        Language::Node,
        Language::Python,
        Language::Php,
        Language::Ruby,
        Language::Go,
        Language::Rust,
    ];

    /// What the UI's tab says.
    pub fn label(self) -> &'static str {
        match self {
            Language::Node => "Node.js",
            Language::Python => "Python",
            Language::Php => "PHP",
            Language::Ruby => "Ruby",
            Language::Go => "Go",
            Language::Rust => "Rust",
        }
    }

    /// The file name the snippet's own run instructions use.
    pub fn file_name(self) -> &'static str {
        match self {
            Language::Node => "pitchbar-webhook.js",
            Language::Python => "pitchbar_webhook.py",
            Language::Php => "pitchbar-webhook.php",
            Language::Ruby => "pitchbar_webhook.rb",
            Language::Go => "pitchbar_webhook.go",
            Language::Rust => "pitchbar_webhook.rs",
        }
    }

    fn template(self) -> &'static str {
        match self {
            Language::Node => include_str!("snippets/node.js"),
            Language::Python => include_str!("snippets/python.py"),
            Language::Php => include_str!("snippets/php.php"),
            Language::Ruby => include_str!("snippets/ruby.rb"),
            Language::Go => include_str!("snippets/go.go"),
            Language::Rust => include_str!("snippets/rust.rs"),
        }
    }

    /// `secret` escaped for the inside of the template's string quotes.
    fn escape(self, secret: &str) -> String {
        match self {
            // A JSON string is also a valid JavaScript, Python and Go string literal.
            Language::Node | Language::Python | Language::Go => {
                let quoted = serde_json::Value::from(secret).to_string();
                quoted[1..quoted.len() - 1].to_owned()
            }
            // Single-quoted: only `\` and `'` mean anything, so `$` and `#{` stay inert.
            Language::Php | Language::Ruby => secret.replace('\\', "\\\\").replace('\'', "\\'"),
            Language::Rust => {
                let quoted = format!("{secret:?}");
                quoted[1..quoted.len() - 1].to_owned()
            }
        }
    }
}

/// The receiver for `lang` with `secret` inserted as a string literal. The caller decides what
/// `secret` is: the endpoint's secret once the user revealed it, else a placeholder such as
/// `whsec_…`.
pub fn snippet(lang: Language, secret: &str) -> String {
    lang.template()
        .replacen(SECRET_TOKEN, &lang.escape(secret), 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use crate::webhooks::signing::sign;

    // The Rust template, compiled and run as it ships (its secret is the token itself).
    mod rust_template {
        include!("snippets/rust.rs");
    }

    const AWKWARD: &str = "whsec_a\"b'c\\d$e#{f}\n\u{2028}é😀";

    #[test]
    fn every_template_has_the_token_once_and_none_is_left() {
        for lang in Language::ALL {
            assert_eq!(lang.template().matches(SECRET_TOKEN).count(), 1, "{lang:?}");
            let out = snippet(lang, "whsec_abc+/=");
            assert!(!out.contains(SECRET_TOKEN), "{lang:?}");
            assert!(out.contains("whsec_abc+/="), "{lang:?}");
        }
    }

    #[test]
    fn secrets_are_escaped_for_each_language() {
        let cases = [
            (Language::Node, r#""whsec_a\"b'c\\d$e#{f}\n"#),
            (Language::Python, r#""whsec_a\"b'c\\d$e#{f}\n"#),
            (Language::Go, r#""whsec_a\"b'c\\d$e#{f}\n"#),
            (Language::Php, r#"'whsec_a"b\'c\\d$e#{f}"#),
            (Language::Ruby, r#"'whsec_a"b\'c\\d$e#{f}"#),
            (Language::Rust, r#""whsec_a\"b'c\\d$e#{f}\n\u{2028}é😀""#),
        ];
        for (lang, expected) in cases {
            let out = snippet(lang, AWKWARD);
            assert!(out.contains(expected), "{lang:?}:\n{out}");
        }
    }

    #[test]
    fn the_placeholder_is_inserted_as_given() {
        for lang in Language::ALL {
            assert!(snippet(lang, "whsec_…").contains("whsec_…"), "{lang:?}");
        }
    }

    #[test]
    fn labels_and_file_names_are_distinct() {
        let labels: std::collections::HashSet<_> = Language::ALL.map(Language::label).into();
        let files: std::collections::HashSet<_> = Language::ALL.map(Language::file_name).into();
        assert_eq!((labels.len(), files.len()), (6, 6));
        assert_eq!(serde_json::to_string(&Language::Php).unwrap(), "\"php\"");
    }

    #[test]
    fn the_rust_template_verifies_like_the_dispatcher_signs() {
        let current = Secret::new(SECRET_TOKEN);
        let other = Secret::new("whsec_other");
        let body = br#"{"event":"lead.captured"}"#;
        let now = 1_700_000_000;
        let verify = rust_template::verify;
        assert_eq!(
            verify(Some(&sign(&[&current], now, body)), body, now),
            Ok(())
        );
        // A rotation's overlap: the old secret's v1 comes second and still matches.
        assert_eq!(
            verify(Some(&sign(&[&other, &current], now, body)), body, now + 299),
            Ok(())
        );
        assert_eq!(
            verify(Some(&sign(&[&current], now, body)), b"{}", now),
            Err("signature mismatch")
        );
        assert_eq!(
            verify(Some(&sign(&[&current], now - 301, body)), body, now),
            Err("timestamp outside the 5-minute tolerance")
        );
        assert_eq!(
            verify(Some(&sign(&[&current], now + 301, body)), body, now),
            Err("timestamp outside the 5-minute tolerance")
        );
        for bad in ["", "t=1", "v1=00", "t=-1,v1=00", "garbage"] {
            assert_eq!(
                verify(Some(bad), body, now),
                Err("malformed X-Pitchbar-Signature header"),
                "{bad}"
            );
        }
        assert_eq!(
            verify(None, body, now),
            Err("missing X-Pitchbar-Signature header")
        );
    }
}
