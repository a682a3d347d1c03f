//! What a connect form's values must be, checked and written one way before anything leaves
//! the app: a store URL that is not https, a subdomain with a dot in it, an empty key are
//! refused here, naming the field.

use std::collections::BTreeMap;

use crate::catalog::ApiKeyField;
use crate::error::{Error, Result};
use crate::secret::Secret;

#[derive(Debug, Clone, Copy)]
pub(crate) enum Format {
    /// A key or token: no spaces, no control characters.
    Token,
    /// The account's name in the provider's domain; a pasted full host with this suffix (or
    /// an address) is accepted and cut down to the name.
    Subdomain(&'static str),
    /// An https:// address (`https://` is added when none is typed; `http://` is refused).
    HttpsUrl,
    /// A numeric id.
    Digits,
    /// A GA4 measurement ID, `G-` and letters and digits.
    MeasurementId,
}

/// A form's values, checked: every value is kept as a [`Secret`] so none prints by accident.
pub(crate) struct Values(pub BTreeMap<String, Secret>);

impl Values {
    /// `template` with each `{key}` replaced by its value, in one pass (a value that looks like
    /// a placeholder stays as typed); `encode` percent-encodes values (for a path or query).
    pub fn fill(&self, template: &str, encode: bool) -> String {
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            match after.find('}').and_then(|close| {
                self.0
                    .get(&after[..close])
                    .map(|value| (close, value.expose()))
            }) {
                Some((close, value)) => {
                    if encode {
                        out.extend(url::form_urlencoded::byte_serialize(value.as_bytes()));
                    } else {
                        out.push_str(value);
                    }
                    rest = &after[close + 1..];
                }
                None => {
                    out.push('{');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// The whole set as JSON, for its one keychain entry.
    pub fn to_secret(&self) -> Secret {
        let plain: BTreeMap<&str, &str> = self
            .0
            .iter()
            .map(|(k, v)| (k.as_str(), v.expose()))
            .collect();
        Secret::new(serde_json::to_string(&plain).unwrap_or_default())
    }
}

/// Checks `raw` against the form `fields` of `name` and their formats: every field present,
/// nothing unknown, each value written the one way the provider's API takes it.
pub(crate) fn check(
    name: &str,
    fields: &[ApiKeyField],
    formats: &[(&str, Format)],
    mut raw: BTreeMap<String, String>,
) -> Result<Values> {
    if let Some(unknown) = raw.keys().find(|k| !fields.iter().any(|f| &f.key == *k)) {
        return Err(Error::invalid(format!(
            "{name} has no field “{unknown}”. Nothing was saved."
        )));
    }
    let mut values = BTreeMap::new();
    for field in fields {
        let value = raw.remove(&field.key).unwrap_or_default();
        let value = value.trim();
        if value.is_empty() {
            return Err(Error::invalid(format!(
                "{} is required. Nothing was saved.",
                field.label
            )));
        }
        let format = formats
            .iter()
            .find(|(k, _)| *k == field.key)
            .map_or(Format::Token, |(_, f)| *f);
        let written = normalize(format, value)
            .map_err(|why| Error::invalid(format!("{} {why} Nothing was saved.", field.label)))?;
        values.insert(field.key.clone(), Secret::new(written));
    }
    Ok(Values(values))
}

fn normalize(format: Format, value: &str) -> std::result::Result<String, String> {
    match format {
        Format::Token => {
            if value.chars().any(|c| c.is_whitespace() || c.is_control()) || value.len() > 1024 {
                return Err("must be pasted as one word, without spaces or line breaks.".into());
            }
            Ok(value.to_owned())
        }
        Format::Digits => {
            if value.len() > 30 || !value.bytes().all(|b| b.is_ascii_digit()) {
                return Err("must be digits only (for example 106540352242922).".into());
            }
            Ok(value.to_owned())
        }
        Format::MeasurementId => {
            let upper = value.to_ascii_uppercase();
            let rest = upper.strip_prefix("G-").unwrap_or("");
            if rest.is_empty()
                || rest.len() > 20
                || !rest.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                return Err(
                    "must look like G-XXXXXXXXXX (Admin > Data streams in Google Analytics)."
                        .into(),
                );
            }
            Ok(upper)
        }
        Format::Subdomain(suffix) => {
            let lower = value.to_ascii_lowercase();
            let host = lower
                .strip_prefix("https://")
                .or_else(|| lower.strip_prefix("http://"))
                .unwrap_or(&lower);
            let host = host.split('/').next().unwrap_or("");
            let name = host.strip_suffix(suffix).unwrap_or(host);
            let ok = !name.is_empty()
                && name.len() <= 63
                && !name.starts_with('-')
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
            if !ok {
                return Err(format!(
                    "must be the name before {suffix}, letters, digits and dashes only (for example yourcompany)."
                ));
            }
            Ok(name.to_owned())
        }
        Format::HttpsUrl => {
            let lower = value.to_ascii_lowercase();
            let with_scheme = if lower.starts_with("https://") {
                value.to_owned()
            } else if lower.contains("://") {
                return Err("must be an https:// address: the credentials are only sent over an encrypted connection.".into());
            } else {
                format!("https://{value}")
            };
            let url = url::Url::parse(&with_scheme).map_err(|_| {
                "is not a web address (for example https://shop.example.com).".to_string()
            })?;
            if url.host_str().is_none_or(str::is_empty)
                || !url.username().is_empty()
                || url.password().is_some()
            {
                return Err("is not a web address (for example https://shop.example.com).".into());
            }
            let mut out = format!("https://{}", url.host_str().unwrap_or_default());
            if let Some(port) = url.port() {
                out.push_str(&format!(":{port}"));
            }
            out.push_str(url.path().trim_end_matches('/'));
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_once() {
        let values = Values(
            [("a", "{b}"), ("b", "x y")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), Secret::new(v)))
                .collect(),
        );
        assert_eq!(values.fill("/{a}/{b}/{c}", false), "/{b}/x y/{c}");
        assert_eq!(values.fill("?q={b}", true), "?q=x+y");
    }

    #[test]
    fn values_are_written_one_way() {
        assert_eq!(
            normalize(
                Format::Subdomain(".freshdesk.com"),
                "https://Acme.freshdesk.com/a"
            )
            .unwrap(),
            "acme"
        );
        assert!(normalize(Format::Subdomain(".freshdesk.com"), "acme.example.com").is_err());
        assert_eq!(
            normalize(Format::HttpsUrl, "shop.example.com/").unwrap(),
            "https://shop.example.com"
        );
        assert_eq!(
            normalize(Format::HttpsUrl, "https://shop.example.com/store/").unwrap(),
            "https://shop.example.com/store"
        );
        assert!(normalize(Format::HttpsUrl, "http://shop.example.com").is_err());
        assert!(normalize(Format::HttpsUrl, "ftp://shop.example.com").is_err());
        assert_eq!(
            normalize(Format::MeasurementId, "g-abc123").unwrap(),
            "G-ABC123"
        );
        assert!(normalize(Format::MeasurementId, "UA-1234-1").is_err());
        assert!(normalize(Format::Token, "two words").is_err());
        assert!(normalize(Format::Digits, "12a").is_err());
    }
}
